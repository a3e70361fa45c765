import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { checkpointers } from "@hyperledger/fabric-gateway";

import { unmarshal } from "../marshal.js";
import { MemoryBackend } from "../stub/memoryBackend.js";
import { ATTRIBUTES, randomMeter } from "../testing/secureIdFixture.js";
import { DeviceIdentity } from "./deviceIdentity.js";
import { EmbeddedLedger } from "./embeddedLedger.js";
import { SecureIdClient } from "./secureIdClient.js";
import type { SecureIdLedgerError } from "./secureIdLedger.js";
import { type CloseableEvents, type LedgerEvent } from "./secureIdLedger.js";

const ORGS = ["UtilityMSP", "Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

async function take(events: CloseableEvents, count: number): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  if (count === 0) return out;
  for await (const event of events) {
    out.push(event);
    if (out.length === count) break;
  }
  return out;
}

describe("EmbeddedLedger", () => {
  it("refuses public writes endorsed by fewer organisations than the MAJORITY policy needs", async () => {
    const backend = new MemoryBackend();
    const ledger = new EmbeddedLedger({ orgs: ORGS, backend });
    const before = backend.dump();
    await assert.rejects(
      ledger.submit("RegisterVerifierOrg", [randomMeter()], {
        asOrg: "Verifier1MSP",
        endorsingOrgs: ["Verifier1MSP"],
      }),
      (e: SecureIdLedgerError) =>
        e.kind === "commit" &&
        e.context.status === "ENDORSEMENT_POLICY_FAILURE" &&
        /MAJORITY needs 3 of 4/.test(e.message),
    );
    assert.equal(backend.dump(), before);
    await ledger.close();
  });

  it("delivers events in block order and resumes after a fabric-gateway checkpoint", async () => {
    const ledger = new EmbeddedLedger({ orgs: ORGS });
    const live = await ledger.events({ asOrg: "Verifier2MSP" });
    const firstTwo = take(live, 2);
    for (const org of ORGS.slice(1)) await new SecureIdClient(ledger, org).registerVerifierOrg(randomMeter());
    const seen = await firstTwo;
    live.close();
    assert.deepEqual(
      seen.map((e) => [e.blockNumber, e.name]),
      [
        [1n, "VerifierOrgRegistered"],
        [2n, "VerifierOrgRegistered"],
      ],
    );
    assert.equal((unmarshal(seen[1]!.payload, "event") as { mspId: string }).mspId, "Verifier2MSP");

    const checkpoint = checkpointers.inMemory();
    await checkpoint.checkpointChaincodeEvent({
      ...seen[1]!,
      transactionId: seen[1]!.txId,
      chaincodeName: "secureid",
      eventName: seen[1]!.name,
    });
    const device = DeviceIdentity.generate();
    await device.provision(new SecureIdClient(ledger, "UtilityMSP"), {
      meter: randomMeter(),
      attributes: ATTRIBUTES,
    });
    const resumed = await ledger.events({ asOrg: "UtilityMSP", checkpoint });
    assert.deepEqual(
      (await take(resumed, 2)).map((e) => [e.blockNumber, e.name]),
      [
        [3n, "VerifierOrgRegistered"],
        [4n, "IdentityProvisioned"],
      ],
    );
    resumed.close();
    await ledger.close();
  });

  it("ends event streams when the ledger closes and refuses further work", async () => {
    const ledger = new EmbeddedLedger({ orgs: ORGS });
    const events = await ledger.events({ asOrg: "UtilityMSP" });
    const drained = take(events, 10);
    await ledger.close();
    assert.deepEqual(await drained, []);
    await assert.rejects(
      ledger.evaluate("GetVerifierOrgs", [], { asOrg: "UtilityMSP" }),
      /the ledger is closed/,
    );
    assert.throws(() => ledger.setPeerDown("NobodyMSP", true), /NobodyMSP is not an organisation/);
  });
});
