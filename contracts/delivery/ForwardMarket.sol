// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {Reputation} from "../market/Reputation.sol";
import {IndexOracle} from "../oracle/IndexOracle.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {Pricing, PricingMath} from "./Pricing.sol";
import {ScheduledDelivery} from "./ScheduledDelivery.sol";

/// @title ForwardMarket
/// @notice Bilateral forward contracts (seed 001): one party proposes to buy or sell a volume per
/// interval over a future window at a fixed or index-following price, posting its margin; a
/// counterparty (a named one, or anyone) accepts before the window's first gate closure, posting
/// its own. From then on the contract is settled interval by interval like spot fills
/// (see {ScheduledDelivery}).
contract ForwardMarket is ScheduledDelivery {
    using SafeERC20 for IERC20;
    using PricingMath for Pricing;

    /// @notice The longest window one forward may span, in intervals (a month of quarter hours).
    uint64 public constant MAX_WINDOW_INTERVALS = 2_976;

    /// @notice What a proposal asks for.
    struct Terms {
        uint64 firstInterval;
        uint64 lastInterval;
        uint48 whPerInterval;
        Pricing pricing;
    }

    error ForwardMarketInvalidTerms(uint64 firstInterval, uint64 lastInterval, uint48 whPerInterval);
    error ForwardMarketTooLate(uint64 firstInterval, uint256 gateClosure);
    error ForwardMarketNotProposed(uint256 id);
    error ForwardMarketNotCounterparty(uint256 id, address account, address counterparty);
    error ForwardMarketSelfAccept(uint256 id);
    error ForwardMarketInvalidCounterparty(address counterparty);
    error ForwardMarketNotProposer(uint256 id, address account);

    event ForwardProposed(
        uint256 indexed id,
        address indexed proposer,
        bool proposerSells,
        address meter,
        address counterparty,
        Terms terms,
        uint64 penaltyPerKwh,
        uint128 margin
    );
    event ForwardAccepted(uint256 indexed id, address indexed acceptor, address meter, uint128 margin);
    event ForwardCancelled(uint256 indexed id);

    /// @dev Who may accept each proposal; zero for anyone.
    mapping(uint256 id => address counterparty) private _counterparties;

    /// @param admin receives DEFAULT_ADMIN_ROLE: sets the penalty, pauses.
    /// @param token_ the ERC-20 payment token.
    /// @param ledger_ the delivery ledger shared with the spot market (this contract needs OBLIGATION_ROLE).
    /// @param oracle_ the index oracle formula prices follow.
    /// @param reputation_ the reputation record (this contract needs RECORDER_ROLE).
    /// @param gateClosureSeconds_ the spot market's gate closure: forwards must be agreed before it.
    /// @param penaltyPerKwh_ seller penalty per kWh not delivered, in token base units.
    constructor(
        address admin,
        IERC20 token_,
        DeliveryLedger ledger_,
        IndexOracle oracle_,
        Reputation reputation_,
        uint64 gateClosureSeconds_,
        uint64 penaltyPerKwh_
    ) ScheduledDelivery(admin, token_, ledger_, oracle_, reputation_, gateClosureSeconds_, penaltyPerKwh_) {}

    /// @notice Proposes a forward. The caller is the seller when `proposerSells`, the buyer
    /// otherwise, with `meter` its meter; `counterparty` may be zero to let anyone accept.
    /// @dev Requirements: not paused; caller owns `meter`, which is active; `counterparty` is not
    /// the caller; 1 ≤ window ≤ MAX_WINDOW_INTERVALS, whPerInterval > 0; valid pricing; the window's first gate closure is
    /// still ahead; the caller approved its margin (seller: penalty on all Wh; buyer: all Wh at
    /// the cap). Emits {ForwardProposed}.
    /// @return id the proposal's id.
    function propose(
        Terms calldata terms,
        bool proposerSells,
        address meter,
        address counterparty
    ) external whenNotPaused nonReentrant returns (uint256 id) {
        if (
            terms.whPerInterval == 0 ||
            terms.lastInterval < terms.firstInterval ||
            terms.lastInterval - terms.firstInterval >= MAX_WINDOW_INTERVALS
        ) revert ForwardMarketInvalidTerms(terms.firstInterval, terms.lastInterval, terms.whPerInterval);
        PricingMath.validate(terms.pricing);
        _requireBeforeWindow(terms.firstInterval);
        _requireOwnMeter(meter);
        // A proposal to oneself could never be accepted and would only lock the margin.
        if (counterparty == msg.sender) revert ForwardMarketInvalidCounterparty(counterparty);

        Schedule storage s;
        (id, s) = _newSchedule(terms.firstInterval, terms.lastInterval, terms.whPerInterval, terms.pricing);
        (uint128 buyerMargin, uint128 sellerMargin) = _margins(s);
        uint128 margin;
        if (proposerSells) {
            (s.seller, s.sellerMeter, s.sellerMargin, margin) = (
                msg.sender,
                meter,
                sellerMargin,
                sellerMargin
            );
        } else {
            (s.buyer, s.buyerMeter, s.buyerMargin, margin) = (msg.sender, meter, buyerMargin, buyerMargin);
        }
        s.status = Status.Proposed;
        _counterparties[id] = counterparty;
        emit ForwardProposed(
            id,
            msg.sender,
            proposerSells,
            meter,
            counterparty,
            terms,
            s.penaltyPerKwh,
            margin
        );
        token.safeTransferFrom(msg.sender, address(this), margin);
    }

    /// @notice Accepts proposal `id` with the caller's `meter`, posting the other side's margin.
    /// @dev Requirements: not paused; the proposal is open; the caller is its counterparty (or it
    /// has none) and not its proposer; caller owns `meter`, which is active; the first gate closure
    /// is still ahead; the margin is approved. Emits {ForwardAccepted}.
    function accept(uint256 id, address meter) external whenNotPaused nonReentrant {
        Schedule storage s = _schedules[id];
        if (s.status != Status.Proposed) revert ForwardMarketNotProposed(id);
        address counterparty = _counterparties[id];
        if (counterparty != address(0) && counterparty != msg.sender) {
            revert ForwardMarketNotCounterparty(id, msg.sender, counterparty);
        }
        if (msg.sender == s.seller || msg.sender == s.buyer) revert ForwardMarketSelfAccept(id);
        _requireBeforeWindow(s.firstInterval);
        _requireOwnMeter(meter);

        (uint128 buyerMargin, uint128 sellerMargin) = _margins(s);
        uint128 margin;
        if (s.seller == address(0)) {
            (s.seller, s.sellerMeter, s.sellerMargin, margin) = (
                msg.sender,
                meter,
                sellerMargin,
                sellerMargin
            );
        } else {
            (s.buyer, s.buyerMeter, s.buyerMargin, margin) = (msg.sender, meter, buyerMargin, buyerMargin);
        }
        s.status = Status.Active;
        emit ForwardAccepted(id, msg.sender, meter, margin);
        token.safeTransferFrom(msg.sender, address(this), margin);
    }

    /// @notice Withdraws an unaccepted proposal; the proposer's margin is credited back.
    /// @dev Requirements: the proposal is open and the caller proposed it. Emits {ForwardCancelled}
    /// and {ScheduleCompleted}.
    function cancelProposal(uint256 id) external nonReentrant {
        Schedule storage s = _schedules[id];
        if (s.status != Status.Proposed) revert ForwardMarketNotProposed(id);
        if (msg.sender != s.seller && msg.sender != s.buyer) revert ForwardMarketNotProposer(id, msg.sender);
        emit ForwardCancelled(id);
        _release(id, s);
    }

    /// @notice Who may accept proposal `id` (zero: anyone).
    function counterpartyOf(uint256 id) external view returns (address) {
        return _counterparties[id];
    }

    function _requireBeforeWindow(uint64 firstInterval) private view {
        uint256 closesAt = _gateClosure(firstInterval);
        if (block.timestamp >= closesAt) revert ForwardMarketTooLate(firstInterval, closesAt);
    }
}
