// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Reputation
/// @notice Each account's trading history (seed 001 "history rating"): how many of its orders
/// traded (one per order and interval, whatever the number of counterparties), and of its sales how
/// many its meter delivered in full or fell short on. Written only by the markets' settlement
/// (RECORDER_ROLE), read by anyone.
contract Reputation is AccessControl {
    /// @notice Contracts whose settlement records outcomes.
    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");

    /// @notice How one order of an account ended: a bid that bought, or an offer whose meter
    /// delivered all it sold or fell short.
    enum Outcome {
        Bought,
        Delivered,
        FellShort
    }

    error ReputationLengthMismatch(uint256 accounts, uint256 outcomes);

    /// @notice `account`'s record after a settled order.
    event ReputationUpdated(address indexed account, uint64 trades, uint64 fullDeliveries, uint64 shortfalls);

    struct Record {
        uint64 trades;
        uint64 fullDeliveries;
        uint64 shortfalls;
    }

    mapping(address account => Record) private _records;

    /// @param admin receives DEFAULT_ADMIN_ROLE, which grants RECORDER_ROLE to markets.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Records settled orders: order i of `accounts[i]` ended as `outcomes[i]`. Each counts
    /// as one trade; a seller's order also counts as a full delivery or a shortfall.
    /// @dev Requirements: caller has RECORDER_ROLE; both arrays have one length. Emits
    /// {ReputationUpdated} for each.
    function recordOutcomes(
        address[] calldata accounts,
        Outcome[] calldata outcomes
    ) external onlyRole(RECORDER_ROLE) {
        if (accounts.length != outcomes.length)
            revert ReputationLengthMismatch(accounts.length, outcomes.length);
        for (uint256 i = 0; i < accounts.length; i++) {
            Record storage r = _records[accounts[i]];
            r.trades += 1;
            if (outcomes[i] == Outcome.Delivered) r.fullDeliveries += 1;
            else if (outcomes[i] == Outcome.FellShort) r.shortfalls += 1;
            emit ReputationUpdated(accounts[i], r.trades, r.fullDeliveries, r.shortfalls);
        }
    }

    /// @notice `account`'s counts: traded orders as buyer or seller, full deliveries and shortfalls as seller.
    function recordOf(
        address account
    ) external view returns (uint64 trades, uint64 fullDeliveries, uint64 shortfalls) {
        Record storage r = _records[account];
        return (r.trades, r.fullDeliveries, r.shortfalls);
    }

    /// @notice The share of `account`'s sales delivered in full, in basis points; 10000 when it has
    /// sold nothing yet, so that a newcomer starts with a clean record.
    function successRateBps(address account) external view returns (uint256) {
        Record storage r = _records[account];
        uint256 judged = uint256(r.fullDeliveries) + r.shortfalls;
        return judged == 0 ? 10_000 : (uint256(r.fullDeliveries) * 10_000) / judged;
    }
}
