// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Reputation
/// @notice Each account's trading history (seed 001 "history rating"): how many trades it took
/// part in, and as a seller how many it delivered in full or fell short on. Written only by the
/// markets' settlement (RECORDER_ROLE), read by anyone.
contract Reputation is AccessControl {
    /// @notice Contracts whose settlement records outcomes.
    bytes32 public constant RECORDER_ROLE = keccak256("RECORDER_ROLE");

    error ReputationLengthMismatch(uint256 sellers, uint256 outcomes, uint256 buyers);

    /// @notice A settled trade between `seller` and `buyer`; `fullyDelivered` is the seller's outcome.
    event TradeRecorded(address indexed seller, address indexed buyer, bool fullyDelivered);

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

    /// @notice Records settled trades: trade i was sold by `sellers[i]` to `buyers[i]` and was
    /// delivered in full when `fullyDelivered[i]`.
    /// @dev Requirements: caller has RECORDER_ROLE; the three arrays have one length. Emits {TradeRecorded} each.
    function recordTrades(
        address[] calldata sellers,
        bool[] calldata fullyDelivered,
        address[] calldata buyers
    ) external onlyRole(RECORDER_ROLE) {
        if (sellers.length != fullyDelivered.length || sellers.length != buyers.length) {
            revert ReputationLengthMismatch(sellers.length, fullyDelivered.length, buyers.length);
        }
        for (uint256 i = 0; i < sellers.length; i++) {
            Record storage s = _records[sellers[i]];
            s.trades += 1;
            if (fullyDelivered[i]) s.fullDeliveries += 1;
            else s.shortfalls += 1;
            _records[buyers[i]].trades += 1;
            emit TradeRecorded(sellers[i], buyers[i], fullyDelivered[i]);
        }
    }

    /// @notice `account`'s counts: trades as buyer or seller, full deliveries and shortfalls as seller.
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
