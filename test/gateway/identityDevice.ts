/**
 * A device (meter agent) that talks to the gateway's identity API instead of holding a Fabric identity:
 * it makes and signs everything itself (provisioning, Keymaker's encryption, split and consent,
 * revocation, a verification's consent and challenge) with the client library's offline calls, and
 * sends the results as the API's JSON bodies, as the meter agent does.
 */
import {
  DeviceIdentity,
  revokeMessage,
  type DeviceMessage,
  type IdentityDocument,
} from "@gridmesh/chaincode/client";

export const ATTRIBUTES = { manufacturer: "Eastron", model: "SDM630-Modbus", serial: "SDM-004217" };

export class RemoteDevice {
  readonly identity = DeviceIdentity.generate();
  #document: IdentityDocument | undefined;

  get deviceId(): string {
    return this.identity.deviceId;
  }

  /** `signedBy` another device: a forged provisioning. */
  provisionBody(meter: string, ownerMsp: string, signedBy: RemoteDevice = this) {
    const { document, request } = this.identity.provisionRequest({ meter, ownerMsp, attributes: ATTRIBUTES });
    this.#document = document;
    if (signedBy === this) return request;
    return {
      ...request,
      signature: signedBy.identity.provisionRequest({ meter, ownerMsp, attributes: ATTRIBUTES }).request
        .signature,
    };
  }

  /** Keymaker on the device: encrypt the document, split the key into n+1 shards, sign the seal. */
  async sealBody(verifiers: readonly string[], k: number, epoch = 1) {
    if (this.#document === undefined) throw new Error("provision the device first");
    const { seal, ciphertext, shards } = await this.identity.prepareSeal({
      document: this.#document,
      verifiers,
      k,
      epoch,
    });
    const { deviceId: _deviceId, ...body } = seal;
    return { ...body, ciphertext, shards };
  }

  revokeBody(reason: string) {
    return { reason, signature: this.identity.sign(revokeMessage({ deviceId: this.deviceId, reason })) };
  }

  /** Signs a message exactly as the gateway sent it (its JSON, canonicalised by the signer). */
  sign(message: unknown): string {
    return this.identity.sign(message as DeviceMessage);
  }
}
