import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";

import { buildTopology, loadTopology } from "./buildTopology.js";
import { TopologyConfigError } from "./errors.js";
import { BatteryServer } from "./network/batteryServer.js";
import { NetworkedBattery } from "./network/networkedBattery.js";
import { simulatedBattery } from "./simulatedBattery.js";
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

const secret = "topology-test-secret-0123456789-abcdef";

/** A battery server on another "node" serving R (20 Ah, 4 A each way), its time standing still. */
async function remoteNode(t: TestContext) {
  const R = simulatedBattery(
    "R",
    { capacity: 20, stateOfCharge: 0.5, maxChargeCurrent: 4, maxDischargeCurrent: 4 },
    () => 1_700_000_000_000,
  ).battery;
  const server = new BatteryServer({ batteries: [R], keys: { "home-1": { secret } }, port: 0 });
  const url = await server.listen();
  t.after(() => server.close());
  return { R, url };
}

const net = (fields: Record<string, unknown>) => ({
  name: "N",
  kind: "network",
  url: "http://127.0.0.1:7400/",
  keyId: "home-1",
  secretEnv: "BAL_SECRET",
  ...fields,
});

describe("network batteries in a topology config", () => {
  it("say which fields are missing, and refuse secrets written in the config", () => {
    assert.deepEqual(
      problems({
        batteries: [
          { name: "N1", kind: "network" },
          net({ name: "N2", url: "ftp://x/", secretFile: "/run/secret" }),
          net({ name: "N3", secretEnv: undefined, secret: "hunter2" }),
          net({ name: "N4", maxDischargeCurrent: 5 }),
        ],
      }),
      [
        'battery "N1".url: required for kind "network": the battery server\'s base URL, e.g. http://10.0.0.2:7400/',
        'battery "N1".keyId: required for kind "network": the key id the server knows this client by',
        'battery "N1": kind "network" needs exactly one of secretEnv (an environment variable) or secretFile (a file) holding the shared secret',
        'battery "N2".url: must be an http:// or https:// URL',
        'battery "N2": kind "network" needs exactly one of secretEnv (an environment variable) or secretFile (a file) holding the shared secret',
        'battery "N3".secret: secrets are not written in the config: name a variable (secretEnv) or a file (secretFile)',
        'battery "N4": Unrecognized key: "maxDischargeCurrent"',
      ],
    );
  });

  it("builds a NetworkedBattery that joins local batteries in an aggregate", async (t) => {
    const { R, url } = await remoteNode(t);
    const config = parseTopologyConfig({
      batteries: [sim("L"), net({ name: "home-2/R", remoteName: "R", url })],
      aggregators: [{ name: "C", members: ["L", "home-2/R"] }],
    });
    const topology = buildTopology(config, { env: { BAL_SECRET: secret } });
    assert.ok(topology.get("home-2/R") instanceof NetworkedBattery);
    assert.deepEqual(await topology.get("home-2/R").getStatus(), await R.getStatus());
    const c = await topology.get("C").getStatus();
    assert.equal(c.capacity, 30);
    await topology.get("C").setCurrent(6);
    assert.equal((await R.getStatus()).current, 4, "R's share of 6 A, by its 4 of 6 A limit");
    assert.equal((await topology.get("L").getStatus()).current, 2);
  });

  it("reads the secret from a file beside the topology file", async (t) => {
    const { R, url } = await remoteNode(t);
    const dir = await mkdtemp(join(tmpdir(), "bal-"));
    await writeFile(join(dir, "home-2.secret"), `${secret}\n`, { mode: 0o600 });
    const path = join(dir, "topology.json");
    await writeFile(
      path,
      JSON.stringify({
        batteries: [net({ name: "R", url, secretEnv: undefined, secretFile: "home-2.secret" })],
      }),
    );
    const topology = await loadTopology(path, { env: {} });
    await topology.get("R").setCurrent(-3);
    assert.equal((await R.getStatus()).current, -3);
  });

  it("says which secret is missing or unusable, never what it holds", () => {
    const build = (battery: Record<string, unknown>, env: Record<string, string>) =>
      buildTopology(parseTopologyConfig({ batteries: [net(battery)] }), { env, baseDir: "/nonexistent" });
    assert.throws(
      () => build({}, {}),
      /battery "N": the environment variable BAL_SECRET holding the secret is not set/,
    );
    assert.throws(
      () => build({ secretEnv: undefined, secretFile: "bal.secret" }, {}),
      /battery "N": cannot read the secret file \/nonexistent\/bal\.secret: ENOENT/,
    );
    assert.throws(
      () => build({}, { BAL_SECRET: "hunter2" }),
      (error: unknown) => {
        assert.ok(error instanceof TopologyConfigError);
        assert.deepEqual(error.problems, [
          'battery "N": the shared secret has 7 characters, at least 32 are required',
        ]);
        return true;
      },
    );
    assert.throws(
      () => build({ url: "http://user:pw@127.0.0.1/" }, { BAL_SECRET: secret }),
      /battery "N": url must not carry a user name or password/,
    );
  });
});
