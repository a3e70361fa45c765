// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title SettlementMath
/// @notice The arithmetic of paying for energy. Prices are token base units per kWh and energy is
/// in Wh, so a value is wh × price / 1000. What a party must lock is rounded up and what it is paid
/// or charged is rounded down, so that locked funds always cover every payment out of them.
library SettlementMath {
    /// @dev The value of `wh` at `pricePerKwh`, rounded down: what is paid or charged.
    function value(uint256 wh, uint256 pricePerKwh) internal pure returns (uint256) {
        return (wh * pricePerKwh) / 1000;
    }

    /// @dev The value of `wh` at `pricePerKwh`, rounded up: what must be locked to cover it.
    function lockFor(uint256 wh, uint256 pricePerKwh) internal pure returns (uint256) {
        return (wh * pricePerKwh + 999) / 1000;
    }

    /// @dev The part of `soldWh` counted as delivered when a meter that owed `obligationWh` in all
    /// exported `exportedWh`: everything when it exported enough, otherwise its pro-rata share,
    /// rounded down so that the shares of all obligations never add up to more than was exported.
    /// Requires soldWh ≤ obligationWh (the sale is one of the obligations).
    function deliveredShare(
        uint256 soldWh,
        uint256 exportedWh,
        uint256 obligationWh
    ) internal pure returns (uint256) {
        if (exportedWh >= obligationWh) return soldWh;
        return (soldWh * exportedWh) / obligationWh;
    }
}
