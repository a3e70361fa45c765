// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMeterRegistry
/// @notice What other GridMesh contracts need to know about meters: who owns one and whether it is
/// active (its device identity verified by enough verifier organisations, and not deactivated).
interface IMeterRegistry {
    /// @notice Whether `meter` is active: its readings and orders are accepted.
    function isActive(address meter) external view returns (bool);

    /// @notice The account that owns `meter`, or the zero address if it was never enrolled.
    function ownerOf(address meter) external view returns (address);

    /// @notice `meter`'s latest period of activity: when it was last activated (zero if never) and
    /// when it was deactivated after that (zero while it is still active).
    function activePeriod(address meter) external view returns (uint40 activeSince, uint40 deactivatedAt);
}
