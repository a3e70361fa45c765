import { sealDocument } from "../protocol/documentBox.js";
import {
  deviceIdOf,
  deviceKeyPairFromSeed,
  generateDeviceKeyPair,
  signDeviceMessage,
  type DeviceKeyPair,
} from "../protocol/ed25519.js";
import { toHex } from "../protocol/hex.js";
import { documentBytes, documentHash, type IdentityDocument } from "../protocol/identityDocument.js";
import {
  deregisterMessage,
  provisionMessage,
  revokeMessage,
  sealMessage,
  type ChallengeMessage,
  type DeviceMessage,
  type VerifyMessage,
} from "../protocol/messages.js";
import type { IdentityRecord } from "../protocol/records.js";
import { splitKey, type CommittedShard } from "../protocol/shards.js";
import type { SecureIdClient } from "./secureIdClient.js";

/** What a requester needs from the device during Keychecker: its consent, then its challenge response. */
export interface DeviceChannel {
  consentToVerification(message: VerifyMessage): Promise<string>;
  respondToChallenge(message: ChallengeMessage): Promise<string>;
}

export interface KeymakerResult {
  epoch: number;
  k: number;
  verifiers: string[];
  ciphertextHash: string;
  /** Shard n: the device keeps it (with k-1 verifiers it rebuilds the key without the others). */
  deviceShard: CommittedShard;
  sealTxId: string;
  deposits: { verifierMsp: string; txId: string }[];
  failedDeposits: { verifierMsp: string; error: Error }[];
}

/** Fewer than k verifiers hold their shard: the seal stands, but nobody can verify the device yet. */
export class KeymakerIncompleteError extends Error {
  override readonly name = "KeymakerIncompleteError";
  constructor(readonly result: KeymakerResult) {
    super(
      `only ${result.deposits.length} of ${result.verifiers.length} shard deposits succeeded (k=${result.k}): ` +
        result.failedDeposits.map((f) => `${f.verifierMsp}: ${f.error.message}`).join("; "),
    );
  }
}

/**
 * What a device without a Fabric identity sends a relay (the gateway) to be sealed: its signed seal
 * (the device id travels in the path), the ciphertext and the n verifier shards, shards[i] for
 * verifiers[i]. The wire form of `prepareSeal`'s result.
 */
export interface SealSubmission {
  ciphertextHash: string;
  commitments: string[];
  verifiers: string[];
  k: number;
  epoch: number;
  signature: string;
  ciphertext: string;
  shards: { shard: string; salt: string }[];
}

export interface DeviceIdentityOptions {
  /** Whether to consent to a verification (default: any requester, for this device and no other). */
  consentPolicy?: (message: VerifyMessage) => boolean | Promise<boolean>;
}

/**
 * The device's side of Secure ID: its ed25519 key (raw export and import only; keeping it encrypted at
 * rest is the meter agent's business), its signatures, provisioning and Keymaker. It is also the
 * in-process `DeviceChannel` a requester talks to; on a real meter the agent exposes the same two calls.
 */
export class DeviceIdentity implements DeviceChannel {
  readonly #keys: DeviceKeyPair;
  readonly #consentPolicy: NonNullable<DeviceIdentityOptions["consentPolicy"]>;
  readonly publicKey: string;
  readonly deviceId: string;

  private constructor(keys: DeviceKeyPair, options: DeviceIdentityOptions) {
    this.#keys = keys;
    this.#consentPolicy = options.consentPolicy ?? (() => true);
    this.publicKey = toHex(keys.publicKey);
    this.deviceId = deviceIdOf(keys.publicKey);
  }

  static generate(options: DeviceIdentityOptions = {}): DeviceIdentity {
    return new DeviceIdentity(generateDeviceKeyPair(), options);
  }

  static fromPrivateKey(privateKey: Uint8Array, options: DeviceIdentityOptions = {}): DeviceIdentity {
    return new DeviceIdentity(deviceKeyPairFromSeed(privateKey), options);
  }

