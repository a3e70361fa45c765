// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {Reputation} from "../market/Reputation.sol";
import {IndexOracle} from "../oracle/IndexOracle.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {Pricing} from "./Pricing.sol";
import {ScheduledDelivery} from "./ScheduledDelivery.sol";

/// @title OptionMarket
/// @notice Call options on future energy (seed 001): a writer offers the right to buy a volume per
/// interval over a future window at a strike, for a premium, locking the penalty collateral on the
/// whole volume. A buyer pays the premium (straight to the writer's balance) and may exercise until
/// the exercise deadline by escrowing the strike cost, which turns the option into a delivery
/// obligation settled like a forward. An option not exercised by then expires: the writer keeps
/// the premium and gets the collateral back.
contract OptionMarket is ScheduledDelivery {
    using SafeERC20 for IERC20;

    /// @notice The longest window one option may span, in intervals.
    uint64 public constant MAX_WINDOW_INTERVALS = 2_976;

    /// @dev Only ever calldata, so its packing costs nothing.
    // solhint-disable-next-line gas-struct-packing
    struct OptionTerms {
        uint64 firstInterval;
        uint64 lastInterval;
        uint48 whPerInterval;
        uint96 strikePerKwh;
        uint128 premium;
        uint64 exerciseDeadline;
    }

    /// @dev The option-only part of a schedule; the schedule itself stays Proposed until exercise.
    struct Option {
        uint128 premium;
        uint64 exerciseDeadline;
        address holder;
    }

    error OptionMarketInvalidTerms(
        uint64 firstInterval,
        uint64 lastInterval,
        uint48 whPerInterval,
        uint96 strike
    );
    error OptionMarketInvalidDeadline(uint64 exerciseDeadline, uint256 firstGateClosure);
    error OptionMarketNotOpen(uint256 id);
    error OptionMarketAlreadySold(uint256 id, address holder);
    error OptionMarketNotSold(uint256 id);
    error OptionMarketNotHolder(uint256 id, address account);
    error OptionMarketNotWriter(uint256 id, address account);
    error OptionMarketSelfPurchase(uint256 id);
    error OptionMarketExerciseClosed(uint256 id, uint64 exerciseDeadline);
    error OptionMarketNotExpired(uint256 id, uint64 exerciseDeadline);

    event OptionWritten(
        uint256 indexed id,
        address indexed writer,
        address meter,
        OptionTerms terms,
        uint64 penaltyPerKwh,
        uint128 collateral
    );
    event OptionBought(uint256 indexed id, address indexed holder, uint128 premium);
    event OptionExercised(uint256 indexed id, address indexed holder, address meter, uint128 escrow);
    event OptionExpired(uint256 indexed id, bool sold);
    event OptionCancelled(uint256 indexed id);

    mapping(uint256 id => Option) private _options;

    /// @param admin receives DEFAULT_ADMIN_ROLE: sets the penalty, pauses.
    /// @param token_ the ERC-20 payment token.
    /// @param ledger_ the delivery ledger (this contract needs OBLIGATION_ROLE).
    /// @param oracle_ the index oracle (unused by options, whose price is the strike; kept for the shared base).
    /// @param reputation_ the reputation record (this contract needs RECORDER_ROLE).
    /// @param gateClosureSeconds_ the spot market's gate closure: exercise must end before it.
    /// @param penaltyPerKwh_ writer penalty per kWh not delivered, in token base units.
    constructor(
        address admin,
        IERC20 token_,
        DeliveryLedger ledger_,
        IndexOracle oracle_,
        Reputation reputation_,
        uint64 gateClosureSeconds_,
        uint64 penaltyPerKwh_
    ) ScheduledDelivery(admin, token_, ledger_, oracle_, reputation_, gateClosureSeconds_, penaltyPerKwh_) {}

    /// @notice Writes an option on the caller's `meter`, locking the penalty collateral on its volume.
    /// @dev Requirements: not paused; caller owns `meter`, which is active; 1 ≤ window ≤
    /// MAX_WINDOW_INTERVALS; whPerInterval and strike > 0; now < exerciseDeadline ≤ the window's first
    /// gate closure; collateral approved. Emits {OptionWritten}.
    /// @return id the option's id.
    function write(
        OptionTerms calldata terms,
        address meter
    ) external whenNotPaused nonReentrant returns (uint256 id) {
        if (
            terms.whPerInterval == 0 ||
            terms.strikePerKwh == 0 ||
            terms.lastInterval < terms.firstInterval ||
            terms.lastInterval - terms.firstInterval >= MAX_WINDOW_INTERVALS
        ) {
            revert OptionMarketInvalidTerms(
                terms.firstInterval,
                terms.lastInterval,
                terms.whPerInterval,
                terms.strikePerKwh
            );
        }
        uint256 firstGateClosure = _gateClosure(terms.firstInterval);
        if (terms.exerciseDeadline <= block.timestamp || terms.exerciseDeadline > firstGateClosure) {
            revert OptionMarketInvalidDeadline(terms.exerciseDeadline, firstGateClosure);
        }
        _requireOwnMeter(meter);

        Pricing memory strike = Pricing(terms.strikePerKwh, 0, 0, terms.strikePerKwh, terms.strikePerKwh, 0);
        Schedule storage s;
        (id, s) = _newSchedule(terms.firstInterval, terms.lastInterval, terms.whPerInterval, strike);
        (, uint128 collateral) = _margins(s);
        s.seller = msg.sender;
        s.sellerMeter = meter;
        s.sellerMargin = collateral;
        s.status = Status.Proposed;
        _options[id] = Option(terms.premium, terms.exerciseDeadline, address(0));
        emit OptionWritten(id, msg.sender, meter, terms, s.penaltyPerKwh, collateral);
        token.safeTransferFrom(msg.sender, address(this), collateral);
    }

    /// @notice Buys option `id`, paying its premium to the writer.
    /// @dev Requirements: not paused; the option is open, unsold and before its exercise deadline;
    /// the caller is not its writer; premium approved. Emits {OptionBought}.
    function buy(uint256 id) external whenNotPaused nonReentrant {
        Schedule storage s = _openOption(id);
        Option storage o = _options[id];
        if (o.holder != address(0)) revert OptionMarketAlreadySold(id, o.holder);
        if (msg.sender == s.seller) revert OptionMarketSelfPurchase(id);
        if (block.timestamp >= o.exerciseDeadline) revert OptionMarketExerciseClosed(id, o.exerciseDeadline);
        o.holder = msg.sender;
        emit OptionBought(id, msg.sender, o.premium);
        _credit(s.seller, o.premium);
        token.safeTransferFrom(msg.sender, address(this), o.premium);
    }

    /// @notice Exercises option `id` for the caller's `meter`, escrowing the strike cost of the
    /// whole volume; from now on it is a delivery obligation settled interval by interval.
    /// @dev Requirements: not paused; caller holds the option; before the exercise deadline;
    /// caller owns `meter`, which is active; escrow approved. Emits {OptionExercised}.
    function exercise(uint256 id, address meter) external whenNotPaused nonReentrant {
        Schedule storage s = _openOption(id);
        Option storage o = _options[id];
        if (o.holder != msg.sender) revert OptionMarketNotHolder(id, msg.sender);
        if (block.timestamp >= o.exerciseDeadline) revert OptionMarketExerciseClosed(id, o.exerciseDeadline);
        _requireOwnMeter(meter);
        (uint128 escrow, ) = _margins(s);
        s.buyer = msg.sender;
        s.buyerMeter = meter;
        s.buyerMargin = escrow;
        s.status = Status.Active;
        emit OptionExercised(id, msg.sender, meter, escrow);
        token.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @notice Lets option `id` expire unexercised: the writer's collateral is credited back (it
    /// keeps any premium). Anyone may call it.
    /// @dev Requirements: the option is open and its exercise deadline has passed. Emits
    /// {OptionExpired} and {ScheduleCompleted}.
    function expire(uint256 id) external nonReentrant {
        Schedule storage s = _openOption(id);
        Option storage o = _options[id];
        if (block.timestamp < o.exerciseDeadline) revert OptionMarketNotExpired(id, o.exerciseDeadline);
        emit OptionExpired(id, o.holder != address(0));
        _release(id, s);
    }

    /// @notice Withdraws an option nobody has bought; the collateral is credited back.
    /// @dev Requirements: the caller wrote it; it is open and unsold. Emits {OptionCancelled} and
    /// {ScheduleCompleted}.
    function cancel(uint256 id) external nonReentrant {
        Schedule storage s = _openOption(id);
        if (msg.sender != s.seller) revert OptionMarketNotWriter(id, msg.sender);
        address holder = _options[id].holder;
        if (holder != address(0)) revert OptionMarketAlreadySold(id, holder);
        emit OptionCancelled(id);
        _release(id, s);
    }

    /// @notice The option part of `id`: premium, exercise deadline and holder (zero if unsold).
    function getOption(uint256 id) external view returns (Option memory) {
        return _options[id];
    }

    function _openOption(uint256 id) private view returns (Schedule storage s) {
        s = _schedules[id];
        if (s.status != Status.Proposed) revert OptionMarketNotOpen(id);
    }
}
