import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import { meterRegistryDomain, meterAttestationTypes, mutableTypes } from "@gridmesh/contracts";
import { Wallet, verifyTypedData } from "ethers";

import { marshal, unmarshal } from "../marshal.js";
import { depositRecordSchema } from "../protocol/records.js";
import { toHex } from "../protocol/hex.js";
import { MemoryBackend } from "../stub/memoryBackend.js";
import { ATTRIBUTES, randomMeter } from "../testing/secureIdFixture.js";
import { DeviceIdentity, KeymakerIncompleteError } from "./deviceIdentity.js";
import { EmbeddedLedger } from "./embeddedLedger.js";
import { Keychecker } from "./keychecker.js";
import { SecureIdClient } from "./secureIdClient.js";
import type { SecureIdLedgerError } from "./secureIdLedger.js";
import { recoverAttestationSigner, signaturesForActivation, VerifierAttestor } from "./verifierAttestor.js";

const UTILITY = "UtilityMSP";
const VERIFIERS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];
const DOMAIN = meterRegistryDomain(31337n, "0x5fbdb2315678afecb367f032d93f642f64180aa3");

/** Three verifier organisations, k = 2, on the embedded ledger: the network the library will meet. */
async function network() {
  const backend = new MemoryBackend();
  const ledger = new EmbeddedLedger({ orgs: [UTILITY, ...VERIFIERS], backend });
  const wallets = new Map(VERIFIERS.map((org) => [org, new Wallet(`0x${toHex(randomBytes(32))}`)]));
  for (const [org, wallet] of wallets)
    await new SecureIdClient(ledger, org).registerVerifierOrg(wallet.address);
  const utility = new SecureIdClient(ledger, UTILITY);
  const device = DeviceIdentity.generate();
  const { document } = await device.provision(utility, { meter: randomMeter(), attributes: ATTRIBUTES });
  const keymaker = await device.keymaker(utility, { document, verifiers: VERIFIERS, k: 2 });
  return { backend, ledger, wallets, utility, device, document, keymaker };
}

/** Rewrites a verifier's stored deposit, as a compromised verifier peer could. */
function tamperDeposit(
  backend: MemoryBackend,
  org: string,
  deviceId: string,
  change: (d: ReturnType<typeof depositRecordSchema.parse>) => object,
) {
  const collection = `_implicit_org_${org}`;
  const key = `\x00shard\x00${deviceId}\x00`;
  const stored = depositRecordSchema.parse(unmarshal(backend.getPrivate(collection, key)!, "deposit"));
  backend.commit({
    txId: toHex(randomBytes(32)),
    timestamp: { seconds: 0, nanos: 0 },
    fn: "tamper",
    creatorMsp: org,
    writes: [],
    privateWrites: [{ collection, key, value: marshal(change(stored)) }],
    event: null,
  });
}

const flipFirst = (hex: string) => (parseInt(hex[0]!, 16) ^ 1).toString(16) + hex.slice(1);