  /** The 32-byte ed25519 seed; store it encrypted. */
  exportPrivateKey(): Uint8Array {
    return new Uint8Array(this.#keys.privateKey);
  }

  sign(message: DeviceMessage): string {
    return signDeviceMessage(this.#keys.privateKey, message);
  }

  document(args: {
    meter: string;
    ownerMsp: string;
    attributes: IdentityDocument["attributes"];
  }): IdentityDocument {
    return {
      deviceId: this.deviceId,
      publicKey: this.publicKey,
      meter: args.meter.toLowerCase(),
      ownerMsp: args.ownerMsp,
      attributes: args.attributes,
    };
  }

  /**
   * Everything ProvisionIdentity needs, made and signed on the device alone: what a device without a
   * Fabric identity sends to the gateway, which submits it.
   */
  provisionRequest(args: { meter: string; ownerMsp: string; attributes: IdentityDocument["attributes"] }) {
    const document = this.document(args);
    const fields = {
      deviceId: this.deviceId,
      publicKey: this.publicKey,
      meter: document.meter,
      attributesHash: documentHash(document),
    };
    const signature = this.sign(provisionMessage({ ...fields, ownerMsp: args.ownerMsp }));
    return { document, request: { ...fields, signature } };
  }

  /** Registers this device under the client's organisation, which becomes its owner. */
  async provision(
    client: SecureIdClient,
    args: { meter: string; attributes: IdentityDocument["attributes"] },
  ): Promise<{ document: IdentityDocument; identity: IdentityRecord; txId: string }> {
    const { document, request } = this.provisionRequest({ ...args, ownerMsp: client.asOrg });
    const { value, txId } = await client.provisionIdentity(request);
    return { document, identity: value, txId };
  }

  /**
   * Keymaker's device-side work, offline: a fresh key encrypts the document, the key is split into n+1
   * shards (k to rebuild) and the seal (ciphertext hash, salted shard commitments, policy) is signed.
   * The key itself is wiped; the device keeps shard n.
   */
  async prepareSeal(args: {
    document: IdentityDocument;
    verifiers: readonly string[];
    k: number;
    epoch: number;
  }) {
    const { key, sealed, ciphertextHash } = sealDocument(documentBytes(args.document));
    const { verifierShards, deviceShard } = await splitKey(key, args.verifiers.length, args.k);
    key.fill(0);
    const fields = {
      deviceId: this.deviceId,
      ciphertextHash,
      commitments: verifierShards.map((s) => s.commitment),
      verifiers: [...args.verifiers],
      k: args.k,
      epoch: args.epoch,
    };
    return {
      seal: { ...fields, signature: this.sign(sealMessage(fields)) },
      ciphertext: toHex(sealed),
      /** In verifier order: shard i goes to verifiers[i] alone. */
      shards: verifierShards.map((s) => ({ shard: s.shard, salt: s.salt })),
      deviceShard,
    };
  }

  /**
   * Keymaker: a fresh key encrypts the document, the key is split into n+1 shards (k to rebuild), the seal
   * (ciphertext hash, salted shard commitments, policy, the device's consent) is committed, and then each
   * verifier's shard goes, in parallel, to that verifier's peer alone.
   */
  async keymaker(
    client: SecureIdClient,
    args: { document: IdentityDocument; verifiers: readonly string[]; k: number; epoch?: number },
  ): Promise<KeymakerResult> {
    const epoch = args.epoch ?? ((await client.getIdentity(this.deviceId)).seal?.epoch ?? 0) + 1;
    const { seal, ciphertext, shards, deviceShard } = await this.prepareSeal({ ...args, epoch });
    const { verifiers, ciphertextHash } = seal;
    const committed = await client.sealIdentity(seal);
    const settled = await Promise.allSettled(
      shards.map((s, i) => client.depositShard(this.deviceId, epoch, { ...s, ciphertext }, verifiers[i]!)),
    );
    const result: KeymakerResult = {
      epoch,
      k: args.k,
      verifiers,
      ciphertextHash,
      deviceShard,
      sealTxId: committed.txId,
      deposits: [],
      failedDeposits: [],
    };
    settled.forEach((outcome, i) => {
      const verifierMsp = verifiers[i]!;
      if (outcome.status === "fulfilled") result.deposits.push({ verifierMsp, txId: outcome.value.txId });
      else result.failedDeposits.push({ verifierMsp, error: toError(outcome.reason) });
    });
    if (result.deposits.length < args.k) throw new KeymakerIncompleteError(result);
    return result;
  }

  async consentToVerification(message: VerifyMessage): Promise<string> {
    if (message.deviceId !== this.deviceId) {
      throw new Error(`consent asked for device ${message.deviceId}, this is ${this.deviceId}`);
    }
    if (!(await this.#consentPolicy(message))) {
      throw new Error(
        `device ${this.deviceId} refuses verification ${message.requestId} by ${message.requesterMsp}`,
      );
    }
    return this.sign(message);
  }

  respondToChallenge(message: ChallengeMessage): Promise<string> {
    if (message.deviceId !== this.deviceId) {
      return Promise.reject(new Error(`challenge for device ${message.deviceId}, this is ${this.deviceId}`));
    }
    return Promise.resolve(this.sign(message));
  }

  async revoke(client: SecureIdClient, reason: string): Promise<IdentityRecord> {
    const signature = this.sign(revokeMessage({ deviceId: this.deviceId, reason }));
    return (await client.revokeIdentity(this.deviceId, reason, signature)).value;
  }

  async deregister(client: SecureIdClient): Promise<string> {
    const signature = this.sign(deregisterMessage({ deviceId: this.deviceId }));
    return (await client.deregisterIdentity(this.deviceId, signature)).txId;
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
