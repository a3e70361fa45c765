import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  signedReadingToJson,
  type Address,
  type MeterReading,
} from "@gridmesh/contracts";
import { privateKeyToAccount } from "viem/accounts";

import { verifySignedReading } from "./verifyReading.js";

const meterKey = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const otherKey = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const domain = { chainId: 31337, ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address };

async function signed(reading: MeterReading, by = meterKey) {
  const signature = await by.signTypedData({
    domain: deliveryLedgerDomain(BigInt(domain.chainId), domain.ledger),
    types: meterReadingTypes,
    primaryType: "MeterReading",
    message: reading,
  });
  return signedReadingToJson({ reading, signature });
}

const reading: MeterReading = {
  meter: meterKey.address,
  interval: 59_846_140n,
  sequence: 12n,
  importStartWh: 1_000n,
  importEndWh: 1_040n,
  exportStartWh: 500n,
  exportEndWh: 612n,
  timestamp: 1_795_384_230n,
};

void describe("verifying a signed reading", () => {
  void it("accepts a reading signed by the meter it names", async () => {
    const verdict = await verifySignedReading(await signed(reading), domain);
    assert.equal(verdict.valid, true);
    assert.equal(verdict.signer, meterKey.address);
  });

  void it("shows a reading altered after signing as invalid, naming who the signature recovers to", async () => {
    const json = await signed(reading);
    const forged = { ...json, reading: { ...json.reading, exportEndWh: "912" } };
    const verdict = await verifySignedReading(forged, domain);
    assert.equal(verdict.valid, false);
    assert.match(!verdict.valid ? verdict.reason : "", /not by meter .*altered or forged/);
    assert.notEqual(verdict.signer, meterKey.address);
  });

  void it("refuses a reading signed by another key, or for another chain's ledger", async () => {
    const byOther = await verifySignedReading(await signed(reading, otherKey), domain);
    assert.equal(byOther.valid, false);
    assert.equal(byOther.signer, otherKey.address);
    const elsewhere = await verifySignedReading(await signed(reading), { ...domain, chainId: 1 });
    assert.equal(elsewhere.valid, false);
  });

  void it("says what is malformed instead of verifying it", async () => {
    const json = await signed(reading);
    const verdict = await verifySignedReading(
      { ...json, reading: { ...json.reading, importEndWh: "999" } },
      domain,
    );
    assert.equal(verdict.valid, false);
    assert.match(!verdict.valid ? verdict.reason : "", /not a signed reading: .*importEndWh/);
    assert.match(
      (await verifySignedReading({ hello: 1 }, domain)).valid ? "" : "not a signed reading",
      /not a signed reading/,
    );
  });
});