describe("client library end to end on the embedded ledger (3 verifier organisations, k = 2)", () => {
  it("Keymaker deposits every shard, Keychecker verifies, and each verifier's attestation recovers to its address", async () => {
    const { ledger, wallets, utility, device, keymaker } = await network();
    assert.deepEqual(
      keymaker.deposits.map((d) => d.verifierMsp),
      VERIFIERS,
    );
    assert.equal(keymaker.deviceShard.index, 3);
    const outcome = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(outcome.ok, true, outcome.reason);
    assert.deepEqual(outcome.shardsFrom.sort(), ["Verifier1MSP", "Verifier2MSP"]);
    assert.deepEqual(outcome.releaseFailures, []);
    assert.match(outcome.verdictTxId, /^0x[0-9a-f]{64}$/);
    for (const phase of ["consent", "request", "release", "combine", "challenge", "record"] as const) {
      assert.ok(outcome.timings[phase] >= 0 && outcome.timings[phase] <= outcome.timings.total, phase);
    }

    const attestations = await Promise.all(
      VERIFIERS.map((org) =>
        new VerifierAttestor(new SecureIdClient(ledger, org), wallets.get(org)!, DOMAIN).attest(
          outcome.requestId,
        ),
      ),
    );
    for (const [i, signed] of attestations.entries()) {
      const expected = wallets.get(VERIFIERS[i]!)!.address;
      assert.deepEqual(signed.attestation, {
        deviceId: device.deviceId,
        meter: outcome.verdict.meter,
        verdictTxId: outcome.verdictTxId,
      });
      assert.equal(
        verifyTypedData(DOMAIN, mutableTypes(meterAttestationTypes), signed.attestation, signed.signature),
        expected,
      );
      assert.equal(recoverAttestationSigner(DOMAIN, signed), expected.toLowerCase());
    }
    const ordered = signaturesForActivation(attestations);
    const signers = ordered.map((sig) =>
      BigInt(verifyTypedData(DOMAIN, mutableTypes(meterAttestationTypes), attestations[0]!.attestation, sig)),
    );
    assert.deepEqual(
      signers,
      [...signers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    await ledger.close();
  });

  it("still verifies with one verifier's peer unreachable, naming it", async () => {
    const { ledger, utility, device } = await network();
    ledger.setPeerDown("Verifier1MSP", true);
    const outcome = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(outcome.ok, true, outcome.reason);
    assert.deepEqual(outcome.shardsFrom.sort(), ["Verifier2MSP", "Verifier3MSP"]);
    assert.deepEqual(
      outcome.releaseFailures.map((f) => f.verifierMsp),
      ["Verifier1MSP"],
    );
    assert.match(outcome.releaseFailures[0]!.error, /peer of Verifier1MSP is unreachable/);
    await ledger.close();
  });

  it("records a failed verdict with fewer than k shards, and names a tampered shard", async () => {
    const { backend, ledger, utility, device } = await network();
    tamperDeposit(backend, "Verifier2MSP", device.deviceId, (d) => ({ ...d, shard: flipFirst(d.shard) }));
    const tolerated = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(tolerated.ok, true, "Verifier1 and Verifier3 still give k shards");
    assert.match(
      tolerated.releaseFailures[0]!.error,
      /SecureIdCommitmentMismatch: shard 1 from Verifier2MSP does not match its commitment/,
    );
    ledger.setPeerDown("Verifier3MSP", true);
    const failed = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(failed.ok, false);
    assert.match(
      failed.reason,
      /^SecureIdTooFewShards: 1 of k=2 shards released \(.*Verifier2MSP: SecureIdCommitmentMismatch.*Verifier3MSP: .*unreachable/,
    );
    assert.equal((await utility.getVerdict(failed.requestId)).ok, false);
    await ledger.close();
  });

  it("fails verification when every stored ciphertext was altered", async () => {
    const { backend, ledger, utility, device } = await network();
    for (const org of VERIFIERS)
      tamperDeposit(backend, org, device.deviceId, (d) => ({ ...d, ciphertext: flipFirst(d.ciphertext) }));
    const outcome = await new Keychecker(utility).verify(device.deviceId, device);
    assert.equal(outcome.ok, false);
    assert.match(outcome.reason, /^SecureIdCiphertextMismatch: no released ciphertext matches/);
    await ledger.close();
  });

  it("fails on a wrong challenge response, and refuses a revoked device or a refused consent outright", async () => {
    const { ledger, utility, device, wallets } = await network();
    const impostor = DeviceIdentity.generate();
    const outcome = await new Keychecker(utility).verify(device.deviceId, {
      consentToVerification: (m) => device.consentToVerification(m),
      respondToChallenge: (m) => Promise.resolve(impostor.sign(m)),
    });
    assert.equal(outcome.ok, false);
    assert.match(outcome.reason, /SecureIdBadChallengeResponse/);
    await assert.rejects(
      new VerifierAttestor(
        new SecureIdClient(ledger, "Verifier1MSP"),
        wallets.get("Verifier1MSP")!,
        DOMAIN,
      ).attest(outcome.requestId),
      /SecureIdVerdictFailed/,
    );

    const reluctant = DeviceIdentity.fromPrivateKey(device.exportPrivateKey(), {
      consentPolicy: (m) => m.requesterMsp !== UTILITY,
    });
    const height = ledger.height();
    await assert.rejects(
      new Keychecker(utility).verify(device.deviceId, reluctant),
      /refuses verification .* by UtilityMSP/,
    );
    assert.equal(ledger.height(), height, "no request without consent");

    const verified = await new Keychecker(utility).verify(device.deviceId, device);
    await device.revoke(utility, "decommissioned");
    await assert.rejects(
      new VerifierAttestor(
        new SecureIdClient(ledger, "Verifier2MSP"),
        wallets.get("Verifier2MSP")!,
        DOMAIN,
      ).attest(verified.requestId),
      /SecureIdVerdictStale: .* was revoked after verdict/,
    );
    await assert.rejects(
      new Keychecker(utility).verify(device.deviceId, device),
      (e: SecureIdLedgerError) =>
        e.code === "SecureIdDeviceRevoked" && e.context.fn === "RequestVerification",
    );
    await ledger.close();
  });

  it("Keymaker tolerates an unreachable verifier while k deposits succeed, and says so when fewer do", async () => {
    const { ledger, utility, device, document } = await network();
    ledger.setPeerDown("Verifier3MSP", true);
    const partial = await device.keymaker(utility, { document, verifiers: VERIFIERS, k: 2 });
    assert.equal(partial.epoch, 2);
    assert.deepEqual(
      partial.failedDeposits.map((f) => f.verifierMsp),
      ["Verifier3MSP"],
    );
    assert.equal((await new Keychecker(utility).verify(device.deviceId, device)).ok, true);
    await assert.rejects(
      device.keymaker(utility, { document, verifiers: VERIFIERS, k: 3 }),
      (e: KeymakerIncompleteError) =>
        e instanceof KeymakerIncompleteError &&
        e.result.deposits.length === 2 &&
        e.result.epoch === 3 &&
        /only 2 of 3 shard deposits succeeded \(k=3\): Verifier3MSP: .*unreachable/.test(e.message),
    );
    // Two peers down leave 2 of 4: the MAJORITY policy cannot be met, so not even the seal is endorsed.
    ledger.setPeerDown("Verifier2MSP", true);
    await assert.rejects(
      device.keymaker(utility, { document, verifiers: VERIFIERS, k: 2 }),
      (e: SecureIdLedgerError) =>
        e.kind === "unavailable" && /the endorsement policy needs 3 of 4/.test(e.message),
    );
    await ledger.close();
  });
});
