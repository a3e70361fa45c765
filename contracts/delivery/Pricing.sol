// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice How a delivery contract's price per kWh is set for each interval: fixed at `basePrice`
/// when `indexId` is zero, otherwise basePrice + slope × (index − reference), clamped to
/// [floor, cap] (seed 001: "a price formula that will adjust with condition, e.g. temperature").
/// @param basePrice price at the reference index value, token base units per kWh.
/// @param slope price change per unit of index, token base units per kWh (may be negative).
/// @param reference the index value at which the price is `basePrice`.
/// @param floor lowest price the formula may give.
/// @param cap highest price the formula may give; the buyer's margin is sized on it.
/// @param indexId the IndexOracle index followed, or zero for a fixed price.
struct Pricing {
    uint96 basePrice;
    int96 slope;
    int128 referenceValue;
    uint96 floor;
    uint96 cap;
    bytes32 indexId;
}

library PricingMath {
    error PricingInvalid(uint256 basePrice, uint256 floor, uint256 cap);

    /// @dev Reverts unless floor ≤ base ≤ cap and cap > 0; a fixed price must have floor = cap = base.
    function validate(Pricing calldata p) internal pure {
        bool ordered = p.floor <= p.basePrice && p.basePrice <= p.cap && p.cap > 0;
        bool fixedConsistent = p.indexId != bytes32(0) || (p.floor == p.basePrice && p.cap == p.basePrice);
        if (!ordered || !fixedConsistent) revert PricingInvalid(p.basePrice, p.floor, p.cap);
    }

    /// @dev The price for an interval whose index value is `index`: the formula, clamped.
    function priceAt(Pricing storage p, int128 index) internal view returns (uint256) {
        int256 raw =
            int256(uint256(p.basePrice)) + int256(p.slope) * (int256(index) - int256(p.referenceValue));
        if (raw <= int256(uint256(p.floor))) return p.floor;
        if (raw >= int256(uint256(p.cap))) return p.cap;
        return uint256(raw);
    }
}
