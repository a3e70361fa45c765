// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title MarketDelegation
/// @notice Lets an account authorise a delegate — its home's meter agent, running the automatic
/// trading rules the user set — to place and cancel orders on its behalf, within limits the account
/// sets: a volume per interval, a floor for selling and a ceiling for buying, and an expiry. The
/// delegate never holds the account's key or funds: deposits are drawn from the account itself.
abstract contract MarketDelegation {
    /// @dev Two slots. A zero expiry means no delegation.
    struct Delegation {
        uint48 maxWhPerInterval;
        uint96 minSellPricePerKwh;
        uint96 maxBuyPricePerKwh;
        uint64 expiry;
    }

    error MarketDelegationNotAuthorized(address account, address delegate);
    error MarketDelegationExpired(address account, address delegate, uint64 expiry);
    error MarketDelegationInvalid(address delegate, uint64 expiry);
    error MarketDelegationVolumeExceeded(
        address account,
        address delegate,
        uint64 interval,
        uint256 requestedWh,
        uint256 remainingWh
    );
    error MarketDelegationSellPriceTooLow(address account, uint256 price, uint256 floor);
    error MarketDelegationBuyPriceTooHigh(address account, uint256 price, uint256 ceiling);

    event DelegateAuthorized(
        address indexed account,
        address indexed delegate,
        uint48 maxWhPerInterval,
        uint96 minSellPricePerKwh,
        uint96 maxBuyPricePerKwh,
        uint64 expiry
    );
    event DelegateRevoked(address indexed account, address indexed delegate);

    mapping(address account => mapping(address delegate => Delegation)) private _delegations;
    mapping(address account => mapping(address delegate => mapping(uint64 interval => uint256 wh)))
        private _usedWh;

    /// @notice Authorises `delegate` to trade for the caller within these limits until `expiry`,
    /// replacing any earlier limits for it.
    /// @dev Requirements: `delegate` is not the zero address or the caller; `expiry` is in the
    /// future. Emits {DelegateAuthorized}.
    function authorizeDelegate(
        address delegate,
        uint48 maxWhPerInterval,
        uint96 minSellPricePerKwh,
        uint96 maxBuyPricePerKwh,
        uint64 expiry
    ) external {
        if (delegate == address(0) || delegate == msg.sender || expiry <= block.timestamp) {
            revert MarketDelegationInvalid(delegate, expiry);
        }
        _delegations[msg.sender][delegate] = Delegation(
            maxWhPerInterval,
            minSellPricePerKwh,
            maxBuyPricePerKwh,
            expiry
        );
        emit DelegateAuthorized(
            msg.sender,
            delegate,
            maxWhPerInterval,
            minSellPricePerKwh,
            maxBuyPricePerKwh,
            expiry
        );
    }

    /// @notice Withdraws `delegate`'s authority at once. Orders it already placed stay.
    /// @dev Requirements: `delegate` is authorised by the caller. Emits {DelegateRevoked}.
    function revokeDelegate(address delegate) external {
        if (_delegations[msg.sender][delegate].expiry == 0)
            revert MarketDelegationNotAuthorized(msg.sender, delegate);
        delete _delegations[msg.sender][delegate];
        emit DelegateRevoked(msg.sender, delegate);
    }

    /// @notice The limits `account` set for `delegate` (all zero when none).
    function delegationOf(address account, address delegate) public view returns (Delegation memory) {
        return _delegations[account][delegate];
    }

    /// @notice How much of its volume limit for `interval` `delegate` has used for `account`.
    function delegatedWh(address account, address delegate, uint64 interval) external view returns (uint256) {
        return _usedWh[account][delegate][interval];
    }

    /// @dev Checks that msg.sender may place this order for `account` and counts its volume.
    /// Cancelling does not give the volume back, so a delegate cannot exceed its limit by
    /// placing and cancelling in turn.
    function _useDelegation(
        address account,
        bool isOffer,
        uint64 interval,
        uint48 wh,
        uint96 price
    ) internal {
        Delegation storage d = _requireDelegate(account);
        if (isOffer) {
            if (price < d.minSellPricePerKwh)
                revert MarketDelegationSellPriceTooLow(account, price, d.minSellPricePerKwh);
        } else if (price > d.maxBuyPricePerKwh) {
            revert MarketDelegationBuyPriceTooHigh(account, price, d.maxBuyPricePerKwh);
        }
        uint256 used = _usedWh[account][msg.sender][interval];
        uint256 remaining = used >= d.maxWhPerInterval ? 0 : d.maxWhPerInterval - used;
        if (wh > remaining)
            revert MarketDelegationVolumeExceeded(account, msg.sender, interval, wh, remaining);
        _usedWh[account][msg.sender][interval] = used + wh;
    }

    /// @dev Reverts unless msg.sender holds an unexpired delegation from `account`.
    function _requireDelegate(address account) internal view returns (Delegation storage d) {
        d = _delegations[account][msg.sender];
        if (d.expiry == 0) revert MarketDelegationNotAuthorized(account, msg.sender);
        if (d.expiry <= block.timestamp) revert MarketDelegationExpired(account, msg.sender, d.expiry);
    }
}
