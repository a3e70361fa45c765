import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { Wallet } from "ethers";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { EmbeddedLedger } from "../client/embeddedLedger.js";
import { SecureIdClient } from "../client/secureIdClient.js";
import { SecureIdLedgerError } from "../client/secureIdLedger.js";
import { sealDocument } from "../protocol/documentBox.js";
import type { SecureIdErrorCode } from "../protocol/errors.js";
import { toHex } from "../protocol/hex.js";
import { documentBytes, type IdentityDocument } from "../protocol/identityDocument.js";
import { sealMessage } from "../protocol/messages.js";
import { splitKey, type CommittedShard } from "../protocol/shards.js";
import { MemoryBackend } from "../stub/memoryBackend.js";

export const UTILITY = "UtilityMSP";
/** Four verifier organisations: seals use the first three, so the fourth holds no shard. */
export const VERIFIER_ORGS = ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP", "Verifier4MSP"] as const;
export const SEAL_VERIFIERS = VERIFIER_ORGS.slice(0, 3);
export const ORGS = [UTILITY, ...VERIFIER_ORGS];
export const START = Date.parse("2026-03-01T12:00:00.000Z");

export interface Fixture {
  ledger: EmbeddedLedger;
  backend: MemoryBackend;
  client(org: string): SecureIdClient;
  verifierWallets: Map<string, Wallet>;
  advance(ms: number): void;
  snapshot(): string;
}

/** A five-organisation embedded ledger on an in-memory stub, verifiers registered, clock under test control. */
export async function newFixture(): Promise<Fixture> {
  const backend = new MemoryBackend();
  let now = START;
  const ledger = new EmbeddedLedger({ orgs: ORGS, backend, now: () => now });
  const client = (org: string) => new SecureIdClient(ledger, org);
  const verifierWallets = new Map<string, Wallet>();
  for (const org of VERIFIER_ORGS) {
    const wallet = new Wallet(`0x${toHex(randomBytes(32))}`);
    verifierWallets.set(org, wallet);
    await client(org).registerVerifierOrg(wallet.address);
  }
  return {
    ledger,
    backend,
    client,
    verifierWallets,
    advance: (ms) => void (now += ms),
    snapshot: () => backend.dump(),
  };
}

export function randomMeter(): string {
  return `0x${toHex(randomBytes(20))}`;
}

export const ATTRIBUTES = {
  manufacturer: "Eastron",
  model: "SDM630-Modbus",
  serial: "SDM-004217",
  firmware: "2.1",
};

export async function provisioned(fx: Fixture, device = DeviceIdentity.generate(), meter = randomMeter()) {
  const { document, identity, txId } = await device.provision(fx.client(UTILITY), {
    meter,
    attributes: ATTRIBUTES,
  });
  return { device, document, identity, txId, meter };
}

export interface KeymakerMaterial {
  epoch: number;
  k: number;
  verifiers: string[];
  sealed: Uint8Array;
  ciphertextHash: string;
  shards: CommittedShard[];
  deviceShard: CommittedShard;
  commitments: string[];
  sealTxId: string;
}

/** Keymaker by hand, so tests can deposit selectively or tamper with what is deposited. */
export async function sealOnly(
  fx: Fixture,
  device: DeviceIdentity,
  document: IdentityDocument,
  options: { k?: number; verifiers?: readonly string[]; epoch?: number } = {},
): Promise<KeymakerMaterial> {
  const verifiers = [...(options.verifiers ?? SEAL_VERIFIERS)];
  const k = options.k ?? 2;
  const epoch = options.epoch ?? 1;
  const { key, sealed, ciphertextHash } = sealDocument(documentBytes(document));
  const { verifierShards, deviceShard } = await splitKey(key, verifiers.length, k);
  const commitments = verifierShards.map((s) => s.commitment);
  const signature = device.sign(
    sealMessage({ deviceId: device.deviceId, ciphertextHash, commitments, verifiers, k, epoch }),
  );
  const { txId } = await fx.client(UTILITY).sealIdentity({
    deviceId: device.deviceId,
    ciphertextHash,
    commitments,
    verifiers,
    k,
    epoch,
    signature,
  });
  return {
    epoch,
    k,
    verifiers,
    sealed,
    ciphertextHash,
    shards: verifierShards,
    deviceShard,
    commitments,
    sealTxId: txId,
  };
}

export function deposit(fx: Fixture, deviceId: string, material: KeymakerMaterial, index: number) {
  const shard = material.shards[index]!;
  return fx
    .client(UTILITY)
    .depositShard(
      deviceId,
      material.epoch,
      { shard: shard.shard, salt: shard.salt, ciphertext: toHex(material.sealed) },
      material.verifiers[index]!,
    );
}

/** Provisioned, sealed with k=2 over Verifier1..3, every shard deposited. */
export async function sealedDevice(fx: Fixture, options: { k?: number; verifiers?: readonly string[] } = {}) {
  const base = await provisioned(fx);
  const material = await sealOnly(fx, base.device, base.document, options);
  for (let i = 0; i < material.verifiers.length; i++) await deposit(fx, base.device.deviceId, material, i);
  return { ...base, material };
}

/** The call fails on the ledger with `code` (and `pattern`), and committed state is byte for byte unchanged. */
export async function assertRefused(
  fx: Fixture,
  action: () => Promise<unknown>,
  code: SecureIdErrorCode,
  pattern?: RegExp,
): Promise<SecureIdLedgerError> {
  const before = fx.snapshot();
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SecureIdLedgerError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  assert.equal(fx.snapshot(), before, `refused ${caught.context.fn} changed committed state`);
  return caught;
}
