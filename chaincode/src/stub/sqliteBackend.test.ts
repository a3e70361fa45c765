import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { EmbeddedLedger } from "../client/embeddedLedger.js";
import { Keychecker } from "../client/keychecker.js";
import { SecureIdClient } from "../client/secureIdClient.js";
import type { SecureIdLedgerError } from "../client/secureIdLedger.js";
import { ATTRIBUTES, ORGS, randomMeter, UTILITY, VERIFIER_ORGS } from "../testing/secureIdFixture.js";
import { SqliteBackend } from "./sqliteBackend.js";
import type { StateBackend } from "./stateBackend.js";

/** All committed state, for before/after comparisons. */
function contents(backend: StateBackend): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return JSON.stringify({
    height: backend.height(),
    state: backend.getStateRange("\x00", "").map((kv) => [kv.key, hex(kv.value)]),
    private: VERIFIER_ORGS.map((org) =>
      backend.getPrivateRange(`_implicit_org_${org}`, "\x00", "").map((kv) => [kv.key, hex(kv.value)]),
    ),
    events: backend.eventsFrom(0).map((e) => [e.blockNumber, e.txId, e.name, hex(e.payload)]),
  });
}

describe("persistent embedded ledger (node:sqlite)", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), "secureid-"))));
  after(() => rm(dir, { recursive: true, force: true }));

  it("keeps identities, private shards, history and events across close and reopen", async () => {
    const path = join(dir, "ledger.sqlite");
    const device = DeviceIdentity.generate();
    let ledger = new EmbeddedLedger({ orgs: ORGS, path });
    for (const org of VERIFIER_ORGS) await new SecureIdClient(ledger, org).registerVerifierOrg(randomMeter());
    const { document, txId } = await device.provision(new SecureIdClient(ledger, UTILITY), {
      meter: randomMeter(),
      attributes: ATTRIBUTES,
    });
    await device.keymaker(new SecureIdClient(ledger, UTILITY), {
      document,
      verifiers: VERIFIER_ORGS.slice(0, 3),
      k: 2,
    });
    const height = ledger.height();
    await ledger.close();

    ledger = new EmbeddedLedger({ orgs: ORGS, path });
    const client = new SecureIdClient(ledger, "Verifier2MSP");
    assert.equal(ledger.height(), height);
    const identity = await client.getIdentity(device.deviceId);
    assert.equal(identity.seal?.epoch, 1);
    const history = await client.getIdentityHistory(device.deviceId);
    assert.deepEqual(history.map((h) => h.txId).at(-1), txId);
    const events = await ledger.events({ asOrg: UTILITY });
    const names: string[] = [];
    for await (const event of events) {
      names.push(event.name);
      if (event.blockNumber === height) break;
    }
    events.close();
    assert.deepEqual(names.slice(-5), [
      "IdentityProvisioned",
      "IdentitySealed",
      "ShardDeposited",
      "ShardDeposited",
      "ShardDeposited",
    ]);
    // The shards are still in the verifiers' private collections: a full verification works.
    const outcome = await new Keychecker(new SecureIdClient(ledger, UTILITY)).verify(device.deviceId, device);
    assert.equal(outcome.ok, true, outcome.reason);
    await ledger.close();
  });

  it("writes nothing for a failing transaction", async () => {
    const path = join(dir, "failing.sqlite");
    const ledger = new EmbeddedLedger({ orgs: ORGS, path });
    const device = DeviceIdentity.generate();
    await device.provision(new SecureIdClient(ledger, UTILITY), {
      meter: randomMeter(),
      attributes: ATTRIBUTES,
    });
    await ledger.close();
    const probe = new SqliteBackend(path);
    const before = contents(probe);
    probe.close();

    const again = new EmbeddedLedger({ orgs: ORGS, path });
    await assert.rejects(
      device.provision(new SecureIdClient(again, UTILITY), { meter: randomMeter(), attributes: ATTRIBUTES }),
      (e: SecureIdLedgerError) => e.code === "SecureIdDeviceExists",
    );
    await again.close();
    const check = new SqliteBackend(path);
    assert.equal(contents(check), before);
    check.close();
  });

  it("rolls a commit back whole when it fails part-way", () => {
    const backend = new SqliteBackend(join(dir, "atomic.sqlite"));
    const write = (txId: string, writes: { key: string; value: Uint8Array | null }[]) =>
      backend.commit({
        txId,
        timestamp: { seconds: 1, nanos: 0 },
        fn: "Test",
        creatorMsp: UTILITY,
        writes,
        privateWrites: [],
        event: null,
      });
    write("t1", [{ key: "a", value: new Uint8Array([1]) }]);
    const before = contents(backend);
    assert.throws(() =>
      write("t2", [
        { key: "a", value: new Uint8Array([2]) },
        { key: "b", value: { not: "bytes" } as unknown as Uint8Array },
      ]),
    );
    assert.equal(contents(backend), before);
    assert.equal(backend.hasTransaction("t2"), false);
    assert.throws(
      () => write("t1", [{ key: "c", value: new Uint8Array([3]) }]),
      /t1 was already committed \(DUPLICATE_TXID\)/,
    );
    assert.equal(backend.getState("c"), undefined);
    backend.close();
  });
});
