// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title IndexOracle
/// @notice Index values per trading interval (a temperature, a wholesale price) that formula-priced
/// forward contracts follow. Posted once per index and interval by ORACLE_ROLE; never changed, so a
/// settlement can always be recomputed from the chain.
contract IndexOracle is AccessControl {
    /// @notice Accounts that post index values.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    error IndexOracleZeroIndex();
    error IndexOracleAlreadyPosted(bytes32 indexId, uint64 interval, int128 value);

    /// @notice `value` of index `indexId` for `interval` was posted.
    event IndexPosted(bytes32 indexed indexId, uint64 indexed interval, int128 value);

    struct Value {
        int128 value;
        bool posted;
        uint64 postedAt;
    }

    mapping(bytes32 indexId => mapping(uint64 interval => Value)) private _values;

    /// @param admin receives DEFAULT_ADMIN_ROLE, which grants ORACLE_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Posts index `indexId`'s value for `interval`.
    /// @dev Requirements: caller has ORACLE_ROLE; `indexId` is not zero (zero means "fixed price");
    /// no value posted yet for this index and interval. Emits {IndexPosted}.
    function post(bytes32 indexId, uint64 interval, int128 value) external onlyRole(ORACLE_ROLE) {
        if (indexId == bytes32(0)) revert IndexOracleZeroIndex();
        Value storage v = _values[indexId][interval];
        if (v.posted) revert IndexOracleAlreadyPosted(indexId, interval, v.value);
        v.value = value;
        v.posted = true;
        v.postedAt = uint64(block.timestamp);
        emit IndexPosted(indexId, interval, value);
    }

    /// @notice Index `indexId`'s value for `interval`, if posted, and when it was posted (consumers
    /// with deadlines ignore values posted too late).
    function valueAt(
        bytes32 indexId,
        uint64 interval
    ) external view returns (bool posted, int128 value, uint64 postedAt) {
        Value storage v = _values[indexId][interval];
        return (v.posted, v.value, v.postedAt);
    }
}
