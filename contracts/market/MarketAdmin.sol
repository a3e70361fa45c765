// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title MarketAdmin
/// @notice What every GridMesh market lets its admin do: set the seller penalty per kWh not
/// delivered (which new offers and contracts collateralise; existing ones keep theirs) and pause
/// trading. Withdrawals are never paused (see PullPayments).
abstract contract MarketAdmin is AccessControl, Pausable {
    /// @notice The penalty per kWh new offers and contracts collateralise changed.
    event PenaltyChanged(uint64 penaltyPerKwh);

    uint64 private _penaltyPerKwh;

    /// @param admin receives DEFAULT_ADMIN_ROLE.
    /// @param penaltyPerKwh_ the initial penalty per kWh not delivered, in token base units.
    constructor(address admin, uint64 penaltyPerKwh_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _penaltyPerKwh = penaltyPerKwh_;
        emit PenaltyChanged(penaltyPerKwh_);
    }

    /// @notice Sets the penalty per kWh that new offers and contracts collateralise.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits {PenaltyChanged}.
    function setPenaltyPerKwh(uint64 penaltyPerKwh_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _penaltyPerKwh = penaltyPerKwh_;
        emit PenaltyChanged(penaltyPerKwh_);
    }

    /// @notice Stops new trading and settlement (withdrawals continue).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits {Paused}.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Resumes after {pause}.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits {Unpaused}.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @notice The penalty per kWh new offers and contracts collateralise.
    function penaltyPerKwh() public view returns (uint64) {
        return _penaltyPerKwh;
    }
}
