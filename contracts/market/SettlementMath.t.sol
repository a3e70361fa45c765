// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "../testing/Vm.sol";
import {SettlementMath} from "./SettlementMath.sol";

/// @dev Exposes the library's internal functions as external calls.
contract SettlementMathHarness {
    function value(uint256 wh, uint256 pricePerKwh) external pure returns (uint256) {
        return SettlementMath.value(wh, pricePerKwh);
    }

    function lockFor(uint256 wh, uint256 pricePerKwh) external pure returns (uint256) {
        return SettlementMath.lockFor(wh, pricePerKwh);
    }

    function deliveredShare(
        uint256 soldWh,
        uint256 exportedWh,
        uint256 obligationWh
    ) external pure returns (uint256) {
        return SettlementMath.deliveredShare(soldWh, exportedWh, obligationWh);
    }
}

contract SettlementMathTest is TestBase {
    /// @dev Energy amounts are uint48 in orders and fills; prices and penalties uint96.
    uint256 internal constant MAX_WH = type(uint48).max;
    uint256 internal constant MAX_PRICE = type(uint96).max;

    SettlementMathHarness internal math;

    function setUp() public {
        math = new SettlementMathHarness();
    }

    function test_value_roundsDown() public view {
        assertEq(math.value(1, 999), 0, "0.999 rounds down to 0");
        assertEq(math.value(1500, 150_000), 225_000, "exact value");
        assertEq(math.value(3, 333), 0, "0.999 rounds down to 0");
        assertEq(math.value(7, 1001), 7, "7.007 rounds down to 7");
    }

    function test_lockFor_roundsUp() public view {
        assertEq(math.lockFor(1, 1), 1, "0.001 rounds up to 1");
        assertEq(math.lockFor(1500, 150_000), 225_000, "exact value needs no rounding");
        assertEq(math.lockFor(7, 1001), 8, "7.007 rounds up to 8");
        assertEq(math.lockFor(0, MAX_PRICE), 0, "nothing to lock for nothing");
    }

    function test_deliveredShare_proRataRoundsDown() public view {
        // Owed 3000, exported 1000: a third of every sale, rounded down.
        assertEq(math.deliveredShare(1000, 1000, 3000), 333, "a third of 1000");
        assertEq(math.deliveredShare(2000, 1000, 3000), 666, "a third of 2000");
        assertEq(math.deliveredShare(2000, 3000, 3000), 2000, "exact export delivers all");
        assertEq(math.deliveredShare(2000, 5000, 3000), 2000, "surplus export delivers all");
        assertEq(math.deliveredShare(2000, 0, 3000), 0, "no export delivers nothing");
    }

    function testFuzz_value_lockForExceedsItByAtMostOne(uint256 wh, uint256 price) public view {
        wh = bound(wh, 0, MAX_WH);
        price = bound(price, 0, MAX_PRICE);
        uint256 paid = math.value(wh, price);
        uint256 locked = math.lockFor(wh, price);
        assertLe(paid, locked, "value <= lockFor");
        assertLe(locked - paid, 1, "lockFor - value in {0, 1}");
        // And both are the exact value wh x price / 1000 rounded the right way.
        assertLe(paid * 1000, wh * price, "value rounds down");
        assertGe(locked * 1000, wh * price, "lockFor rounds up");
        assertEq(locked - paid, (wh * price) % 1000 == 0 ? 0 : 1, "rounding only when inexact");
    }

    function testFuzz_lockFor_coversAnySplitIntoTwoParts(
        uint256 wh,
        uint256 part,
        uint256 price
    ) public view {
        wh = bound(wh, 0, MAX_WH);
        part = bound(part, 0, wh);
        price = bound(price, 0, MAX_PRICE);
        uint256 paidOut = math.value(part, price) + math.value(wh - part, price);
        assertLe(paidOut, math.lockFor(wh, price), "value(a) + value(w - a) <= lockFor(w)");
        assertLe(paidOut, math.value(wh, price), "split payments never exceed the whole's value");
    }

    function testFuzz_deliveredShare_atMostSoldAndAllWhenExportCovers(
        uint256 sold,
        uint256 exported,
        uint256 obligation
    ) public view {
        // Obligations add up the uint48 fills of several orders in a uint64.
        obligation = bound(obligation, 1, 8 * MAX_WH);
        sold = bound(sold, 0, obligation);
        exported = bound(exported, 0, type(uint64).max);
        uint256 share = math.deliveredShare(sold, exported, obligation);
        assertLe(share, sold, "deliveredShare <= soldWh");
        if (exported >= obligation) assertEq(share, sold, "everything delivered when exported >= obligation");
    }

    function testFuzz_deliveredShare_twoSalesShareTheExport(
        uint256 obligation,
        uint256 first,
        uint256 exported
    ) public view {
        obligation = bound(obligation, 1, 8 * MAX_WH);
        first = bound(first, 0, obligation);
        exported = bound(exported, 0, obligation - 1);
        uint256 total =
            math.deliveredShare(first, exported, obligation) +
                math.deliveredShare(obligation - first, exported, obligation);
        assertLe(total, exported, "two shares never exceed the export");
        assertGe(total + 1, exported, "two shares lose at most 1 Wh to rounding");
    }

    function testFuzz_deliveredShare_monotonicInExport(
        uint256 sold,
        uint256 obligation,
        uint256 lower,
        uint256 higher
    ) public view {
        obligation = bound(obligation, 1, 8 * MAX_WH);
        sold = bound(sold, 0, obligation);
        higher = bound(higher, 0, type(uint64).max);
        lower = bound(lower, 0, higher);
        assertLe(
            math.deliveredShare(sold, lower, obligation),
            math.deliveredShare(sold, higher, obligation),
            "more export never delivers less"
        );
    }
}
