// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";
import {PullPayments} from "../payments/PullPayments.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MarketAdmin} from "./MarketAdmin.sol";
import {OrderBook} from "./OrderBook.sol";
import {Reputation} from "./Reputation.sol";
import {SettlementMath} from "./SettlementMath.sol";

/// @title EnergyMarket
/// @notice The spot market: per-interval order books of sell offers and buy bids (OrderBook), a
/// uniform-price clearing submitted by the matcher before the interval starts and checked against
/// every order's limits, and settlement from the meters' signed readings in the DeliveryLedger.
///
/// Money flow. A buyer escrows the worst-case cost of its bid; a seller posts collateral of
/// `penaltyPerKwh` for every Wh offered. At settlement a seller is paid the clearing price for what
/// it delivered (its shortfall spread pro rata over its fills), the buyer gets the rest back plus
/// the penalty for the shortfall out of the seller's collateral, and whatever an order did not use
/// is released. All payouts are credited to pull-based balances, withdrawable at any time.
///
/// Time (ARCHITECTURE §4). Interval t runs from t × intervalSeconds for intervalSeconds. Orders
/// for t can be placed and cancelled until gate closure, gateClosureSeconds before it starts;
/// clearing batches are accepted between gate closure and the start; settlement opens at its end
/// once the sellers' readings are in, and `settlementDelaySeconds` after the end without them
/// (missing readings then count as zero delivery).
contract EnergyMarket is OrderBook {
    using SafeCast for uint256;

    /// @notice The gateway account that submits clearings.
    bytes32 public constant MATCHER_ROLE = keccak256("MATCHER_ROLE");

    /// @notice One fill of a clearing: `wh` sold by offer `offerId` to bid `bidId`.
    struct Fill {
        uint64 offerId;
        uint64 bidId;
        uint48 wh;
    }

    /// @dev The seller side of a run of fills of one offer during settlement.
    struct SellerDelivery {
        uint256 offerId;
        uint256 exportedWh;
        uint256 obligationWh;
    }

    /// @dev A clearing batch's volume per seller meter, for the ledger's obligations.
    struct SellerRuns {
        address[] meters;
        uint256[] wh;
        uint256 count;
    }

    /// @dev Orders completed during one settlement call, for one reputation update at its end.
    struct Outcomes {
        address[] accounts;
        Reputation.Outcome[] kinds;
        uint256 count;
    }

    struct Clearing {
        uint96 price;
        uint32 batches;
        bool finalized;
    }

    error EnergyMarketZeroAddress();
    error EnergyMarketInvalidTiming(uint256 intervalSeconds, uint256 gateClosureSeconds);
    error EnergyMarketGateOpen(uint64 interval, uint256 closesAt);
    error EnergyMarketClearingClosed(uint64 interval, uint256 startedAt);
    error EnergyMarketAlreadyCleared(uint64 interval);
    error EnergyMarketClearingPriceMismatch(uint64 interval, uint256 price, uint256 clearedPrice);
    error EnergyMarketEmptyBatch();
    error EnergyMarketFillsNotSorted(uint256 index);
    error EnergyMarketSelfTrade(uint256 offerId, uint256 bidId);
    error EnergyMarketFillBelowOfferPrice(uint256 offerId, uint256 price, uint256 minPrice);
    error EnergyMarketFillAboveBidPrice(uint256 bidId, uint256 price, uint256 maxPrice);
    error EnergyMarketFillExceedsVolume(uint256 orderId, uint256 requestedWh, uint256 remainingWh);
    error EnergyMarketUnknownBatch(uint64 interval, uint256 batch);
    error EnergyMarketBatchMismatch(uint64 interval, uint256 batch);
    error EnergyMarketBatchAlreadySettled(uint64 interval, uint256 batch);
    error EnergyMarketIntervalNotEnded(uint64 interval, uint256 endsAt);
    error EnergyMarketReadingMissing(address meter, uint64 interval, uint256 deadline);

    /// @notice A clearing batch: its fills in full (one event per batch costs far less gas than one
    /// per fill) and the hash settlement will check them against.
    event ClearingBatchSubmitted(
        uint64 indexed interval,
        uint32 indexed batch,
        uint96 price,
        bytes32 fillsHash,
        Fill[] fills
    );
    event ClearingFinalized(uint64 indexed interval, uint96 price, uint32 batches);
    event FillSettled(
        uint64 indexed interval,
        uint64 indexed offerId,
        uint64 indexed bidId,
        uint48 deliveredWh,
        uint256 paid,
        uint256 penalty
    );
    event BatchSettled(uint64 indexed interval, uint32 indexed batch);

    /// @dev A settled batch's hash is replaced by this, which no keccak256 output is in practice.
    bytes32 private constant SETTLED = bytes32(uint256(1));

    IMeterRegistry public immutable registry;
    DeliveryLedger public immutable ledger;
    Reputation public immutable reputation;
    uint64 public immutable intervalSeconds;
    uint64 public immutable gateClosureSeconds;
    uint64 public immutable settlementDelaySeconds;

    mapping(uint64 interval => Clearing) private _clearings;
    mapping(uint64 interval => mapping(uint256 batch => bytes32 fillsHash)) private _batches;

    /// @param admin receives DEFAULT_ADMIN_ROLE: grants roles, sets the penalty, pauses.
    /// @param token_ the ERC-20 payment token.
    /// @param ledger_ the delivery ledger; its interval length, readings deadline and registry are the market's.
    /// @param reputation_ where settled trades are recorded (the market needs RECORDER_ROLE there).
    /// @param gateClosureSeconds_ how long before an interval starts its orders close.
    /// @param penaltyPerKwh_ initial seller penalty per kWh not delivered, in token base units.
    constructor(
        address admin,
        IERC20 token_,
        DeliveryLedger ledger_,
        Reputation reputation_,
        uint64 gateClosureSeconds_,
        uint64 penaltyPerKwh_
    ) MarketAdmin(admin, penaltyPerKwh_) PullPayments(token_) {
        if (admin == address(0) || address(ledger_) == address(0) || address(reputation_) == address(0))
            revert EnergyMarketZeroAddress();
        uint64 intervalSeconds_ = ledger_.intervalSeconds();
        if (gateClosureSeconds_ >= intervalSeconds_) {
            revert EnergyMarketInvalidTiming(intervalSeconds_, gateClosureSeconds_);
        }
        ledger = ledger_;
        registry = ledger_.registry();
        reputation = reputation_;
        intervalSeconds = intervalSeconds_;
        gateClosureSeconds = gateClosureSeconds_;
        settlementDelaySeconds = ledger_.settlementDelaySeconds();
    }

    // -------------------------------------------------------------- clearing

    /// @notice Submits one batch of interval `interval`'s uniform-price clearing at `price`.
    /// Large clearings are split over several batches; `isFinal` closes the clearing early
    /// (otherwise it closes when the interval starts).
    /// @dev Requirements: caller has MATCHER_ROLE; not paused; between gate closure and the
    /// interval's start; clearing not finalized; `price` equals the first batch's; fills non-empty
    /// and sorted by offer id; every fill positive, between two open orders of this interval on the
    /// right sides and of different owners, with the offer's minimum ≤ price ≤ the bid's maximum,
    /// and within both orders' remaining volume. Emits {ClearingBatchSubmitted}, and
    /// {ClearingFinalized} when final.
    function submitClearing(
        uint64 interval,
        uint96 price,
        Fill[] calldata fills,
        bool isFinal
    ) external onlyRole(MATCHER_ROLE) whenNotPaused {
        uint256 startsAt = uint256(interval) * intervalSeconds;
        if (block.timestamp >= startsAt) revert EnergyMarketClearingClosed(interval, startsAt);
        uint256 closesAt = _gateClosure(interval);
        if (block.timestamp < closesAt) revert EnergyMarketGateOpen(interval, closesAt);
        Clearing storage c = _clearings[interval];
        if (c.finalized) revert EnergyMarketAlreadyCleared(interval);
        if (c.batches == 0) {
            if (price == 0) revert EnergyMarketPriceOutOfRange(price);
            c.price = price;
        } else if (price != c.price) {
            revert EnergyMarketClearingPriceMismatch(interval, price, c.price);
        }
        if (fills.length == 0) revert EnergyMarketEmptyBatch();

        // Obligations are recorded once per run of fills of one offer, not once per fill, and only
        // after every state change of the batch (checks-effects-interactions).
        SellerRuns memory runs = _applyFills(interval, price, fills);

        uint32 batch = c.batches;
        bytes32 fillsHash = keccak256(abi.encode(fills));
        _batches[interval][batch] = fillsHash;
        c.batches = batch + 1;
        emit ClearingBatchSubmitted(interval, batch, price, fillsHash, fills);
        if (isFinal) {
            c.finalized = true;
            emit ClearingFinalized(interval, price, batch + 1);
        }
        // Each run's Wh ≤ its offer's maxWh, a uint48, so the cast is safe.
        for (uint256 r = 0; r < runs.count; r++)
            ledger.addObligation(runs.meters[r], interval, uint64(runs.wh[r]));
    }

    // ------------------------------------------------------------ settlement

    /// @notice Settles one clearing batch against the sellers' readings. Anyone may call it; the
    /// fills must be the batch's exactly as submitted.
    /// @dev Requirements: not paused; the interval has ended; the batch exists, matches and is not
    /// settled; every seller's reading for the interval is recorded, or the settlement deadline
    /// has passed (missing readings then count as zero delivery). Emits {FillSettled} per fill,
    /// {OrderReleased} as orders complete, and {BatchSettled}.
    function settleBatch(
        uint64 interval,
        uint32 batch,
        Fill[] calldata fills
    ) external whenNotPaused nonReentrant {
        uint256 endsAt = (uint256(interval) + 1) * intervalSeconds;
        if (block.timestamp < endsAt) revert EnergyMarketIntervalNotEnded(interval, endsAt);
        Clearing storage c = _clearings[interval];
        if (batch >= c.batches) revert EnergyMarketUnknownBatch(interval, batch);
        bytes32 stored = _batches[interval][batch];
        if (stored == SETTLED) revert EnergyMarketBatchAlreadySettled(interval, batch);
        if (keccak256(abi.encode(fills)) != stored) revert EnergyMarketBatchMismatch(interval, batch);
        _batches[interval][batch] = SETTLED;

        // Every order completes at most once, so a batch completes at most two orders per fill.
        Outcomes memory outcomes = Outcomes(
            new address[](2 * fills.length),
            new Reputation.Outcome[](2 * fills.length),
            0
        );
        SellerDelivery memory seller;
        for (uint256 i = 0; i < fills.length; i++) {
            Fill calldata f = fills[i];
            if (f.offerId != seller.offerId) {
                seller = _sellerDelivery(f.offerId, interval, endsAt);
            }
            _settleFill(interval, c.price, f, seller, outcomes);
        }
        emit BatchSettled(interval, batch);
        if (outcomes.count != 0) {
            address[] memory accounts = outcomes.accounts;
            Reputation.Outcome[] memory kinds = outcomes.kinds;
            uint256 count = outcomes.count;
            // Trim both arrays to the outcomes actually recorded; memory-safe, it only shortens them.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                mstore(accounts, count)
                mstore(kinds, count)
            }
            reputation.recordOutcomes(accounts, kinds);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice Interval `interval`'s clearing: price, number of batches, whether finalized.
    function getClearing(uint64 interval) external view returns (Clearing memory) {
        return _clearings[interval];
    }

    /// @notice The stored hash of a clearing batch's fills (bytes32(1) once settled).
    function batchHash(uint64 interval, uint256 batch) external view returns (bytes32) {
        return _batches[interval][batch];
    }

    /// @notice The interval containing `timestamp`.
    function intervalAt(uint256 timestamp) external view returns (uint64) {
        return (timestamp / intervalSeconds).toUint64();
    }

    // --------------------------------------------------------------- internal

    function _registry() internal view override returns (IMeterRegistry) {
        return registry;
    }

    function _intervalSeconds() internal view override returns (uint64) {
        return intervalSeconds;
    }

    function _gateClosureSeconds() internal view override returns (uint64) {
        return gateClosureSeconds;
    }

    // --------------------------------------------------------------- internal

    /// @dev Applies a batch's fills, which must be sorted by offer id, and sums them per run of
    /// one offer (one seller meter).
    function _applyFills(
        uint64 interval,
        uint96 price,
        Fill[] calldata fills
    ) private returns (SellerRuns memory runs) {
        runs = SellerRuns(new address[](fills.length), new uint256[](fills.length), 0);
        uint256 runOfferId = 0;
        for (uint256 i = 0; i < fills.length; i++) {
            Fill calldata f = fills[i];
            if (f.offerId != runOfferId) {
                if (f.offerId < runOfferId) revert EnergyMarketFillsNotSorted(i);
                runOfferId = f.offerId;
                runs.count += 1;
            }
            runs.meters[runs.count - 1] = _applyFill(interval, price, f);
            runs.wh[runs.count - 1] += f.wh;
        }
    }

    /// @dev Checks fill `f` against both orders and adds it to their filled volume; returns the
    /// seller's meter.
    function _applyFill(
        uint64 interval,
        uint96 price,
        Fill calldata f
    ) private returns (address sellerMeter) {
        if (f.wh == 0) revert EnergyMarketZeroAmount();
        Order storage offer = _openOrder(f.offerId, Side.Offer, interval);
        Order storage bid = _openOrder(f.bidId, Side.Bid, interval);
        if (offer.owner == bid.owner) revert EnergyMarketSelfTrade(f.offerId, f.bidId);
        if (price < offer.limitPrice)
            revert EnergyMarketFillBelowOfferPrice(f.offerId, price, offer.limitPrice);
        if (price > bid.limitPrice) revert EnergyMarketFillAboveBidPrice(f.bidId, price, bid.limitPrice);
        _addFilled(f.offerId, offer, f.wh);
        _addFilled(f.bidId, bid, f.wh);
        return offer.meter;
    }

    function _addFilled(uint256 orderId, Order storage o, uint48 wh) private {
        uint256 remaining = o.maxWh - o.filledWh;
        if (wh > remaining) revert EnergyMarketFillExceedsVolume(orderId, wh, remaining);
        // unchecked: wh ≤ maxWh − filledWh, so the sum stays ≤ maxWh.
        unchecked {
            o.filledWh += wh;
        }
    }

    /// @dev The seller meter's export and total obligation in `interval`; a reading still missing
    /// at the deadline counts as no export at all.
    function _sellerDelivery(
        uint256 offerId,
        uint64 interval,
        uint256 endsAt
    ) private view returns (SellerDelivery memory seller) {
        address meter = _orders[offerId].meter;
        (bool recorded, uint64 exported, , uint64 obligation) = ledger.delivery(meter, interval);
        if (!recorded) {
            uint256 deadline = endsAt + settlementDelaySeconds;
            if (block.timestamp < deadline) revert EnergyMarketReadingMissing(meter, interval, deadline);
            exported = 0;
        }
        return SellerDelivery(offerId, exported, obligation);
    }

    /// @dev Pays the seller for what it delivered of fill `f`, charges the buyer that, pays the
    /// buyer the penalty for the rest, and releases orders whose every fill is now settled,
    /// noting their outcome for the reputation record.
    function _settleFill(
        uint64 interval,
        uint256 price,
        Fill calldata f,
        SellerDelivery memory seller,
        Outcomes memory outcomes
    ) private {
        Order storage offer = _orders[f.offerId];
        Order storage bid = _orders[f.bidId];
        uint256 delivered = SettlementMath.deliveredShare(f.wh, seller.exportedWh, seller.obligationWh);
        uint256 paid = SettlementMath.value(delivered, price);
        uint256 penalty = SettlementMath.value(f.wh - delivered, offer.penaltyPerKwh);

        // The casts are safe: delivered ≤ wh (uint48), paid ≤ the bid's escrow and penalty ≤ the
        // offer's collateral, both uint128.
        offer.settledWh += f.wh;
        offer.deliveredWh += uint48(delivered);
        if (penalty != 0) offer.depositOut += uint128(penalty);
        bid.settledWh += f.wh;
        bid.depositOut += uint128(paid);
        _credit(offer.owner, paid);
        _credit(bid.owner, penalty);
        emit FillSettled(interval, f.offerId, f.bidId, uint48(delivered), paid, penalty);
        if (offer.settledWh == offer.filledWh) {
            _closeAndRelease(f.offerId, offer);
            _noteOutcome(
                outcomes,
                offer.owner,
                offer.deliveredWh == offer.filledWh
                    ? Reputation.Outcome.Delivered
                    : Reputation.Outcome.FellShort
            );
        }
        if (bid.settledWh == bid.filledWh) {
            _closeAndRelease(f.bidId, bid);
            _noteOutcome(outcomes, bid.owner, Reputation.Outcome.Bought);
        }
    }

    function _noteOutcome(Outcomes memory outcomes, address account, Reputation.Outcome kind) private pure {
        outcomes.accounts[outcomes.count] = account;
        outcomes.kinds[outcomes.count] = kind;
        outcomes.count += 1;
    }
}
