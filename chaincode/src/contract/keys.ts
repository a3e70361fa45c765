import type { ChaincodeStub } from "fabric-shim-api";

/** Every key is a composite key, so each kind of record is its own range and never collides with another. */
export const keys = {
  identity: (stub: ChaincodeStub, deviceId: string) => stub.createCompositeKey("identity", [deviceId]),
  meter: (stub: ChaincodeStub, meter: string) => stub.createCompositeKey("meter", [meter]),
  retired: (stub: ChaincodeStub, deviceId: string) => stub.createCompositeKey("retired", [deviceId]),
  request: (stub: ChaincodeStub, requestId: string) => stub.createCompositeKey("request", [requestId]),
  challenge: (stub: ChaincodeStub, challenge: string) => stub.createCompositeKey("challenge", [challenge]),
  verdict: (stub: ChaincodeStub, requestId: string) => stub.createCompositeKey("verdict", [requestId]),
  verifierOrg: (stub: ChaincodeStub, mspId: string) => stub.createCompositeKey("verifierOrg", [mspId]),
  shard: (stub: ChaincodeStub, deviceId: string) => stub.createCompositeKey("shard", [deviceId]),
};

/** An organisation's implicit private data collection, present on every channel without configuration. */
export function implicitCollection(mspId: string): string {
  return `_implicit_org_${mspId}`;
}
