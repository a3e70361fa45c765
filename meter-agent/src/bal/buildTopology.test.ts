import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { buildTopology, loadTopology } from "./buildTopology.js";
import { TopologyConfigError } from "./errors.js";
import { parseTopologyConfig } from "./topologyConfig.js";

const sim = (name: string) => ({
  name,
  kind: "simulated",
  capacity: 10,
  stateOfCharge: 0.5,
  voltage: 12,
  maxChargeCurrent: 5,
  maxDischargeCurrent: 5,
});

function problems(raw: unknown): string[] {
  try {
    parseTopologyConfig(raw);
  } catch (error) {
    assert.ok(error instanceof TopologyConfigError, String(error));
    return [...error.problems];
  }
  assert.fail("the config was accepted");
}

describe("topology config", () => {
  it("names the offending node in field errors", () => {
    const found = problems({
      batteries: [{ ...sim("A1"), capacity: undefined }, { ...sim("J"), kind: "jbd" }, { kind: "simulated" }],
      aggregators: [{ name: "H", members: [] }],
      splitters: [{ source: "H", policy: "fair", partitions: [{ name: "O1", fraction: 0 }] }],
    });
    assert.deepEqual(found, [
      'battery "A1".capacity: required for kind "simulated"',
      'battery "J".interface: required for kind "jbd"',
      "batteries[2].name: Invalid input: expected string, received undefined",
      "batteries[2].maxChargeCurrent: Invalid input: expected number, received undefined",
      "batteries[2].maxDischargeCurrent: Invalid input: expected number, received undefined",
      'aggregator "H".members: needs at least one member',
      'splitter of "H".policy: Invalid option: expected one of "proportional"|"tranched"|"reserved"',
      'partition "O1" of "H".fraction: Too small: expected number to be >0',
    ]);
  });

  it("rejects unknown keys, so that a misspelt setting is not silently ignored", () => {
    assert.deepEqual(problems({ batteries: [{ ...sim("A1"), maxDischargeCurent: 3 }] }), [
      'battery "A1": Unrecognized key: "maxDischargeCurent"',
    ]);
  });

  it("finds unknown names, names used twice, batteries with two parents, and cycles", () => {
    assert.deepEqual(
      problems({
        batteries: [sim("A1"), sim("A2"), sim("A2")],
        aggregators: [
          { name: "H", members: ["A1", "Z"] },
          { name: "G", members: ["A1"] },
          { name: "X", members: ["P1"] },
        ],
        splitters: [
          {
            source: "X",
            policy: "reserved",
            partitions: [
              { name: "P1", fraction: 0.5 },
              { name: "P2", fraction: 0.5 },
            ],
          },
        ],
      }),
      [
        'battery "A2": name "A2" is already used by battery "A2"',
        'aggregator "H": no battery named "Z"',
        'aggregator "G": battery "A1" already belongs to aggregator "H"',
        'cycle: aggregator "X", splitter of "X" depend on each other',
      ],
    );
  });

  it("requires partition fractions to sum to 1", () => {
    assert.deepEqual(
      problems({
        batteries: [sim("A")],
        splitters: [
          {
            source: "A",
            policy: "tranched",
            partitions: [
              { name: "P1", fraction: 0.5 },
              { name: "P2", fraction: 0.3 },
            ],
          },
        ],
      }),
      ['splitter of "A".partitions: fractions must sum to 1, got 0.8'],
    );
  });

  it("reports a kind without a driver when building", () => {
    const config = parseTopologyConfig({
      batteries: [{ ...sim("J"), kind: "jbd", interface: "/dev/ttyUSB0" }],
    });
    assert.throws(() => buildTopology(config), /battery "J": no driver for kind "jbd"/);
  });

  it("builds deep compositions: tranches of aggregates of tranches", async () => {
    const config = parseTopologyConfig({
      batteries: [sim("A"), sim("B")],
      aggregators: [{ name: "AB", members: ["A-top", "B-top"] }],
      splitters: [
        {
          source: "AB",
          policy: "reserved",
          partitions: [
            { name: "AB1", fraction: 0.5 },
            { name: "AB2", fraction: 0.5 },
          ],
        },
        {
          source: "A",
          policy: "tranched",
          partitions: [
            { name: "A-top", fraction: 0.5 },
            { name: "A-low", fraction: 0.5 },
          ],
        },
        {
          source: "B",
          policy: "tranched",
          partitions: [
            { name: "B-top", fraction: 0.5 },
            { name: "B-low", fraction: 0.5 },
          ],
        },
      ],
    });
    const t = buildTopology(config, { clock: () => 0 });
    const s = await t.get("AB1").getStatus();
    assert.equal(s.capacity, 5);
    assert.equal(s.stateOfCharge, 0.5);
    await t.get("AB1").setCurrent(1);
    assert.equal((await t.get("A").getStatus()).current, 0.5);
    assert.equal((await t.get("B").getStatus()).current, 0.5);
  });

  it("reports unreadable files with their path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bal-"));
    const path = join(dir, "topology.json");
    await writeFile(path, "{ not json");
    await assert.rejects(loadTopology(path), (error: unknown) => {
      assert.ok(error instanceof TopologyConfigError);
      assert.ok(error.problems[0]!.startsWith(`${path}: `));
      return true;
    });
    await writeFile(path, JSON.stringify({ aggregators: [{ name: "H", members: ["A"] }] }));
    await assert.rejects(loadTopology(path), new RegExp(`${path}: aggregator "H": no battery named "A"`));
    await assert.rejects(loadTopology(join(dir, "missing.json")), /missing\.json: ENOENT/);
  });
});
