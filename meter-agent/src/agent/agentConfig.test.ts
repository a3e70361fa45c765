import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AgentConfigError, parseAgentConfig } from "./agentConfig.js";

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
