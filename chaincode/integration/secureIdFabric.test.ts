import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { meterRegistryDomain } from "@gridmesh/contracts";
import { checkpointers } from "@hyperledger/fabric-gateway";
import { Wallet } from "ethers";
import nacl from "tweetnacl";

import { DeviceIdentity } from "../src/client/deviceIdentity.js";
import { FabricLedger } from "../src/client/fabricLedger.js";
import { Keychecker } from "../src/client/keychecker.js";
import { SecureIdClient } from "../src/client/secureIdClient.js";
import { SecureIdLedgerError, type CloseableEvents, type LedgerEvent } from "../src/client/secureIdLedger.js";
import { recoverAttestationSigner, VerifierAttestor } from "../src/client/verifierAttestor.js";
import { ensureVerifierOrg } from "../src/client/verifierOrgs.js";
import { unmarshal } from "../src/marshal.js";
import type { SecureIdErrorCode } from "../src/protocol/errors.js";
import { toHex } from "../src/protocol/hex.js";
import type { IdentityDocument } from "../src/protocol/identityDocument.js";
import { challengeMessage, verifyMessage } from "../src/protocol/messages.js";
import { EVENTS, type VerdictInput } from "../src/protocol/records.js";
import type { ReleasePayload } from "../src/protocol/releaseBox.js";
import { depositOf, flipFirst, lyingRelease, sealByHand, type HandSeal } from "./handKeymaker.js";
import { InterceptedLedger } from "./interceptedLedger.js";
import { startTestNetwork, type TestNetwork } from "./testNetwork.js";

const UTILITY = "UtilityMSP";
const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"] as const;
const [V1, V2, V3] = VERIFIERS;
const K = 2;
const DOMAIN = meterRegistryDomain(31337n, "0x5fbdb2315678afecb367f032d93f642f64180aa3");

