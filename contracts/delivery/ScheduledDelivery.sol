// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {MarketAdmin} from "../market/MarketAdmin.sol";
import {SettlementMath} from "../market/SettlementMath.sol";
import {Reputation} from "../market/Reputation.sol";
import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";
import {IndexOracle} from "../oracle/IndexOracle.sol";
import {PullPayments} from "../payments/PullPayments.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {Pricing, PricingMath} from "./Pricing.sol";

/// @title ScheduledDelivery
/// @notice What forward and option contracts share once agreed: a seller's meter owes a buyer a
/// fixed volume in every interval of a window, at a fixed or index-following price, settled
/// interval by interval against the DeliveryLedger exactly like spot fills. The buyer's margin
/// covers the whole window at the price cap, the seller's the penalty on the whole volume.
///
/// Each interval must be committed — its obligation recorded in the ledger — before it starts;
/// anyone may commit (the buyer has every reason to). An interval nobody committed is void: nothing
/// is owed or paid for it. After its end an interval settles once its seller reading (and index
/// value, for a formula price) is in, or at the readings deadline without them: a missing reading
/// is no delivery, an index value not posted by the deadline the base price. When every interval is settled, what is
/// left of both margins is released and the outcome recorded in the reputation.
abstract contract ScheduledDelivery is MarketAdmin, PullPayments {
    using PricingMath for Pricing;
    using SafeCast for uint256;

    enum Status {
        None,
        Proposed,
        Active,
        Closed
    }

    /// @dev One delivery contract. Margins are locked funds; `*Out` is how much of each has been
    /// paid out so far.
    struct Schedule {
        address seller;
        uint64 firstInterval;
        Status status;
        address buyer;
        uint64 lastInterval;
        address sellerMeter;
        uint48 whPerInterval;
        address buyerMeter;
        uint64 penaltyPerKwh;
        uint32 settledIntervals;
        bool shortfall;
        bool anyCommitted;
        uint128 buyerMargin;
        uint128 buyerMarginOut;
        uint128 sellerMargin;
        uint128 sellerMarginOut;
        Pricing pricing;
    }

    /// @dev Per schedule and interval: 0 untouched, COMMITTED, SETTLED.
    uint8 private constant COMMITTED = 1;
    uint8 private constant SETTLED = 2;

    error ScheduledDeliveryZeroAddress();
    error ScheduledDeliveryNotMeterOwner(address account, address meter);
    error ScheduledDeliveryMeterInactive(address meter);
    error ScheduledDeliveryNotActive(uint256 id);
    error ScheduledDeliveryOutsideWindow(uint256 id, uint64 interval);
    error ScheduledDeliveryAlreadyCommitted(uint256 id, uint64 interval);
    error ScheduledDeliveryAlreadySettled(uint256 id, uint64 interval);
    error ScheduledDeliveryIntervalNotEnded(uint64 interval, uint256 endsAt);
    error ScheduledDeliveryReadingMissing(address meter, uint64 interval, uint256 deadline);
    error ScheduledDeliveryIndexMissing(bytes32 indexId, uint64 interval, uint256 deadline);

    event DeliveryCommitted(uint256 indexed id, uint64 indexed interval, uint48 wh);
    event DeliverySettled(
        uint256 indexed id,
        uint64 indexed interval,
        uint48 deliveredWh,
        uint256 pricePerKwh,
        uint256 paid,
        uint256 penalty
    );
    event DeliveryVoided(uint256 indexed id, uint64 indexed interval);
    /// @notice Every interval is settled; what was left of the margins went back to the parties.
    event ScheduleCompleted(uint256 indexed id, uint256 sellerReleased, uint256 buyerReleased);

    DeliveryLedger public immutable ledger;
    IMeterRegistry public immutable registry;
    IndexOracle public immutable oracle;
    Reputation public immutable reputation;
    uint64 public immutable intervalSeconds;
    uint64 public immutable gateClosureSeconds;
    uint64 public immutable settlementDelaySeconds;

    uint256 private _nextId = 1;
    mapping(uint256 id => Schedule) internal _schedules;
    mapping(uint256 id => mapping(uint64 interval => uint8 state)) private _intervalState;

    constructor(
        address admin,
        IERC20 token_,
        DeliveryLedger ledger_,
        IndexOracle oracle_,
        Reputation reputation_,
        uint64 gateClosureSeconds_,
        uint64 penaltyPerKwh_
    ) MarketAdmin(admin, penaltyPerKwh_) PullPayments(token_) {
        if (
            admin == address(0) ||
            address(ledger_) == address(0) ||
            address(oracle_) == address(0) ||
            address(reputation_) == address(0)
        ) revert ScheduledDeliveryZeroAddress();
        ledger = ledger_;
        registry = ledger_.registry();
        oracle = oracle_;
        reputation = reputation_;
        intervalSeconds = ledger_.intervalSeconds();
        settlementDelaySeconds = ledger_.settlementDelaySeconds();
        gateClosureSeconds = gateClosureSeconds_;
    }

    /// @notice Records interval `interval`'s obligation of each active schedule in `ids` in the ledger.
    /// @dev Requirements: not paused; each schedule is active, contains the interval and has not
    /// committed it; the interval has not started (the ledger enforces it). Emits {DeliveryCommitted}.
    function commitDeliveries(uint256[] calldata ids, uint64 interval) external whenNotPaused {
        for (uint256 i = 0; i < ids.length; i++) {
            Schedule storage s = _activeSchedule(ids[i]);
            _requireInWindow(ids[i], s, interval);
            if (_intervalState[ids[i]][interval] != 0)
                revert ScheduledDeliveryAlreadyCommitted(ids[i], interval);
            _intervalState[ids[i]][interval] = COMMITTED;
            s.anyCommitted = true;
            emit DeliveryCommitted(ids[i], interval, s.whPerInterval);
        }
        // Ledger calls only after every state change (checks-effects-interactions).
        for (uint256 i = 0; i < ids.length; i++) {
            Schedule storage s = _schedules[ids[i]];
            ledger.addObligation(s.sellerMeter, interval, s.whPerInterval);
        }
    }

    /// @notice Settles intervals of schedule `id`. Anyone may call it.
    /// @dev Requirements: not paused; the schedule is active; each interval lies in its window, has
    /// ended and is not settled; a committed interval needs the seller's reading and, for a formula
    /// price, the index value, unless the readings deadline has passed. Emits {DeliverySettled} or
    /// {DeliveryVoided} per interval, and {ScheduleCompleted} after the last.
    function settleDeliveries(uint256 id, uint64[] calldata intervals) external whenNotPaused nonReentrant {
        Schedule storage s = _activeSchedule(id);
        for (uint256 i = 0; i < intervals.length; i++) {
            uint64 t = intervals[i];
            _requireInWindow(id, s, t);
            uint256 endsAt = (uint256(t) + 1) * intervalSeconds;
            if (block.timestamp < endsAt) revert ScheduledDeliveryIntervalNotEnded(t, endsAt);
            uint8 state = _intervalState[id][t];
            if (state == SETTLED) revert ScheduledDeliveryAlreadySettled(id, t);
            _intervalState[id][t] = SETTLED;
            s.settledIntervals += 1;
            if (state == COMMITTED) _settleInterval(id, s, t, endsAt);
            else emit DeliveryVoided(id, t);
        }
        if (s.settledIntervals == s.lastInterval - s.firstInterval + 1) _complete(id, s);
    }

    /// @notice Schedule `id` as stored.
    function getSchedule(uint256 id) external view returns (Schedule memory) {
        return _schedules[id];
    }

    /// @notice Interval `interval` of schedule `id`: 0 untouched, 1 committed, 2 settled.
    function intervalState(uint256 id, uint64 interval) external view returns (uint8) {
        return _intervalState[id][interval];
    }

    /// @notice The id the next schedule will get; ids start at 1.
    function nextId() external view returns (uint256) {
        return _nextId;
    }

    /// @dev Stores a new schedule with the current penalty; the caller fills in the parties.
    function _newSchedule(
        uint64 firstInterval,
        uint64 lastInterval,
        uint48 whPerInterval,
        Pricing memory pricing
    ) internal returns (uint256 id, Schedule storage s) {
        id = _nextId++;
        s = _schedules[id];
        s.firstInterval = firstInterval;
        s.lastInterval = lastInterval;
        s.whPerInterval = whPerInterval;
        s.penaltyPerKwh = penaltyPerKwh();
        s.pricing = pricing;
    }

    /// @dev What each side of `s` must lock: the buyer every Wh at the price cap, the seller the
    /// schedule's penalty on every Wh.
    function _margins(Schedule storage s) internal view returns (uint128 buyerMargin, uint128 sellerMargin) {
        uint256 totalWh = uint256(s.lastInterval - s.firstInterval + 1) * s.whPerInterval;
        // Checked casts: a truncated margin would let settlement pay out of other parties' funds.
        buyerMargin = SettlementMath.lockFor(totalWh, s.pricing.cap).toUint128();
        sellerMargin = SettlementMath.lockFor(totalWh, s.penaltyPerKwh).toUint128();
    }

    /// @dev When orders for `interval` close; delivery contracts must be agreed by then.
    function _gateClosure(uint64 interval) internal view returns (uint256) {
        uint256 startsAt = uint256(interval) * intervalSeconds;
        return startsAt > gateClosureSeconds ? startsAt - gateClosureSeconds : 0;
    }

    /// @dev Releases what is left of both margins and closes the schedule.
    function _release(
        uint256 id,
        Schedule storage s
    ) internal returns (uint256 sellerReleased, uint256 buyerReleased) {
        sellerReleased = s.sellerMargin - s.sellerMarginOut;
        buyerReleased = s.buyerMargin - s.buyerMarginOut;
        s.sellerMarginOut = s.sellerMargin;
        s.buyerMarginOut = s.buyerMargin;
        s.status = Status.Closed;
        emit ScheduleCompleted(id, sellerReleased, buyerReleased);
        _credit(s.seller, sellerReleased);
        _credit(s.buyer, buyerReleased);
    }

    /// @dev Parties commit their own meters only, and only active ones.
    function _requireOwnMeter(address meter) internal view {
        if (registry.ownerOf(meter) != msg.sender) revert ScheduledDeliveryNotMeterOwner(msg.sender, meter);
        if (!registry.isActive(meter)) revert ScheduledDeliveryMeterInactive(meter);
    }

    function _activeSchedule(uint256 id) internal view returns (Schedule storage s) {
        s = _schedules[id];
        if (s.status != Status.Active) revert ScheduledDeliveryNotActive(id);
    }

    function _requireInWindow(uint256 id, Schedule storage s, uint64 interval) private view {
        if (interval < s.firstInterval || interval > s.lastInterval)
            revert ScheduledDeliveryOutsideWindow(id, interval);
    }

    function _settleInterval(uint256 id, Schedule storage s, uint64 t, uint256 endsAt) private {
        uint256 deadline = endsAt + settlementDelaySeconds;
        (bool recorded, uint64 exported, , uint64 obligation) = ledger.delivery(s.sellerMeter, t);
        if (!recorded) {
            if (block.timestamp < deadline)
                revert ScheduledDeliveryReadingMissing(s.sellerMeter, t, deadline);
            exported = 0;
        }
        uint256 price = _priceFor(s.pricing, t, deadline);
        uint256 delivered = SettlementMath.deliveredShare(s.whPerInterval, exported, obligation);
        uint256 paid = SettlementMath.value(delivered, price);
        uint256 penalty = SettlementMath.value(s.whPerInterval - delivered, s.penaltyPerKwh);

        // Casts: paid ≤ buyerMargin and penalty ≤ sellerMargin (both uint128) by construction of the margins.
        s.buyerMarginOut += uint128(paid);
        s.sellerMarginOut += uint128(penalty);
        if (delivered < s.whPerInterval) s.shortfall = true;
        emit DeliverySettled(id, t, uint48(delivered), price, paid, penalty);
        _credit(s.seller, paid);
        _credit(s.buyer, penalty);
    }

    /// @dev Only a value posted before the deadline counts (as for readings), so the price does not depend on when the
    /// interval happens to be settled.
    function _priceFor(Pricing storage p, uint64 t, uint256 deadline) private view returns (uint256) {
        if (p.indexId == bytes32(0)) return p.basePrice;
        (bool posted, int128 value, uint64 postedAt) = oracle.valueAt(p.indexId, t);
        if (posted && postedAt < deadline) return p.priceAt(value);
        if (block.timestamp < deadline) revert ScheduledDeliveryIndexMissing(p.indexId, t, deadline);
        return p.basePrice;
    }

    function _complete(uint256 id, Schedule storage s) private {
        _release(id, s);
        // A schedule of which nothing was ever owed is no trade: it must not build a reputation.
        if (!s.anyCommitted) return;
        address[] memory accounts = new address[](2);
        Reputation.Outcome[] memory outcomes = new Reputation.Outcome[](2);
        accounts[0] = s.seller;
        outcomes[0] = s.shortfall ? Reputation.Outcome.FellShort : Reputation.Outcome.Delivered;
        accounts[1] = s.buyer;
        outcomes[1] = Reputation.Outcome.Bought;
        reputation.recordOutcomes(accounts, outcomes);
    }
}
