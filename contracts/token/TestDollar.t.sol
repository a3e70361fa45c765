// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {TestBase} from "../testing/Vm.sol";
import {TestDollar} from "./TestDollar.sol";

contract TestDollarTest is TestBase {
    uint256 internal constant LIMIT = 1_000e6;
    uint256 internal constant CAP = 2_500e6;
    uint256 internal constant START = 1_750_000_000;

    address internal constant ADMIN = address(0xA11CE);
    address internal constant ALICE = address(0xA1);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);

    TestDollar internal token;

    event FaucetClaimed(address indexed account, uint256 indexed day, uint256 amount);

    function setUp() public {
        vm.warp(START);
        token = new TestDollar(ADMIN, LIMIT, CAP);
    }

    function test_decimals_isSix() public view {
        assertEq(token.decimals(), 6, "decimals");
    }

    function test_claim_mintsToCallerAndRecordsTheDay() public {
        uint256 day = START / 1 days;
        vm.expectEmit(true, true, false, true, address(token));
        emit FaucetClaimed(ALICE, day, 400e6);
        vm.prank(ALICE);
        token.claim(400e6);

        assertEq(token.balanceOf(ALICE), 400e6, "balance");
        assertEq(token.totalSupply(), 400e6, "supply");
        assertEq(token.claimedBy(ALICE, day), 400e6, "claimedBy");
        assertEq(token.claimedOn(day), 400e6, "claimedOn");
        assertEq(token.claimable(ALICE), LIMIT - 400e6, "claimable");
    }

    function test_claim_revertsOnZero() public {
        vm.prank(ALICE);
        vm.expectRevert(TestDollar.TestDollarZeroAmount.selector);
        token.claim(0);
    }

    function test_claim_revertsPastAccountLimit() public {
        vm.prank(ALICE);
        token.claim(LIMIT - 1);
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestDollar.TestDollarAccountLimitExceeded.selector,
                ALICE,
                START / 1 days,
                2,
                1
            )
        );
        token.claim(2);
        assertEq(token.balanceOf(ALICE), LIMIT - 1, "failed claim must not mint");
    }

    function test_claim_revertsPastDailyCap() public {
        vm.prank(ALICE);
        token.claim(LIMIT);
        vm.prank(BOB);
        token.claim(LIMIT);
        vm.prank(CAROL);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestDollar.TestDollarDailyCapExceeded.selector,
                START / 1 days,
                LIMIT,
                CAP - 2 * LIMIT
            )
        );
        token.claim(LIMIT);
        assertEq(token.claimable(CAROL), CAP - 2 * LIMIT, "claimable is bounded by the cap");
    }

    function test_claim_allowanceRenewsTheNextDay() public {
        vm.prank(ALICE);
        token.claim(LIMIT);
        assertEq(token.claimable(ALICE), 0, "spent today");

        vm.warp(START + 1 days);
        assertEq(token.claimable(ALICE), LIMIT, "renewed tomorrow");
        vm.prank(ALICE);
        token.claim(LIMIT);
        assertEq(token.balanceOf(ALICE), 2 * LIMIT, "two days of claims");
    }

    function test_setLimits_changesLimitsForAdmin() public {
        vm.prank(ALICE);
        token.claim(600e6);
        vm.prank(ADMIN);
        token.setLimits(500e6, CAP);
        (uint256 accountLimit, uint256 cap) = token.limits();
        assertEq(accountLimit, 500e6, "account limit");
        assertEq(cap, CAP, "cap");
        // Already above the lowered limit: nothing more today, and no underflow.
        assertEq(token.claimable(ALICE), 0, "claimable after lowering");
    }

    function test_setLimits_revertsForNonAdmin() public {
        // Read before the prank: a prank applies to the very next call, getters included.
        bytes32 adminRole = token.DEFAULT_ADMIN_ROLE();
        vm.prank(ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ALICE, adminRole)
        );
        token.setLimits(type(uint256).max, type(uint256).max);
    }

    function testFuzz_claim_neverExceedsAccountLimit(uint256 first, uint256 second) public {
        first = bound(first, 1, LIMIT);
        second = bound(second, 1, 2 * LIMIT);
        vm.prank(ALICE);
        token.claim(first);
        if (first + second > LIMIT) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    TestDollar.TestDollarAccountLimitExceeded.selector,
                    ALICE,
                    START / 1 days,
                    second,
                    LIMIT - first
                )
            );
        }
        vm.prank(ALICE);
        token.claim(second);
        assertLe(token.balanceOf(ALICE), LIMIT, "balance within one day's limit");
    }
}
