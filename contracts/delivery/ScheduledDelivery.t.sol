// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {Reputation} from "../market/Reputation.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MeterRegistry} from "../registry/MeterRegistry.sol";
import {MarketFixture} from "../testing/MarketFixture.sol";
import {TestDollar} from "../token/TestDollar.sol";
import {ForwardMarket} from "./ForwardMarket.sol";
import {OptionMarket} from "./OptionMarket.sol";
import {Pricing} from "./Pricing.sol";

/// @dev Margins too large for their uint128 fields must be refused, not truncated: a truncated
/// buyer margin once let a crafted forward pay its seller out of everybody else's funds.
contract ScheduledDeliveryMarginTest is MarketFixture {
    TestDollar internal token;
    ForwardMarket internal forwards;
    OptionMarket internal options;
    address internal constant BUYER = address(0xA1);
    address internal constant SELLER = address(0xA2);
    address internal buyerMeter;
    address internal sellerMeter;

    function setUp() public {
        vm.warp(1_750_000_000);
        token = new TestDollar(address(this), type(uint256).max, type(uint256).max);
        (MeterRegistry registry, DeliveryLedger ledger, Reputation reputation, ) = _deployCore(
            token,
            address(this)
        );
        (, forwards, options) = _deployDeliveryMarkets(token, ledger, reputation);
        buyerMeter = _activeMeter(registry, BUYER, 0xB0B0);
        sellerMeter = _activeMeter(registry, SELLER, 0x5E11);
        address[2] memory who = [BUYER, SELLER];
        for (uint256 i = 0; i < 2; i++) {
            vm.startPrank(who[i]);
            token.claim(1e20);
            token.approve(address(forwards), type(uint256).max);
            token.approve(address(options), type(uint256).max);
            vm.stopPrank();
        }
    }

    function test_propose_revertsWhenTheBuyerMarginOverflows() public {
        uint64 t = uint64(block.timestamp / INTERVAL_SECONDS) + 2;
        // 1000 × 2^38 Wh at 2^90 per kWh is 2^128: one more than a uint128 holds.
        uint96 price = uint96(1 << 90);
        Pricing memory huge = Pricing(price, 0, 0, price, price, bytes32(0));
        vm.prank(BUYER);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, uint256(1) << 128)
        );
        forwards.propose(ForwardMarket.Terms(t, t + 1, uint48(500 << 38), huge), false, buyerMeter, SELLER);
        assertEq(token.balanceOf(address(forwards)), 0, "nothing locked");
    }

    function test_write_revertsWhenTheExerciseEscrowWouldOverflow() public {
        uint64 t = uint64(block.timestamp / INTERVAL_SECONDS) + 3;
        uint96 strike = uint96(1 << 90);
        OptionMarket.OptionTerms memory terms = OptionMarket.OptionTerms(
            t,
            t + 1,
            uint48(500 << 38),
            strike,
            1,
            uint64(block.timestamp + 30)
        );
        // Both margins are sized when the option is written, so it can never be exercised into one.
        vm.prank(SELLER);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, uint256(1) << 128)
        );
        options.write(terms, sellerMeter);
        assertEq(options.nextId(), 1, "no option written");
    }

    function test_propose_revertsForACounterpartyThatIsTheProposer() public {
        uint64 t = uint64(block.timestamp / INTERVAL_SECONDS) + 2;
        Pricing memory fixedPrice = Pricing(100_000, 0, 0, 100_000, 100_000, bytes32(0));
        vm.prank(BUYER);
        vm.expectRevert(
            abi.encodeWithSelector(ForwardMarket.ForwardMarketInvalidCounterparty.selector, BUYER)
        );
        forwards.propose(ForwardMarket.Terms(t, t, 1_000, fixedPrice), false, buyerMeter, BUYER);
    }
}
