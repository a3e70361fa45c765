import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { getAddress, Interface, id, ZeroHash } from "ethers";

import { energyMarketAbi, forwardMarketAbi, meterRegistryAbi } from "@gridmesh/contracts";

import { ChainIndexerError } from "./chainIndexerError.js";
import { ContractSet, type RawLog } from "./indexedContracts.js";

const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const contracts = {
  energyMarket: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  meterRegistry: address(2),
  deliveryLedger: address(3),
  forwardMarket: address(4),
};
const market = new Interface(energyMarketAbi);
const forwards = new Interface(forwardMarketAbi);

function logOf(iface: Interface, from: string, event: string, values: unknown[]): RawLog {
  const { data, topics } = iface.encodeEventLog(event, values);
  return {
    blockNumber: 12,
    blockHash: `0x${"AB".repeat(32)}`,
    index: 3,
    transactionHash: `0x${"CD".repeat(32)}`,
    address: from,
    topics,
    data,
    removed: false,
  };
}

void describe("ContractSet", () => {
  const set = new ContractSet(contracts);

  void it("follows the configured contracts by role, lower-case, skipping those not deployed", () => {
    assert.deepEqual(
      [...set.streams],
      [
        ["energyMarket", contracts.energyMarket.toLowerCase()],
        ["meterRegistry", address(2)],
        ["deliveryLedger", address(3)],
        ["forwardMarket", address(4)],
      ],
    );
  });

  void it("stores a batch's fills as an array of structs with exact decimal strings", () => {
    const fills = [
      { offerId: (1n << 64n) - 1n, bidId: 2n, wh: (1n << 48n) - 1n },
      { offerId: 7n, bidId: 9n, wh: 1n },
    ];
    const log = logOf(market, contracts.energyMarket, "ClearingBatchSubmitted", [
      5n,
      1n,
      150_000n,
      id("x"),
      fills,
    ]);
    const event = set.decode(log);
    assert.deepEqual(event, {
      blockNumber: 12n,
      blockHash: `0x${"ab".repeat(32)}`,
      logIndex: 3,
      txHash: `0x${"cd".repeat(32)}`,
      contract: contracts.energyMarket.toLowerCase(),
      name: "ClearingBatchSubmitted",
      args: {
        interval: "5",
        batch: "1",
        price: "150000",
        fillsHash: id("x"),
        fills: [
          { offerId: "18446744073709551615", bidId: "2", wh: "281474976710655" },
          { offerId: "7", bidId: "9", wh: "1" },
        ],
      },
    });
  });

  void it("keeps signed integers, booleans and nested structs, and lower-cases addresses", () => {
    const terms = {
      firstInterval: 10n,
      lastInterval: 12n,
      whPerInterval: 100n,
      pricing: { basePrice: 120n, slope: -3n, referenceValue: -40n, floor: 1n, cap: 200n, indexId: ZeroHash },
    };
    const proposer = getAddress(`0x${"ab".repeat(20)}`);
    assert.notEqual(proposer, proposer.toLowerCase());
    const log = logOf(forwards, address(4), "ForwardProposed", [
      1n,
      proposer,
      true,
      address(9),
      address(0),
      terms,
      50n,
      7n,
    ]);
    const args = set.decode(log)?.args;
    assert.equal(args?.proposer, proposer.toLowerCase());
    assert.equal(args?.proposerSells, true);
    assert.deepEqual(args?.terms, {
      firstInterval: "10",
      lastInterval: "12",
      whPerInterval: "100",
      pricing: {
        basePrice: "120",
        slope: "-3",
        referenceValue: "-40",
        floor: "1",
        cap: "200",
        indexId: ZeroHash,
      },
    });
  });

  void it("passes over logs of other contracts and topics no ABI event has", () => {
    const enrolled = logOf(new Interface(meterRegistryAbi), address(2), "MeterEnrolled", [
      address(7),
      address(8),
      id("device"),
    ]);
    assert.equal(set.decode({ ...enrolled, address: address(99) }), undefined);
    assert.equal(
      set.decode({ ...enrolled, topics: [id("Unknown(uint256)"), ...enrolled.topics.slice(1)] }),
      undefined,
    );
    assert.equal(set.decode(enrolled)?.name, "MeterEnrolled");
  });

  void it("refuses a known event whose data does not decode, rather than lose it", () => {
    const log = logOf(market, contracts.energyMarket, "ClearingFinalized", [5n, 150_000n, 2n]);
    assert.throws(() => set.decode({ ...log, data: "0x01" }), ChainIndexerError);
  });

  void it("refuses invalid and repeated addresses", () => {
    assert.throws(
      () => new ContractSet({ ...contracts, deliveryLedger: "0x1234" }),
      /deliveryLedger has an invalid/,
    );
    assert.throws(
      () => new ContractSet({ ...contracts, optionMarket: address(4) }),
      /optionMarket has the same address/,
    );
  });
});
