import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Wallet } from "ethers";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  type Address,
  type MeterReading,
} from "@gridmesh/contracts";

import { inlineSignerRecovery, workerSignerRecovery } from "./signerRecovery.js";

const domain = deliveryLedgerDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
const types = mutableTypes(meterReadingTypes);

describe("signer recovery", () => {
  it("recovers the same signers on worker threads as on this thread, in any order of completion", async () => {
    const wallets = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    const signed = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const wallet = wallets[i % wallets.length]!;
        const reading: MeterReading = {
          meter: wallet.address as Address,
          interval: 1000n + BigInt(i),
          sequence: BigInt(i + 1),
          importStartWh: 0n,
          importEndWh: 10n,
          exportStartWh: 0n,
          exportEndWh: 2n ** 63n, // beyond 2^53: bigints must cross the thread boundary exactly
          timestamp: 60_060n + BigInt(i) * 60n,
        };
        return {
          reading,
          signature: await wallet.signTypedData(domain, types, reading),
          signer: wallet.address,
        };
      }),
    );
    const workers = workerSignerRecovery(domain, types, 2);
    const inline = inlineSignerRecovery(domain, types);
    try {
      const [fromWorkers, fromInline] = await Promise.all([
        Promise.all(signed.map((s) => workers.recover(s.reading, s.signature))),
        Promise.all(signed.map((s) => inline.recover(s.reading, s.signature))),
      ]);
      assert.deepEqual(
        fromWorkers,
        signed.map((s) => s.signer),
      );
      assert.deepEqual(fromInline, fromWorkers);
      // A tampered reading recovers some other address; garbage does not decode at all.
      const tampered = { ...signed[0]!.reading, exportEndWh: 1n };
      assert.notEqual(await workers.recover(tampered, signed[0]!.signature), signed[0]!.signer);
      assert.equal(await workers.recover(signed[0]!.reading, "0x1234"), null);
      assert.equal(await inline.recover(signed[0]!.reading, "0x1234"), null);
    } finally {
      await workers.close();
    }
  });
});
