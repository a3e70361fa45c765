import assert from "node:assert/strict";
import { describe, it } from "node:test";

import nacl from "tweetnacl";

import { canonicalJson } from "../marshal.js";
import { SecureId } from "../contract/secureIdContract.js";
import { sealDocument } from "../protocol/documentBox.js";
import { deviceIdOf, generateDeviceKeyPair, signDeviceMessage } from "../protocol/ed25519.js";
import { toHex } from "../protocol/hex.js";
import { documentBytes, documentHash } from "../protocol/identityDocument.js";
import { challengeMessage, provisionMessage, sealMessage, verifyMessage } from "../protocol/messages.js";
import { DEPOSIT_TRANSIENT_KEY } from "../protocol/records.js";
import { splitKey } from "../protocol/shards.js";
import { ChaincodeRunner, type Proposal, type Simulation } from "./chaincodeRunner.js";
import { MemoryBackend } from "./memoryBackend.js";
import { SqliteBackend } from "./sqliteBackend.js";
import type { StateBackend } from "./stateBackend.js";

interface Step {
  proposal: Proposal;
  peer: string;
  commit: boolean;
}

/** One fixed script of proposals (ids, times, signatures all decided up front) covering every kind of write. */
async function script(): Promise<Step[]> {
  const keys = generateDeviceKeyPair();
  const publicKey = toHex(keys.publicKey);
  const deviceId = deviceIdOf(keys.publicKey);
  const meter = `0x${"42".repeat(20)}`;
  const document = {
    deviceId,
    publicKey,
    meter,
    ownerMsp: "UtilityMSP",
    attributes: { manufacturer: "Eastron", model: "SDM72", serial: "7" },
  };
  const attributesHash = documentHash(document);
  const { key, sealed, ciphertextHash } = sealDocument(documentBytes(document));
  const { verifierShards } = await splitKey(key, 3, 2);
  const verifiers = ["V1MSP", "V2MSP", "V3MSP"];
  const commitments = verifierShards.map((s) => s.commitment);
  const recipientKey = toHex(nacl.box.keyPair().publicKey);
  const requestId = "request-determinism";
  const challenge = "c3".repeat(32);
  let n = 0;
  const step = (
    fn: string,
    args: string[],
    mspId: string,
    peer = mspId,
    transient?: Map<string, Uint8Array>,
    commit = true,
  ): Step => {
    n++;
    return {
      proposal: {
        fn,
        args,
        ...(transient ? { transient } : {}),
        txId: n.toString(16).padStart(64, "0"),
        timestamp: { seconds: 1_780_000_000 + n, nanos: 123_000_000 },
        creator: { mspId, id: `${mspId}-client` },
      },
      peer,
      commit,
    };
  };
  const depositOf = (i: number) =>
    new Map([
      [
        DEPOSIT_TRANSIENT_KEY,
        new TextEncoder().encode(
          canonicalJson({
            shard: verifierShards[i]!.shard,
            salt: verifierShards[i]!.salt,
            ciphertext: toHex(sealed),
          }),
        ),
      ],
    ]);
  return [
    ...verifiers.map((v, i) => step("RegisterVerifierOrg", [`0x${String(i + 1).repeat(40)}`], v)),
    step(
      "ProvisionIdentity",
      [
        deviceId,
        publicKey,
        meter,
        attributesHash,
        signDeviceMessage(
          keys.privateKey,
          provisionMessage({ deviceId, publicKey, meter, attributesHash, ownerMsp: "UtilityMSP" }),
        ),
      ],
      "UtilityMSP",
    ),
    step(
      "SealIdentity",
      [
        deviceId,
        ciphertextHash,
        JSON.stringify(commitments),
        JSON.stringify(verifiers),
        "2",
        "1",
        signDeviceMessage(
          keys.privateKey,
          sealMessage({ deviceId, ciphertextHash, commitments, verifiers, k: 2, epoch: 1 }),
        ),
      ],
      "UtilityMSP",
    ),
    ...verifiers.map((v, i) => step("DepositShard", [deviceId, "1"], "UtilityMSP", v, depositOf(i))),
    step(
      "RequestVerification",
      [
        requestId,
        deviceId,
        "1",
        challenge,
        recipientKey,
        signDeviceMessage(
          keys.privateKey,
          verifyMessage({
            requestId,
            deviceId,
            epoch: 1,
            challenge,
            requesterMsp: "UtilityMSP",
            recipientKey,
          }),
        ),
      ],
      "UtilityMSP",
    ),
    step("ReleaseShard", [requestId], "UtilityMSP", "V2MSP", undefined, false),
    step(
      "RecordVerdict",
      [
        requestId,
        canonicalJson({ ok: true, reason: "verified", documentHash: attributesHash, shardIndices: [0, 1] }),
        signDeviceMessage(keys.privateKey, challengeMessage({ requestId, deviceId, challenge })),
      ],
      "UtilityMSP",
    ),
    step("GetIdentityHistory", [deviceId], "V3MSP", "V3MSP", undefined, false),
  ];
}

async function run(backend: StateBackend, steps: readonly Step[]): Promise<string[]> {
  const runner = new ChaincodeRunner(new SecureId(), "gridmesh");
  const results: string[] = [];
  for (const { proposal, peer, commit } of steps) {
    const simulation: Simulation = await runner.simulate(backend, proposal, peer);
    assert.ok(simulation.ok, `${proposal.fn} failed: ${simulation.ok ? "" : simulation.message}`);
    results.push(
      canonicalJson({
        fn: proposal.fn,
        payload: toHex(simulation.payload),
        writes: simulation.writes.map((w) => [w.key, w.value && toHex(w.value)]),
        privateWrites: simulation.privateWrites.map((w) => [w.collection, w.key, w.value && toHex(w.value)]),
        event: simulation.event && [simulation.event.name, toHex(simulation.event.payload)],
      }),
    );
    if (commit) {
      backend.commit({
        txId: proposal.txId,
        timestamp: proposal.timestamp,
        fn: proposal.fn,
        creatorMsp: proposal.creator.mspId,
        ...simulation,
      });
    }
  }
  return results;
}

describe("determinism", () => {
  it("gives byte-identical write sets, events and results for the same transactions on two fresh stubs", async () => {
    const steps = await script();
    const memory = await run(new MemoryBackend(), steps);
    const again = await run(new MemoryBackend(), steps);
    const sqlite = new SqliteBackend(":memory:");
    const onSqlite = await run(sqlite, steps);
    sqlite.close();
    assert.equal(memory.length, steps.length);
    assert.deepEqual(again, memory);
    assert.deepEqual(onSqlite, memory);
    // The script did exercise public writes, private writes and events.
    assert.ok(memory.some((r) => r.includes('"privateWrites":[["_implicit_org_V2MSP"')));
    assert.ok(memory.some((r) => r.includes("VerdictRecorded")));
  });
});
