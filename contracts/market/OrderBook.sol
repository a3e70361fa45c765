// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";
import {PullPayments} from "../payments/PullPayments.sol";
import {MarketAdmin} from "./MarketAdmin.sol";
import {MarketDelegation} from "./MarketDelegation.sol";
import {SettlementMath} from "./SettlementMath.sol";

/// @title OrderBook
/// @notice The spot market's order side (see EnergyMarket): sell offers with collateral and buy
/// bids with escrow per interval, placed by owners or their delegates until gate closure,
/// cancelled until then, and released when they end. Errors keep the EnergyMarket prefix: this is
/// that contract's order book, not a component of its own.
abstract contract OrderBook is MarketAdmin, PullPayments, MarketDelegation {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    enum Side {
        Offer,
        Bid
    }

    /// @dev Four slots; fields read together share one. `deposit` is escrow (bid) or collateral
    /// (offer); `depositOut` is how much of it has been paid, charged or released so far;
    /// `deliveredWh` is, of what an offer settled, the part its meter delivered.
    struct Order {
        address owner;
        uint64 interval;
        Side side;
        bool closed;
        address meter;
        uint48 maxWh;
        uint48 filledWh;
        uint96 limitPrice;
        uint48 settledWh;
        uint48 deliveredWh;
        uint64 penaltyPerKwh;
        uint128 deposit;
        uint128 depositOut;
    }

    error EnergyMarketZeroAmount();
    error EnergyMarketPriceOutOfRange(uint256 price);
    error EnergyMarketMeterInactive(address meter);
    error EnergyMarketNotMeterOwner(address account, address meter);
    error EnergyMarketGateClosed(uint64 interval, uint256 closedAt);
    error EnergyMarketUnknownOrder(uint256 orderId);
    error EnergyMarketNotOrderOwner(address account, uint256 orderId);
    error EnergyMarketOrderClosed(uint256 orderId);
    error EnergyMarketWrongSide(uint256 orderId, Side expected);
    error EnergyMarketWrongInterval(uint256 orderId, uint64 orderInterval, uint64 interval);
    error EnergyMarketOrderFilled(uint256 orderId);
    error EnergyMarketNotReleasable(uint256 orderId, uint256 from);

    event OfferPlaced(
        uint256 indexed orderId,
        address indexed owner,
        uint64 indexed interval,
        address meter,
        uint48 maxWh,
        uint96 minPricePerKwh,
        uint64 penaltyPerKwh,
        uint128 collateral
    );
    event BidPlaced(
        uint256 indexed orderId,
        address indexed owner,
        uint64 indexed interval,
        address meter,
        uint48 maxWh,
        uint96 maxPricePerKwh,
        uint128 escrow
    );
    event OrderCancelled(uint256 indexed orderId, uint64 indexed interval);
    /// @notice What was left of an order's deposit went to its owner's balance; the order is closed.
    event OrderReleased(uint256 indexed orderId, address indexed owner, uint256 amount);

    uint256 private _nextOrderId = 1;
    mapping(uint256 orderId => Order) internal _orders;

    /// @notice Offers to sell up to `maxWh` from `meter` in `interval` at no less than
    /// `minPricePerKwh`, posting collateral of the current penalty for every Wh offered.
    /// @dev Requirements: not paused; caller owns `meter`, which is active; gate still open;
    /// `maxWh` > 0; the caller approved the collateral. Emits {OfferPlaced}.
    /// @return orderId the new offer's id.
    function placeOffer(
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 minPricePerKwh
    ) external whenNotPaused nonReentrant returns (uint256 orderId) {
        return _placeOffer(msg.sender, meter, interval, maxWh, minPricePerKwh);
    }

    /// @notice A delegate's {placeOffer} for `account`, which owns the meter and posts the collateral.
    /// @dev Requirements: as {placeOffer} for `account`; the caller holds an unexpired delegation
    /// from it; the price is at least its floor and the volume within its limit for the interval.
    /// Emits {OfferPlaced}.
    /// @return orderId the new offer's id.
    function placeOfferFor(
        address account,
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 minPricePerKwh
    ) external whenNotPaused nonReentrant returns (uint256 orderId) {
        _useDelegation(account, true, interval, maxWh, minPricePerKwh);
        return _placeOffer(account, meter, interval, maxWh, minPricePerKwh);
    }

    /// @notice Bids to buy up to `maxWh` for `meter` in `interval` at no more than
    /// `maxPricePerKwh`, escrowing the worst-case cost.
    /// @dev Requirements: as {placeOffer}, with a price > 0 and the escrow approved. Emits {BidPlaced}.
    /// @return orderId the new bid's id.
    function placeBid(
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 maxPricePerKwh
    ) external whenNotPaused nonReentrant returns (uint256 orderId) {
        return _placeBid(msg.sender, meter, interval, maxWh, maxPricePerKwh);
    }

    /// @notice A delegate's {placeBid} for `account`, which owns the meter and escrows the cost.
    /// @dev Requirements: as {placeBid} for `account`; the caller holds an unexpired delegation from
    /// it; the price is at most its ceiling and the volume within its limit. Emits {BidPlaced}.
    /// @return orderId the new bid's id.
    function placeBidFor(
        address account,
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 maxPricePerKwh
    ) external whenNotPaused nonReentrant returns (uint256 orderId) {
        _useDelegation(account, false, interval, maxWh, maxPricePerKwh);
        return _placeBid(account, meter, interval, maxWh, maxPricePerKwh);
    }

    /// @notice Cancels an order; its whole deposit is credited back to the owner's balance.
    /// @dev Requirements: caller owns the order or holds an unexpired delegation from its owner;
    /// it is open; its gate is still open. Emits {OrderCancelled} and {OrderReleased}.
    function cancelOrder(uint256 orderId) external nonReentrant {
        Order storage o = _existing(orderId);
        if (o.owner != msg.sender) {
            if (delegationOf(o.owner, msg.sender).expiry == 0)
                revert EnergyMarketNotOrderOwner(msg.sender, orderId);
            _requireDelegate(o.owner);
        }
        if (o.closed) revert EnergyMarketOrderClosed(orderId);
        _requireGateOpen(o.interval);
        emit OrderCancelled(orderId, o.interval);
        _closeAndRelease(orderId, o);
    }

    /// @notice Releases the deposits of orders that were not filled at all, once their interval's
    /// clearing can no longer change (the interval has started). Anyone may call it.
    /// @dev Requirements: each order exists, is open, has no fill, and its interval has started.
    /// Emits {OrderReleased} for each.
    function releaseUnfilled(uint256[] calldata orderIds) external nonReentrant {
        for (uint256 i = 0; i < orderIds.length; i++) {
            Order storage o = _existing(orderIds[i]);
            if (o.closed) revert EnergyMarketOrderClosed(orderIds[i]);
            if (o.filledWh != 0) revert EnergyMarketOrderFilled(orderIds[i]);
            uint256 startsAt = uint256(o.interval) * _intervalSeconds();
            if (block.timestamp < startsAt) revert EnergyMarketNotReleasable(orderIds[i], startsAt);
            _closeAndRelease(orderIds[i], o);
        }
    }

    /// @notice An order as stored.
    function getOrder(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @notice The id the next order will get; ids start at 1.
    function nextOrderId() external view returns (uint256) {
        return _nextOrderId;
    }

    /// @dev The registry deciding who owns which meter and whether it is active.
    function _registry() internal view virtual returns (IMeterRegistry);

    /// @dev The trading interval length, in seconds.
    function _intervalSeconds() internal view virtual returns (uint64);

    /// @dev How long before an interval starts its orders close, in seconds.
    function _gateClosureSeconds() internal view virtual returns (uint64);

    function _placeOffer(
        address owner,
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 minPricePerKwh
    ) private returns (uint256 orderId) {
        uint64 penalty = penaltyPerKwh();
        uint128 collateral = SettlementMath.lockFor(maxWh, penalty).toUint128();
        orderId = _place(owner, Side.Offer, meter, interval, maxWh, minPricePerKwh, penalty, collateral);
        emit OfferPlaced(orderId, owner, interval, meter, maxWh, minPricePerKwh, penalty, collateral);
        token.safeTransferFrom(owner, address(this), collateral);
    }

    function _placeBid(
        address owner,
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 maxPricePerKwh
    ) private returns (uint256 orderId) {
        if (maxPricePerKwh == 0) revert EnergyMarketPriceOutOfRange(maxPricePerKwh);
        uint128 escrow = SettlementMath.lockFor(maxWh, maxPricePerKwh).toUint128();
        orderId = _place(owner, Side.Bid, meter, interval, maxWh, maxPricePerKwh, 0, escrow);
        emit BidPlaced(orderId, owner, interval, meter, maxWh, maxPricePerKwh, escrow);
        token.safeTransferFrom(owner, address(this), escrow);
    }

    function _place(
        address owner,
        Side side,
        address meter,
        uint64 interval,
        uint48 maxWh,
        uint96 limitPrice,
        uint64 penalty,
        uint128 deposit
    ) private returns (uint256 orderId) {
        if (maxWh == 0) revert EnergyMarketZeroAmount();
        if (_registry().ownerOf(meter) != owner) revert EnergyMarketNotMeterOwner(owner, meter);
        if (!_registry().isActive(meter)) revert EnergyMarketMeterInactive(meter);
        _requireGateOpen(interval);

        orderId = _nextOrderId++;
        Order storage o = _orders[orderId];
        o.owner = owner;
        o.interval = interval;
        o.side = side;
        o.meter = meter;
        o.maxWh = maxWh;
        o.limitPrice = limitPrice;
        o.penaltyPerKwh = penalty;
        o.deposit = deposit;
    }

    function _openOrder(uint256 orderId, Side side, uint64 interval) internal view returns (Order storage o) {
        o = _existing(orderId);
        if (o.side != side) revert EnergyMarketWrongSide(orderId, side);
        if (o.interval != interval) revert EnergyMarketWrongInterval(orderId, o.interval, interval);
        if (o.closed) revert EnergyMarketOrderClosed(orderId);
    }

    function _existing(uint256 orderId) internal view returns (Order storage o) {
        o = _orders[orderId];
        if (o.owner == address(0)) revert EnergyMarketUnknownOrder(orderId);
    }

    function _requireGateOpen(uint64 interval) private view {
        uint256 closesAt = _gateClosure(interval);
        if (block.timestamp >= closesAt) revert EnergyMarketGateClosed(interval, closesAt);
    }

    /// @dev When orders for `interval` close (zero for the first intervals after the epoch).
    function _gateClosure(uint64 interval) internal view returns (uint256) {
        uint256 startsAt = uint256(interval) * _intervalSeconds();
        uint256 gate = _gateClosureSeconds();
        return startsAt > gate ? startsAt - gate : 0;
    }

    /// @dev The one place deposits leave an order: whatever is left of it goes to the owner's balance.
    function _closeAndRelease(uint256 orderId, Order storage o) internal {
        uint256 amount = o.deposit - o.depositOut;
        o.closed = true;
        o.depositOut = o.deposit;
        emit OrderReleased(orderId, o.owner, amount);
        _credit(o.owner, amount);
    }
}
