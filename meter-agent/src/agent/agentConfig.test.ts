import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { AgentConfigError, loadAgentConfig, parseAgentConfig } from "./agentConfig.js";

const base = {
  dataDir: "data",
  key: { keystore: "key.json", passphraseEnv: "PASS" },
  chain: { chainId: 31337, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
  intervalSeconds: 900,
  source: { kind: "simulated", originMs: 0 },
};
const gateway = { kind: "gateway", url: "http://127.0.0.1:8080/v1/readings" };

function refusal(json: unknown): string {
  try {
    parseAgentConfig(json, "/etc/gridmesh");
  } catch (e) {
    assert.ok(e instanceof AgentConfigError);
    return e.message;
  }
  assert.fail("the configuration was accepted");
}

describe("agent configuration: uplinks", () => {
  it("takes one uplink as a list of one, so existing configurations keep working", () => {
    const config = parseAgentConfig({ ...base, uplink: gateway }, "/etc/gridmesh");
    assert.deepEqual(config.uplinks, [{ ...gateway, name: "gateway", batchSize: 100, timeoutMs: 10_000 }]);
    assert.equal("uplink" in config, false);
  });

  it("takes several uplinks, each named", () => {
    const config = parseAgentConfig(
      { ...base, uplinks: [gateway, { kind: "controller" }, { ...gateway, name: "backup" }] },
      "/etc/gridmesh",
    );
    assert.deepEqual(
      config.uplinks.map((u) => (u.kind === "controller" ? u.kind : u.name)),
      ["gateway", "controller", "backup"],
    );
  });

  it("refuses no uplink, both forms at once, two uplinks under one name, and reserved names", () => {
    assert.match(refusal(base), /uplinks: give exactly one of uplink or uplinks/);
    assert.match(
      refusal({ ...base, uplink: gateway, uplinks: [gateway] }),
      /uplinks: give exactly one of uplink or uplinks/,
    );
    assert.match(refusal({ ...base, uplinks: [] }), /uplinks: name at least one uplink/);
    assert.match(
      refusal({ ...base, uplinks: [gateway, { kind: "gateway", url: "http://10.0.0.2/v1/readings" }] }),
      /uplinks\.1: a second uplink named "gateway"/,
    );
    assert.match(
      refusal({ ...base, uplinks: [{ ...gateway, name: "controller" }] }),
      /uplinks\.0\.name: is reserved/,
    );
  });
});

describe("agent configuration: trading", () => {
  const trading = {
    market: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    rpcUrl: "http://127.0.0.1:8545",
    owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  };

  it("is off unless configured, and fills in its defaults", () => {
    assert.equal(parseAgentConfig({ ...base, uplink: gateway }, "/etc/gridmesh").trading, undefined);
    const config = parseAgentConfig({ ...base, uplink: gateway, trading }, "/etc/gridmesh");
    assert.deepEqual(config.trading, {
      ...trading,
      enabled: true,
      intervalsAhead: 1,
      lookbackIntervals: 4,
      minOrderWh: 10,
      confirmations: 1,
      timeoutMs: 60_000,
      retryMs: 5_000,
    });
  });

  it("names each bad trading field", () => {
    const message = refusal({
      ...base,
      uplink: gateway,
      trading: { ...trading, owner: "alice", rpcUrl: "ftp://node", intervalsAhead: 0, sellAbove: 1 },
    });
    for (const field of [
      "trading.owner",
      "trading.rpcUrl",
      "trading.intervalsAhead",
      "trading: Unrecognized key",
    ])
      assert.ok(message.includes(field), `${field} not named in:\n${message}`);
  });
});

describe("agent configuration: the example", () => {
  it("deploy/agent.example.json is a valid configuration with two uplinks and trading", async () => {
    const path = fileURLToPath(new URL("../../deploy/agent.example.json", import.meta.url));
    const config = await loadAgentConfig(path);
    assert.deepEqual(
      config.uplinks.map((u) => u.kind),
      ["gateway", "controller"],
    );
    assert.equal(config.trading?.enabled, true);
  });
});
