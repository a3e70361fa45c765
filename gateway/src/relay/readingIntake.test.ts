import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";

import { Wallet } from "ethers";

import {
  deliveryLedgerDomain,
  meterReadingTypes,
  mutableTypes,
  signedReadingToJson,
  type Address,
  type Hex,
  type MeterReading,
  type SignedReading,
} from "@gridmesh/contracts";

import { createLogger } from "../common/logger.js";
import { createDatabase, migrate, type Database } from "../store/index.js";
import { ReadingIntake, type MeterActivity } from "./readingIntake.js";
import { handleReadings } from "../api/readingsEndpoint.js";

const ledger = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const domain = deliveryLedgerDomain(31337n, ledger);
const types = mutableTypes(meterReadingTypes);
const logger = createLogger({ level: "silent" });
const I = 60n;

const wallet = Wallet.createRandom();
const meter = wallet.address as Address;

/** Reading `seq` of interval 1000 + seq, 10 Wh imported per interval, continuous. */
function reading(seq: bigint, overrides: Partial<MeterReading> = {}): MeterReading {
  const t = 1000n + seq;
  return {
    meter,
    interval: t,
    sequence: seq,
    importStartWh: 10n * seq,
    importEndWh: 10n * seq + 10n,
    exportStartWh: 0n,
    exportEndWh: 0n,
    timestamp: (t + 1n) * I,
    ...overrides,
  };
}
const sign = async (r: MeterReading, by = wallet): Promise<SignedReading> => ({
  reading: r,
  signature: (await by.signTypedData(domain, types, r)) as Hex,
});

describe("reading intake on the store", () => {
  let db: Database;
  let server: Server;
  let url: string;
  const inactive = new Set<string>();
  const activity: MeterActivity = {
    activeThroughout: (m) => Promise.resolve(!inactive.has(m.toLowerCase())),
  };

  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    const intake = new ReadingIntake({ db, chainId: 31337n, ledger, intervalSeconds: Number(I), activity });
    server = createServer((req, res) => void handleReadings(req, res, intake));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/readings`;
  });
  after(async () => {
    server.close();
    await db.close();
  });
  beforeEach(() => db.query("DELETE FROM readings"));

  const post = async (readings: SignedReading[]) => {
    const res = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ readings: readings.map(signedReadingToJson) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { results?: { status: string; error?: string }[]; error?: string },
    };
  };
  const stored = async () =>
    (await db.query<{ n: bigint }>("SELECT count(*)::bigint AS n FROM readings")).rows[0]!.n;

  it("stores readings arriving newest first, and answers a resend as a duplicate", async () => {
    const batch = await Promise.all([3n, 2n, 1n].map((s) => sign(reading(s))));
    const first = await post(batch);
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.results?.map((r) => r.status),
      ["stored", "stored", "stored"],
    );
    const again = await post(batch);
    assert.deepEqual(
      again.body.results?.map((r) => r.status),
      ["duplicate", "duplicate", "duplicate"],
    );
    assert.equal(await stored(), 3n);
  });

  it("finds neighbours by numeric sequence across a digit boundary (9 < 10 < 11, not '10' < '9')", async () => {
    const batch = await Promise.all([8n, 9n, 10n, 11n, 12n].map((s) => sign(reading(s))));
    const { body } = await post(batch);
    assert.deepEqual(
      body.results?.map((r) => r.status),
      ["stored", "stored", "stored", "stored", "stored"],
    );
    // Discontinuous with 10 (its true predecessor), continuous with 9: must be refused.
    await db.query("DELETE FROM readings WHERE sequence >= 11");
    const wrong = await post([await sign(reading(11n, { importStartWh: 100n, importEndWh: 110n }))]);
    assert.equal(wrong.body.results?.[0]?.status, "rejected");
    assert.equal(await stored(), 3n);
  });

  it("refuses forged, conflicting, discontinuous and out-of-order readings, storing nothing of them", async () => {
    await post([await sign(reading(2n))]);
    const cases: [SignedReading, RegExp][] = [
      [await sign(reading(1n), Wallet.createRandom()), /not by meter/],
      [await sign(reading(2n, { importEndWh: 31n })), /conflicts with the stored reading 2/],
      [
        await sign(reading(3n, { importStartWh: 29n, importEndWh: 40n })),
        /discontinuous with stored reading 2/,
      ],
      [
        await sign(reading(1n, { interval: 1002n, timestamp: 1003n * I })),
        /conflicts with the stored reading 2 of interval 1002/,
      ],
      [
        await sign(reading(1n, { interval: 1005n, timestamp: 1006n * I })),
        /out of order with stored reading 2/,
      ],
      [await sign(reading(5n, { importStartWh: 20n, importEndWh: 25n })), /registers run backwards/],
      [await sign(reading(4n, { timestamp: 1004n * I })), /before the interval's end/],
    ];
    for (const [signed, why] of cases) {
      const { body } = await post([signed]);
      assert.equal(body.results?.[0]?.status, "rejected");
      assert.match(body.results?.[0]?.error ?? "", why);
    }
    assert.equal(await stored(), 1n);
  });

  it("refuses a meter that was not active for the interval", async () => {
    inactive.add(meter.toLowerCase());
    try {
      const { body } = await post([await sign(reading(1n))]);
      assert.match(body.results?.[0]?.error ?? "", /was not active throughout interval 1001/);
      assert.equal(await stored(), 0n);
    } finally {
      inactive.clear();
    }
  });

  it("refuses a malformed batch whole with 400 and a message naming the field", async () => {
    const good = signedReadingToJson(await sign(reading(1n)));
    const bad = { ...good, reading: { ...good.reading, importEndWh: "-5" } };
    const res = await fetch(url, { method: "POST", body: JSON.stringify({ readings: [good, bad] }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /readings\.1\.reading\.importEndWh/);
    const notJson = await fetch(url, { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
    assert.equal(await stored(), 0n);
  });
});
