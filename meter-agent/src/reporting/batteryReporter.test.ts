import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { Wallet, verifyTypedData } from "ethers";

import {
  type Address,
  batteryReportTypes,
  gatewayDomain,
  mutableTypes,
  signedBatteryReportSchema,
} from "@gridmesh/contracts";

import { buildTopology } from "../bal/buildTopology.js";
import { parseTopologyConfig } from "../bal/topologyConfig.js";
import { createAgentLogger } from "../common/logger.js";
import { BatteryReporter } from "./batteryReporter.js";
import { batteryNodes, readBatteryStates } from "./batterySnapshot.js";

const cell = (name: string, stateOfCharge: number) => ({
  name,
  kind: "simulated",
  capacity: 100,
  stateOfCharge,
  voltage: 50,
  maxChargeCurrent: 20,
  maxDischargeCurrent: 20,
});

/** Two cells in one pack, the pack split between the household and a community share, and a
 * neighbour's battery over the network whose server is down. */
const config = parseTopologyConfig({
  batteries: [
    cell("left", 0.5),
    cell("right", 0.5),
    {
      name: "neighbour",
      kind: "network",
      url: "http://127.0.0.1:9/",
      keyId: "home-1",
      secretEnv: "GM_TEST_SECRET",
      timeout: 200,
    },
  ],
  aggregators: [{ name: "pack", members: ["left", "right"] }],
  splitters: [
    {
      source: "pack",
      policy: "proportional",
      partitions: [
        { name: "household", fraction: 0.7 },
        { name: "community", fraction: 0.3 },
      ],
    },
  ],
});

describe("battery reports", () => {
  let nowMs = Date.parse("2026-11-01T12:00:00Z");
  const clock = { now: () => nowMs, delayUntil: () => 0 };
  process.env.GM_TEST_SECRET = "a-shared-secret-of-enough-length-for-tests";
  const topology = buildTopology(config, { clock: clock.now });
  const nodes = batteryNodes(config);

  it("lists every battery of the topology with its kind and a partition's source", () => {
    assert.deepEqual(
      nodes.map((n) => [n.name, n.kind, n.source]),
      [
        ["left", "physical", ""],
        ["right", "physical", ""],
        ["neighbour", "network", ""],
        ["pack", "aggregate", ""],
        ["household", "partition", "pack"],
        ["community", "partition", "pack"],
      ],
    );
  });

  it("reads each battery in milli-units, partitions with their accounted charge, a dead one with its error", async () => {
    await topology.get("household").setCurrent(10); // discharging 10 A
    await topology.get("community").setCurrent(-5); // charging 5 A
    nowMs += 3_600_000; // one hour
    const states = new Map((await readBatteryStates(topology, nodes)).map((s) => [s.name, s]));

    const pack = states.get("pack")!;
    assert.equal(pack.error, "");
    assert.equal(pack.capacityMah, 200_000);
    assert.equal(pack.voltageMv, 50_000);
    const household = states.get("household")!;
    const community = states.get("community")!;
    // The partitions share out the pack: their capacities add up to it, in the configured fractions.
    assert.equal(household.capacityMah + community.capacityMah, pack.capacityMah);
    assert.equal(household.capacityMah, 140_000);
    assert.equal(household.source, "pack");
    // An hour at 10 A out of the household and 5 A into the community share.
    assert.equal(household.dischargedMah, 10_000);
    assert.equal(community.chargedMah, 5_000);
    assert.equal(household.currentMa, 10_000);
    // Only the net 5 A left the pack: 100 Ah - 5 Ah of 200 Ah.
    assert.equal(pack.stateOfChargePpm, 475_000);

    const neighbour = states.get("neighbour")!;
    assert.notEqual(neighbour.error, "");
    assert.equal(neighbour.capacityMah, 0);
  });

  describe("delivery", () => {
    let server: Server;
    let url: string;
    let bodies: unknown[] = [];
    let status = 200;
    before(async () => {
      server = createServer((req, res) => {
        let text = "";
        req.on("data", (c: Buffer) => (text += c.toString()));
        req.on("end", () => {
          bodies.push(JSON.parse(text));
          res.writeHead(status, { "content-type": "application/json" }).end("{}");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/battery-reports`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const meterKey = Wallet.createRandom();
    const reporter = () =>
      new BatteryReporter({
        url,
        signer: meterKey,
        meter: meterKey.address as Address,
        chainId: 31337n,
        clock,
        states: () => readBatteryStates(topology, nodes),
        log: createAgentLogger("silent"),
      });

    it("posts a report the gateway's schema accepts, signed by the meter's key at the agent's time", async () => {
      bodies = [];
      await reporter().report();
      assert.equal(bodies.length, 1);
      const { report, signature } = signedBatteryReportSchema.parse(bodies[0]);
      assert.equal(report.takenAt, Math.floor(nowMs / 1000));
      assert.equal(report.batteries.length, nodes.length);
      const signer = verifyTypedData(
        gatewayDomain(31337n),
        mutableTypes(batteryReportTypes),
        report,
        signature,
      );
      assert.equal(signer, meterKey.address);
    });

    it("drops a report the gateway refuses without throwing, and sends the next one", async () => {
      bodies = [];
      const r = reporter();
      status = 503;
      await r.report();
      status = 200;
      nowMs += 60_000;
      await r.report();
      assert.equal(bodies.length, 2);
      const takenAt = bodies.map((b) => signedBatteryReportSchema.parse(b).report.takenAt);
      assert.equal(takenAt[1]! - takenAt[0]!, 60);
    });
  });
});
