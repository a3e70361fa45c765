// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "../testing/Vm.sol";
import {TestDollar} from "./TestDollar.sol";

/// @dev Drives the faucet with random claimers, amounts and days, and keeps its own tally.
contract TestDollarHandler is TestBase {
    TestDollar public immutable token;
    uint256 public immutable accountLimit;
    uint256 public immutable cap;
    uint256 public minted;
    uint256 public day;
    uint256 public claimedToday;
    mapping(address account => uint256 amount) public claimedTodayBy;
    address[] internal _actors;

    constructor(TestDollar token_, uint256 accountLimit_, uint256 cap_) {
        token = token_;
        accountLimit = accountLimit_;
        cap = cap_;
        day = block.timestamp / 1 days;
        for (uint160 i = 1; i <= 5; i++) _actors.push(address(i * 0x1000));
    }

    function claim(uint256 actorSeed, uint256 amount) external {
        address actor = _actors[actorSeed % _actors.length];
        amount = bound(amount, 1, accountLimit);
        // Only claims the faucet must accept; the unit tests cover the refusals.
        if (claimedTodayBy[actor] + amount > accountLimit || claimedToday + amount > cap) return;
        vm.prank(actor);
        token.claim(amount);
        minted += amount;
        claimedToday += amount;
        claimedTodayBy[actor] += amount;
    }

    function nextDay(uint256 secondsAhead) external {
        secondsAhead = bound(secondsAhead, 1 days, 3 days);
        vm.warp(block.timestamp + secondsAhead);
        day = block.timestamp / 1 days;
        claimedToday = 0;
        for (uint256 i = 0; i < _actors.length; i++) claimedTodayBy[_actors[i]] = 0;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }
}

contract TestDollarInvariantTest is TestBase {
    TestDollar internal token;
    TestDollarHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        token = new TestDollar(address(this), 1_000e6, 3_000e6);
        handler = new TestDollarHandler(token, 1_000e6, 3_000e6);
    }

    /// @dev Read by the invariant runner: only the handler is called at random.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_supplyEqualsEverythingClaimed() public view {
        assertEq(token.totalSupply(), handler.minted(), "total supply");
    }

    function invariant_todayWithinLimits() public view {
        uint256 day = handler.day();
        assertLe(token.claimedOn(day), 3_000e6, "daily cap");
        address[] memory actors = handler.actors();
        uint256 sum;
        for (uint256 i = 0; i < actors.length; i++) {
            uint256 claimed = token.claimedBy(actors[i], day);
            assertLe(claimed, 1_000e6, "account limit");
            sum += claimed;
        }
        assertEq(sum, token.claimedOn(day), "per-account claims add up to the day's total");
    }
}