/** The ledger refused with `code`, in transaction `fn` when given. */
async function refusedWith(action: Promise<unknown>, code: SecureIdErrorCode, fn?: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof SecureIdLedgerError, `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (fn) assert.equal(error.context.fn, fn, error.message);
    return true;
  });
}

async function take(events: CloseableEvents, count: number): Promise<LedgerEvent[]> {
  const taken: LedgerEvent[] = [];
  for await (const event of events) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

/** The device's answer to a request's challenge, as it gives it to the requester. */
function responseTo(
  device: DeviceIdentity,
  request: { requestId: string; deviceId: string; challenge: string },
) {
  const { requestId, deviceId, challenge } = request;
  return device.sign(challengeMessage({ requestId, deviceId, challenge }));
}

const randomMeter = () => `0x${toHex(randomBytes(20))}`;
const attributes = () => ({
  manufacturer: "Eastron",
  model: "SDM630",
  serial: `IT-${toHex(randomBytes(4))}`,
});

describe("Secure ID on a real Fabric network (utility + 3 verifier organisations, k = 2)", () => {
  let network: TestNetwork | undefined;
  let ledger: FabricLedger;
  let utility: SecureIdClient;
  const client = (org: string) => new SecureIdClient(ledger, org);
  const wallets = new Map(VERIFIERS.map((org) => [org as string, Wallet.createRandom()]));
  /** Devices whose identities the whole-network restart must keep. */
  const kept: DeviceIdentity[] = [];

  before(async () => {
    network = await startTestNetwork();
    ledger = await FabricLedger.fromProfile(network.profilePath);
    utility = client(UTILITY);
    for (const org of VERIFIERS) await ensureVerifierOrg(client(org), wallets.get(org)!.address);
  });

  after(async () => {
    await ledger?.close();
    await network?.purge();
  });

  async function provisioned(): Promise<{ device: DeviceIdentity; document: IdentityDocument }> {
    const device = DeviceIdentity.generate();
    const { document } = await device.provision(utility, { meter: randomMeter(), attributes: attributes() });
    return { device, document };
  }

  async function enrolled(): Promise<DeviceIdentity> {
    const { device, document } = await provisioned();
    await device.keymaker(utility, { document, verifiers: VERIFIERS, k: K });
    return device;
  }

  /** RequestVerification with the device's consent, as Keychecker's first step does it. */
  async function openRequest(device: DeviceIdentity, requester = utility, epoch = 1) {
    const fields = {
      requestId: toHex(randomBytes(16)),
      deviceId: device.deviceId,
      epoch,
      challenge: toHex(randomBytes(32)),
      recipientKey: toHex(nacl.box.keyPair().publicKey),
    };
    const consentSignature = device.sign(verifyMessage({ ...fields, requesterMsp: requester.asOrg }));
    return (await requester.requestVerification({ ...fields, consentSignature })).value;
  }

  /** A requester whose verifiers in `liars` answer ReleaseShard with their shard changed by `change`. */
  function requesterWithLiars(
    seal: HandSeal,
    liars: readonly string[],
    change: (p: ReleasePayload) => ReleasePayload,
  ) {
    const lying = new InterceptedLedger(ledger, {
      evaluate: async (fn, args, options, real) => {
        if (fn !== "ReleaseShard" || !liars.includes(options.targetOrg ?? "")) return real();
        await real(); // the real peer is asked too: the request is open there
        const index = seal.verifiers.indexOf(options.targetOrg!);
        return lyingRelease(seal, index, await utility.getRequest(args[0]!), change);
      },
    });
    return new Keychecker(new SecureIdClient(lying, UTILITY), { preferredVerifiers: VERIFIERS });
  }

  it("registers each verifier organisation once, with its attestation signer, seen alike on every peer", async () => {
    for (const org of VERIFIERS) await ensureVerifierOrg(client(org), wallets.get(org)!.address);
    for (const peer of [UTILITY, ...VERIFIERS]) {
      const orgs = await utility.getVerifierOrgs(peer);
      assert.deepEqual(
        orgs.map((o) => [o.mspId, o.attestationSigner]),
        VERIFIERS.map((org) => [org, wallets.get(org)!.address.toLowerCase()]),
      );
    }
  });

  it("provisions, seals and deposits each shard through its verifier's peer alone, verifies with k = 2, and every verifier attests the verdict", async () => {
    const { device, document } = await provisioned();
    const identity = await utility.getIdentity(device.deviceId, V3);
    assert.equal(identity.status, "active");
    assert.equal(identity.ownerMsp, UTILITY);

    const keymaker = await device.keymaker(utility, { document, verifiers: VERIFIERS, k: K });
    assert.deepEqual(
      keymaker.deposits.map((d) => d.verifierMsp),
      VERIFIERS,
    );
    assert.deepEqual(keymaker.failedDeposits, []);
    for (const deposit of keymaker.deposits) {
      assert.deepEqual(
        await network!.executedBy(deposit.txId),
        [deposit.verifierMsp],
        "only it saw the shard",
      );
    }
    const seal = (await utility.getIdentity(device.deviceId)).seal;
    assert.deepEqual(seal?.verifiers, VERIFIERS);
    assert.equal(seal?.k, K);

    const outcome = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(outcome.ok, true, outcome.reason);
    assert.equal(outcome.shardsFrom.length, K);
    assert.deepEqual(outcome.releaseFailures, []);
    assert.match(outcome.verdictTxId, /^0x[0-9a-f]{64}$/);
    const verdict = await utility.getVerdict(outcome.requestId, V2);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.verdictTxId, outcome.verdictTxId);
    assert.equal(verdict.documentHash, identity.attributesHash);
    assert.equal((await utility.getRequest(outcome.requestId, V1)).status, "verified");

    for (const org of VERIFIERS) {
      const attestor = new VerifierAttestor(client(org), wallets.get(org)!, DOMAIN);
      const signed = await attestor.attest(outcome.requestId);
      assert.equal(signed.attestation.verdictTxId, outcome.verdictTxId);
      assert.equal(recoverAttestationSigner(DOMAIN, signed), wallets.get(org)!.address.toLowerCase());
    }
    kept.push(device);
  });

  it("with one verifier organisation's peer stopped, verifies with the two others and names the missing one", async () => {
    const device = await enrolled();
    await network!.stopPeer(V1);
    try {
      const outcome = await new Keychecker(utility).verify(device.deviceId, device);
      assert.equal(outcome.ok, true, outcome.reason);
      assert.deepEqual(outcome.shardsFrom.sort(), [V2, V3]);
      assert.deepEqual(
        outcome.releaseFailures.map((f) => f.verifierMsp),
        [V1],
      );
      assert.match(outcome.releaseFailures[0]!.error, /^ReleaseShard on Verifier1MSP: .*UNAVAILABLE/);
    } finally {
      await network!.startPeer(V1);
    }
    kept.push(device);
  });

  it("with two verifier peers stopped, nothing is endorsed; stopped after the request, the verdict records too few shards", async () => {
    const device = await enrolled();
    let refusedWhileDown: unknown;
    const stopping = new InterceptedLedger(ledger, {
      afterSubmit: async (fn) => {
        if (fn !== "RequestVerification") return;
        await network!.stopPeer(V2);
        await network!.stopPeer(V3);
      },
      beforeSubmit: async (fn) => {
        if (fn !== "RecordVerdict") return;
        // While they are down the MAJORITY policy (3 of 4) cannot be met: not even a request is endorsed.
        refusedWhileDown = await new Keychecker(utility)
          .verify(device.deviceId, device)
          .catch((e: unknown) => e);
        await network!.startPeer(V2);
        await network!.startPeer(V3);
      },
    });
    const outcome = await new Keychecker(new SecureIdClient(stopping, UTILITY)).verify(
      device.deviceId,
      device,
    );
    assert.ok(refusedWhileDown instanceof SecureIdLedgerError, String(refusedWhileDown));
    assert.equal(refusedWhileDown.context.fn, "RequestVerification");
    assert.equal(refusedWhileDown.kind, "unavailable", refusedWhileDown.message);
    assert.ok(refusedWhileDown.retryable);

    assert.equal(outcome.ok, false);
    assert.match(outcome.reason, /^SecureIdTooFewShards: 1 of k=2 shards released/);
    assert.deepEqual(outcome.shardsFrom, [V1]);
    assert.deepEqual(outcome.releaseFailures.map((f) => f.verifierMsp).sort(), [V2, V3]);
    const verdict = await utility.getVerdict(outcome.requestId, V2);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.shardIndices, [0]);
    assert.equal((await utility.getRequest(outcome.requestId)).status, "failed");

    // The chaincode itself refuses a success claimed on fewer than k distinct shards.
    const identity = await utility.getIdentity(device.deviceId);
    const request = await openRequest(device);
    const response = responseTo(device, request);
    const success = (shardIndices: number[]): VerdictInput => ({
      ok: true,
      reason: "verified",
      documentHash: identity.attributesHash,
      shardIndices,
    });
    await refusedWith(
      utility.recordVerdict(request.requestId, success([0]), response),
      "SecureIdBadShardIndices",
    );
    await refusedWith(
      utility.recordVerdict(request.requestId, success([1, 1]), response),
      "SecureIdBadShardIndices",
    );
    assert.equal((await utility.recordVerdict(request.requestId, success([0, 2]), response)).value.ok, true);
  });

  it("reaches a restarted peer at once: a call finding the connection still down waits for it instead of failing", async () => {
    const viaV3 = () => utility.getVerifierOrgs(V3);
    await network!.stopPeer(V3);
    // Calls keep coming while the peer is down: each is refused, and the client's reconnection
    // attempts back off longer after each failure (gRPC's backoff), so that by the restart its next
    // attempt may be seconds away.
    let down = true;
    const refused: unknown[] = [];
    const calls: Promise<unknown>[] = [];
    const calling = (async () => {
      while (down) {
        calls.push(
          viaV3().then(
            () => refused.push("answered while the peer was down"),
            (error: unknown) => refused.push(error),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 6_000));
    } finally {
      down = false;
      await calling;
      await Promise.all(calls);
      await network!.startPeer(V3);
    }
    assert.ok(refused.length > 0);
    for (const e of refused)
      assert.ok(e instanceof SecureIdLedgerError && e.kind === "unavailable", String(e));
    assert.deepEqual((await viaV3()).map((o) => o.mspId).sort(), [...VERIFIERS].sort());
  });

  it("refuses a wrong or tampered shard at deposit, and names a verifier that releases one", async () => {
    const { device, document } = await provisioned();
    const seal = await sealByHand(utility, device, document, { verifiers: VERIFIERS, k: K, epoch: 1 });
    const deposit = (index: number, verifier: string, change = (d: ReturnType<typeof depositOf>) => d) =>
      utility.depositShard(device.deviceId, seal.epoch, change(depositOf(seal, index)), verifier);

    await refusedWith(
      deposit(0, V1, (d) => ({ ...d, shard: flipFirst(d.shard) })),
      "SecureIdCommitmentMismatch",
    );
    await refusedWith(deposit(0, V2), "SecureIdCommitmentMismatch", "DepositShard"); // shard 0 belongs to V1
    for (const [index, verifier] of VERIFIERS.entries()) await deposit(index, verifier);

    const flipShard = (p: ReleasePayload) => ({ ...p, shard: flipFirst(p.shard) });
    const tolerated = await requesterWithLiars(seal, [V2], flipShard).verify(device.deviceId, device);
    assert.equal(tolerated.ok, true, tolerated.reason);
    assert.deepEqual(tolerated.shardsFrom.sort(), [V1, V3]);
    assert.match(
      tolerated.releaseFailures.map((f) => `${f.verifierMsp} ${f.error}`).join(),
      /^Verifier2MSP SecureIdCommitmentMismatch: shard 1 from Verifier2MSP does not match its commitment/,
    );

    const failed = await requesterWithLiars(seal, [V2, V3], flipShard).verify(device.deviceId, device);
    assert.equal(failed.ok, false);
    assert.match(
      failed.reason,
      /^SecureIdTooFewShards: 1 of k=2 .*Verifier2MSP: SecureIdCommitmentMismatch.*Verifier3MSP: SecureIdCommitmentMismatch/,
    );
    assert.equal((await utility.getVerdict(failed.requestId, V1)).ok, false);
  });

  it("refuses a tampered ciphertext at deposit, and fails the verification when every released copy is altered", async () => {
    const { device, document } = await provisioned();
    const seal = await sealByHand(utility, device, document, { verifiers: VERIFIERS, k: K, epoch: 1 });
    const tampered = { ...depositOf(seal, 0), ciphertext: flipFirst(seal.ciphertext) };
    await refusedWith(utility.depositShard(device.deviceId, 1, tampered, V1), "SecureIdCiphertextMismatch");
    for (const [index, verifier] of VERIFIERS.entries()) {
      await utility.depositShard(device.deviceId, 1, depositOf(seal, index), verifier);
    }

    const flipCiphertext = (p: ReleasePayload) => ({ ...p, ciphertext: flipFirst(p.ciphertext) });
    const oneAltered = await requesterWithLiars(seal, [V1], flipCiphertext).verify(device.deviceId, device);
    assert.equal(oneAltered.ok, true, "another verifier's copy matches the sealed hash");

    const allAltered = await requesterWithLiars(seal, VERIFIERS, flipCiphertext).verify(
      device.deviceId,
      device,
    );
    assert.equal(allAltered.ok, false);
    assert.match(allAltered.reason, /^SecureIdCiphertextMismatch: no released ciphertext matches/);
    assert.equal((await utility.getVerdict(allAltered.requestId, V3)).ok, false);
  });

  it("refuses to verify a revoked device, and its open request can release nothing nor succeed", async () => {
    const device = await enrolled();
    const identity = await utility.getIdentity(device.deviceId);
    const request = await openRequest(device);
    const revoked = await device.revoke(utility, "meter stolen");
    assert.equal(revoked.status, "revoked");
    assert.equal((await utility.getIdentity(device.deviceId, V2)).status, "revoked");

    await refusedWith(
      new Keychecker(utility).verify(device.deviceId, device),
      "SecureIdDeviceRevoked",
      "RequestVerification",
    );
    await refusedWith(utility.releaseShard(request.requestId, V1), "SecureIdDeviceRevoked", "ReleaseShard");
    const verdict = {
      ok: true,
      reason: "verified",
      documentHash: identity.attributesHash,
      shardIndices: [0, 1],
    };
    const response = responseTo(device, request);
    await refusedWith(utility.recordVerdict(request.requestId, verdict, response), "SecureIdDeviceRevoked");
  });

  it("refuses a replayed challenge response, a reused challenge and a second verdict", async () => {
    const device = await enrolled();
    const responses: string[] = [];
    const recording = {
      consentToVerification: (m: Parameters<DeviceIdentity["consentToVerification"]>[0]) =>
        device.consentToVerification(m),
      respondToChallenge: async (m: Parameters<DeviceIdentity["respondToChallenge"]>[0]) => {
        const response = await device.respondToChallenge(m);
        responses.push(response);
        return response;
      },
    };
    const first = await new Keychecker(utility).verify(device.deviceId, recording);
    assert.equal(first.ok, true, first.reason);
    const firstRequest = await utility.getRequest(first.requestId);

    const identity = await utility.getIdentity(device.deviceId);
    const verdict = {
      ok: true,
      reason: "verified",
      documentHash: identity.attributesHash,
      shardIndices: [0, 1],
    };
    const request = await openRequest(device);
    await refusedWith(
      utility.recordVerdict(request.requestId, verdict, responses[0]!),
      "SecureIdBadChallengeResponse",
      "RecordVerdict",
    );
    await refusedWith(
      utility.recordVerdict(first.requestId, verdict, responses[0]!),
      "SecureIdRequestClosed",
    );
    const fields = {
      requestId: toHex(randomBytes(16)),
      deviceId: device.deviceId,
      epoch: 1,
      challenge: firstRequest.challenge,
      recipientKey: toHex(nacl.box.keyPair().publicKey),
    };
    await refusedWith(
      utility.requestVerification({
        ...fields,
        consentSignature: device.sign(verifyMessage({ ...fields, requesterMsp: UTILITY })),
      }),
      "SecureIdChallengeReused",
    );
    kept.push(device);
  });

  it("releases a shard to the requester's organisation only", async () => {
    const device = await enrolled();
    const request = await openRequest(device);
    await refusedWith(client(V1).releaseShard(request.requestId, V2), "SecureIdNotRequester", "ReleaseShard");
    await refusedWith(utility.releaseShard(request.requestId, UTILITY), "SecureIdNoShardHeld");
    const sealed = await utility.releaseShard(request.requestId, V2);
    assert.equal(sealed.verifierMsp, V2);
  });

  it("restarts the whole network keeping every identity and its history; events resume after a checkpoint without duplicates", async () => {
    const fresh = await provisioned();
    const events = await ledger.events({ asOrg: V2, startBlock: 0n });
    const seen = new Map<string, LedgerEvent>();
    // Read up to this device's provisioning, then checkpoint and close, as a service stopping would.
    let last: LedgerEvent | undefined;
    for await (const event of events) {
      seen.set(`${event.txId}`, event);
      last = event;
      if (event.name === EVENTS.identityProvisioned) {
        const payload = unmarshal(event.payload, "event") as { deviceId?: string };
        if (payload.deviceId === fresh.device.deviceId) break;
      }
    }
    events.close();
    const checkpoint = checkpointers.inMemory();
    await checkpoint.checkpointTransaction(last!.blockNumber, last!.txId);

    const before = await Promise.all(
      kept.map(async (d) => ({
        identity: await utility.getIdentity(d.deviceId),
        history: await utility.getIdentityHistory(d.deviceId),
      })),
    );
    assert.ok(
      before.every((b) => b.history.length >= 2),
      "provisioned and sealed, at least",
    );

    await network!.restart();

    // The same client, its connections re-established: nothing was lost.
    const afterRestart = await Promise.all(
      kept.map(async (d) => ({
        identity: await utility.getIdentity(d.deviceId, V1),
        history: await utility.getIdentityHistory(d.deviceId, V3),
      })),
    );
    assert.deepEqual(afterRestart, before);
    const outcome = await new Keychecker(utility).verify(kept[0]!.deviceId, kept[0]!);
    assert.equal(outcome.ok, true, outcome.reason);
    await fresh.device.keymaker(utility, { document: fresh.document, verifiers: VERIFIERS, k: K });

    const resumed = await ledger.events({ asOrg: V2, checkpoint });
    const next = await take(resumed, 2 + 1 + VERIFIERS.length);
    resumed.close();
    for (const event of next) assert.ok(!seen.has(event.txId), `event of ${event.txId} delivered twice`);
    assert.deepEqual(
      next.map((e) => e.name),
      [
        EVENTS.verificationRequested,
        EVENTS.verdictRecorded,
        EVENTS.identitySealed,
        ...VERIFIERS.map(() => EVENTS.shardDeposited),
      ],
    );
    assert.equal(next[1]!.txId, outcome.verdictTxId.slice(2));
    for (const deposit of next.slice(3)) {
      // Events are public: a deposit's names the shard, never its contents.
      const payload = unmarshal(deposit.payload, "ShardDeposited") as Record<string, unknown>;
      assert.deepEqual(Object.keys(payload).sort(), ["deviceId", "epoch", "index", "verifierMsp"]);
    }
    assert.ok(next.every((e, i) => i === 0 || e.blockNumber >= next[i - 1]!.blockNumber));
  });
});
