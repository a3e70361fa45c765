// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MeterReading} from "../readings/MeterReading.sol";
import {MeterRegistry} from "../registry/MeterRegistry.sol";
import {MarketFixture} from "../testing/MarketFixture.sol";
import {ReentrantToken} from "../testing/ReentrantToken.sol";
import {EnergyMarket} from "./EnergyMarket.sol";
import {Reputation} from "./Reputation.sol";

/// @dev Alice (seller) and Bob (buyer), each with an active meter, and the market contract set
/// with a payment token that can call back into the market from inside its transfers.
abstract contract EnergyMarketTestBase is MarketFixture {
    uint256 internal constant START = 1_750_000_000;
    uint256 internal constant ALICE_METER_KEY = 0xA11CE;
    uint256 internal constant BOB_METER_KEY = 0xB0B;
    address internal constant ALICE = address(0xA1);
    address internal constant BOB = address(0xB2);
    address internal constant MATCHER = address(0x3A7C4E7);
    uint256 internal constant FUNDS = 1_000e6;

    /// @dev Alice offers 2000 Wh at >= 0.10/kWh, Bob bids 1500 Wh at <= 0.20/kWh; they clear at 0.15.
    uint48 internal constant OFFER_WH = 2_000;
    uint96 internal constant OFFER_PRICE = 100_000;
    uint48 internal constant BID_WH = 1_500;
    uint96 internal constant BID_PRICE = 200_000;
    uint96 internal constant CLEARING_PRICE = 150_000;

    ReentrantToken internal token;
    MeterRegistry internal registry;
    DeliveryLedger internal ledger;
    Reputation internal reputation;
    EnergyMarket internal market;
    address internal aliceMeter;
    address internal bobMeter;
    uint64 internal interval;

    function setUp() public {
        vm.warp(START);
        token = new ReentrantToken();
        (registry, ledger, reputation, market) = _deployCore(token, MATCHER);
        aliceMeter = _activeMeter(registry, ALICE, ALICE_METER_KEY);
        bobMeter = _activeMeter(registry, BOB, BOB_METER_KEY);
        for (uint256 i = 0; i < 2; i++) {
            address who = i == 0 ? ALICE : BOB;
            token.mint(who, FUNDS);
            vm.prank(who);
            token.approve(address(market), type(uint256).max);
        }
        // The first interval whose gate is still open, with a minute to spare.
        interval = uint64((START + GATE_CLOSURE_SECONDS + 60) / INTERVAL_SECONDS + 1);
    }

    // ---------------------------------------------------------------- helpers

    function _assertRefusedReentry() internal view {
        assertTrue(token.reentered(), "the token called back");
        assertTrue(!token.reentrySucceeded(), "the reentrant call was refused");
        assertEq(
            keccak256(token.reentryResult()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "refused with ReentrancyGuardReentrantCall"
        );
    }

    function _bobBidCancelled() internal returns (uint256 escrow) {
        return _bobBidCancelledFor(interval);
    }

    /// @dev Bob places and cancels a bid, leaving its escrow as his withdrawable balance.
    function _bobBidCancelledFor(uint64 bidInterval) internal returns (uint256 escrow) {
        vm.prank(BOB);
        uint256 bidId = market.placeBid(bobMeter, bidInterval, BID_WH, BID_PRICE);
        vm.prank(BOB);
        market.cancelOrder(bidId);
        escrow = _lock(BID_WH, BID_PRICE);
        assertEq(market.balanceOf(BOB), escrow, "escrow credited back");
    }

    /// @dev Alice's offer and Bob's bid cleared at CLEARING_PRICE for BID_WH, the interval over and
    /// Alice's meter reading `exportedWh` recorded: batch 0 is ready to settle.
    function _clearedAndDelivered(uint48 exportedWh) internal returns (EnergyMarket.Fill[] memory fills) {
        fills = _cleared(interval);
        vm.warp((uint256(interval) + 1) * INTERVAL_SECONDS + 1);
        _recordAliceReading(interval, 1, exportedWh);
    }

    /// @dev Alice's offer and Bob's bid for `t`, cleared at CLEARING_PRICE for BID_WH in batch 0.
    function _cleared(uint64 t) internal returns (EnergyMarket.Fill[] memory fills) {
        vm.prank(ALICE);
        uint256 offerId = market.placeOffer(aliceMeter, t, OFFER_WH, OFFER_PRICE);
        vm.prank(BOB);
        uint256 bidId = market.placeBid(bobMeter, t, BID_WH, BID_PRICE);

        vm.warp(uint256(t) * INTERVAL_SECONDS - GATE_CLOSURE_SECONDS);
        fills = new EnergyMarket.Fill[](1);
        fills[0] = EnergyMarket.Fill(uint64(offerId), uint64(bidId), BID_WH);
        vm.prank(MATCHER);
        market.submitClearing(t, CLEARING_PRICE, fills, true);
    }

    /// @dev Records Alice's meter's signed reading for `t`, exporting `exportedWh` (its registers
    /// stand at sequence × 10 kWh).
    function _recordAliceReading(uint64 t, uint64 sequence, uint48 exportedWh) internal {
        MeterReading memory reading = MeterReading({
            meter: aliceMeter,
            interval: t,
            sequence: sequence,
            importStartWh: 0,
            importEndWh: 0,
            exportStartWh: sequence * 10_000,
            exportEndWh: sequence * 10_000 + uint64(exportedWh),
            timestamp: uint64(block.timestamp)
        });
        ledger.recordReading(reading, _signReading(ledger, ALICE_METER_KEY, reading));
    }

    function _lock(uint256 wh, uint256 price) internal pure returns (uint256) {
        return (wh * price + 999) / 1000;
    }
}

/// @dev The market with a payment token that calls back into it from inside its transfers.
contract EnergyMarketReentrancyTest is EnergyMarketTestBase {
    function test_withdraw_reentrantWithdrawIsRefused() public {
        uint256 escrow = _bobBidCancelled();
        token.arm(address(market), abi.encodeCall(market.withdraw, (BOB, escrow)), false);

        vm.prank(BOB);
        market.withdraw(BOB, escrow);

        _assertRefusedReentry();
        assertEq(market.balanceOf(BOB), 0, "bob's balance paid out once");
        assertEq(token.balanceOf(BOB), FUNDS, "bob has his escrow back, once");
        assertEq(token.balanceOf(address(market)), 0, "market holds nothing");
    }

    function test_withdraw_bubbledReentryRevertsTheWithdrawal() public {
        uint256 escrow = _bobBidCancelled();
        token.arm(address(market), abi.encodeCall(market.withdraw, (BOB, escrow)), true);

        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(BOB);
        market.withdraw(BOB, escrow);

        assertEq(market.balanceOf(BOB), escrow, "balance untouched");
        assertEq(token.balanceOf(address(market)), escrow, "market still holds the escrow");
    }

    function test_placeBid_reentrantCancelIsRefused() public {
        uint256 orderId = market.nextOrderId();
        token.arm(address(market), abi.encodeCall(market.cancelOrder, (orderId)), true);

        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(BOB);
        market.placeBid(bobMeter, interval, BID_WH, BID_PRICE);

        assertEq(market.nextOrderId(), orderId, "no order placed");
        assertEq(token.balanceOf(BOB), FUNDS, "no escrow taken");
        assertEq(token.balanceOf(address(market)), 0, "market holds nothing");
    }

    function test_withdraw_reentrantSettleBatchIsRefused() public {
        EnergyMarket.Fill[] memory fills = _clearedAndDelivered(BID_WH);
        // A balance for Bob to withdraw while the batch is settleable.
        uint256 spare = _bobBidCancelledFor(interval + 4);
        token.arm(address(market), abi.encodeCall(market.settleBatch, (interval, 0, fills)), false);

        vm.prank(BOB);
        market.withdraw(BOB, spare);

        _assertRefusedReentry();
        assertTrue(market.batchHash(interval, 0) != bytes32(uint256(1)), "batch not settled by the reentry");
        assertEq(market.getOrder(1).settledWh, 0, "offer unsettled");

        // The batch still settles normally afterwards, and the money adds up.
        market.settleBatch(interval, 0, fills);
        uint256 paid = (uint256(BID_WH) * CLEARING_PRICE) / 1000;
        assertEq(
            market.balanceOf(ALICE),
            paid + _lock(OFFER_WH, PENALTY_PER_KWH),
            "alice: payment and collateral"
        );
        assertEq(market.balanceOf(BOB), _lock(BID_WH, BID_PRICE) - paid, "bob: escrow left after paying");
        assertEq(
            token.balanceOf(address(market)),
            market.balanceOf(ALICE) + market.balanceOf(BOB),
            "market holds exactly the balances"
        );
    }

    function test_placeOffer_reentrantSettleBatchIsRefused() public {
        EnergyMarket.Fill[] memory fills = _clearedAndDelivered(BID_WH);
        token.arm(address(market), abi.encodeCall(market.settleBatch, (interval, 0, fills)), true);
        uint64 later = uint64(block.timestamp / INTERVAL_SECONDS + 2);
        uint256 aliceTokens = token.balanceOf(ALICE);

        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(ALICE);
        market.placeOffer(aliceMeter, later, OFFER_WH, OFFER_PRICE);

        assertEq(token.balanceOf(ALICE), aliceTokens, "no collateral taken");
        assertTrue(market.batchHash(interval, 0) != bytes32(uint256(1)), "batch not settled");
    }

    function test_withdraw_reentrantReleaseUnfilledIsRefused() public {
        uint256 escrow = _bobBidCancelled();
        vm.prank(ALICE);
        uint256 offerId = market.placeOffer(aliceMeter, interval, OFFER_WH, OFFER_PRICE);
        vm.warp(uint256(interval) * INTERVAL_SECONDS);
        uint256[] memory ids = new uint256[](1);
        ids[0] = offerId;
        token.arm(address(market), abi.encodeCall(market.releaseUnfilled, (ids)), false);

        vm.prank(BOB);
        market.withdraw(BOB, escrow);

        _assertRefusedReentry();
        assertTrue(!market.getOrder(offerId).closed, "offer not released by the reentry");
        assertEq(market.balanceOf(ALICE), 0, "nothing credited to alice");
        market.releaseUnfilled(ids);
        assertEq(market.balanceOf(ALICE), _lock(OFFER_WH, PENALTY_PER_KWH), "released once afterwards");
    }
}

/// @dev Settlement against readings the DeliveryLedger may or may not accept.
contract EnergyMarketReadingsTest is EnergyMarketTestBase {
    /// @dev DeliveryLedger promises that until a skipped interval's deadline nobody, such as a relay
    /// replaying a later reading early, can make that interval unrecordable. Here Alice's meter
    /// lost its reading for the interval before t; once that one's deadline has passed, a relay
    /// records her (genuine) reading for t + 2 before her reading for t, whose deadline is still
    /// 15 minutes away, arrives.
    function test_settleBatch_laterReadingCannotVoidAnUnexpiredOne() public {
        uint64 t = interval + 1;
        EnergyMarket.Fill[] memory fills = _cleared(t);
        vm.warp(_endOf(interval) + SETTLEMENT_DELAY_SECONDS);

        // The relay's attempt may be refused or not: either way, Alice's reading for t must count.
        MeterReading memory later = MeterReading({
            meter: aliceMeter,
            interval: t + 2,
            sequence: 4,
            importStartWh: 0,
            importEndWh: 0,
            exportStartWh: 40_000,
            exportEndWh: 40_000,
            timestamp: uint64(block.timestamp)
        });
        bytes memory laterSignature = _signReading(ledger, ALICE_METER_KEY, later);
        bool relayed;
        try ledger.recordReading(later, laterSignature) {
            relayed = true;
        } catch {
            relayed = false;
        }
        assertTrue(block.timestamp < _endOf(t) + SETTLEMENT_DELAY_SECONDS, "t's deadline is still ahead");
        // Fails today: the relayed reading was accepted (relayed == true) and made t unrecordable.
        _recordAliceReading(t, 2, BID_WH);

        market.settleBatch(t, 0, fills);
        uint256 paid = (uint256(BID_WH) * CLEARING_PRICE) / 1000;
        assertEq(market.balanceOf(ALICE), paid + _lock(OFFER_WH, PENALTY_PER_KWH), "alice paid in full");
    }

    function _endOf(uint64 t) internal pure returns (uint256) {
        return (uint256(t) + 1) * INTERVAL_SECONDS;
    }
}
