// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {console} from "hardhat/console.sol";
import {EnergyMarketInvariantTest, EnergyMarketHandler} from "./EnergyMarket.invariant.t.sol";

interface VmSnap {
    function snapshotState() external returns (uint256);
    function revertToState(uint256) external returns (bool);
}

contract ZzSimTest is EnergyMarketInvariantTest {
    VmSnap internal constant vs = VmSnap(address(uint160(uint256(keccak256("hevm cheat code")))));

    function test_sim() public {
        uint256 snap = vs.snapshotState();
        uint256 runs = 40;
        uint256 depth = 120;
        uint256[8] memory hits;
        uint256[8] memory totals;
        for (uint256 r = 0; r < runs; r++) {
            vs.revertToState(snap);
            for (uint256 d = 0; d < depth; d++) {
                uint256 h = uint256(keccak256(abi.encode(r, d)));
                uint256 a = uint256(keccak256(abi.encode(h, 1)));
                uint256 b = uint256(keccak256(abi.encode(h, 2)));
                uint256 c = uint256(keccak256(abi.encode(h, 3)));
                uint256 e = uint256(keccak256(abi.encode(h, 4)));
                uint256 s = h % 10;
                if (s == 0) handler.placeOffer(a, b, c, e);
                else if (s == 1) handler.placeBid(a, b, c, e);
                else if (s == 2) handler.cancelOrder(a);
                else if (s == 3) handler.warp(a, b);
                else if (s == 4) handler.submitClearing(a, b, c % 2 == 0);
                else if (s == 5) handler.recordReading(a, b, c, e);
                else if (s == 6) handler.settleBatch(a);
                else if (s == 7) handler.releaseUnfilled(a, b);
                else if (s == 8) handler.withdraw(a, b, c);
                else handler.setPenaltyPerKwh(a);
            }
            uint256[8] memory v = [
                handler.clearingBatches(),
                handler.fillsSubmitted(),
                handler.batchesSettled(),
                handler.fillsSettled(),
                handler.shortfallFillsSettled(),
                handler.ordersReleased(),
                handler.ordersCancelled(),
                handler.readingsRecorded()
            ];
            for (uint256 k = 0; k < 8; k++) {
                if (v[k] > 0) hits[k]++;
                totals[k] += v[k];
            }
            invariant_marketHoldsBalancesAndOpenDeposits();
            invariant_ordersWithinTheirLimits();
            afterInvariant();
        }
        console.log("runs with clearing, fills, batchesSettled", hits[0], hits[1], hits[2]);
        console.log("runs with fillsSettled, shortfall, released", hits[3], hits[4], hits[5]);
        console.log("runs with cancelled, readings", hits[6], hits[7]);
        console.log("totals clearing, fills, batchesSettled", totals[0], totals[1], totals[2]);
        console.log("totals fillsSettled, shortfall, released", totals[3], totals[4], totals[5]);
    }
}
