import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { DeviceIdentity, EmbeddedLedger, SecureIdClient, type LedgerEvent } from "@gridmesh/chaincode/client";
import { Wallet } from "ethers";

import { createLogger } from "../common/logger.js";
import { eventually } from "../common/testing/eventually.js";
import { createDatabase, migrate, type Database, type Queryable } from "../store/index.js";
import { ChaincodeEventLog } from "./chaincodeEventLog.js";

const logger = createLogger({ level: "silent" });
const UTILITY = "UtilityMSP";
const ORGS = [UTILITY, "Verifier1MSP", "Verifier2MSP", "Verifier3MSP"];

/** `db`, except that the `nth` checkpoint write fails: a crash after the event's insert, before commit. */
function crashingAtCheckpoint(db: Database, nth: number): Database {
  let checkpoints = 0;
  return {
    engine: db.engine,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    transaction: (work) =>
      db.transaction((tx) => {
        const crashing: Queryable = {
          query: (sql, params) => {
            if (sql.includes("fabric_checkpoints") && ++checkpoints === nth) {
              return Promise.reject(new Error("simulated crash before commit"));
            }
            return tx.query(sql, params);
          },
          exec: (sql) => tx.exec(sql),
        };
        return work(crashing);
      }),
  };
}

void describe("ChaincodeEventLog", () => {
  let db: Database;
  let ledger: EmbeddedLedger;
  const utility = () => new SecureIdClient(ledger, UTILITY);
  const logOn = (database: Database) =>
    new ChaincodeEventLog({
      db: database,
      ledger,
      asOrg: UTILITY,
      channel: "gridmesh",
      chaincode: "secureid",
      logger,
    });
  const provisionDevices = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await DeviceIdentity.generate().provision(utility(), {
        meter: Wallet.createRandom().address.toLowerCase(),
        attributes: { manufacturer: "Eastron", model: "SDM630", serial: `S-${i}` },
      });
    }
  };
  const stored = async () =>
    (
      await db.query<{ block_number: bigint; transaction_id: string; event_name: string }>(
        "SELECT block_number, transaction_id, event_name FROM fabric_events ORDER BY position",
      )
    ).rows.map((r) => [r.block_number, r.transaction_id, r.event_name]);
  const onLedger = async () => {
    const all: LedgerEvent[] = [];
    const events = await ledger.events({ asOrg: UTILITY, startBlock: 0n });
    for await (const event of events) {
      all.push(event);
      if (event.blockNumber >= ledger.height()) break;
    }
    return all.map((e) => [e.blockNumber, e.txId, e.name]);
  };

  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    ledger = new EmbeddedLedger({ orgs: ORGS });
    for (const org of ORGS.slice(1))
      await new SecureIdClient(ledger, org).registerVerifierOrg(Wallet.createRandom().address);
    await provisionDevices(3);
  });
  after(async () => {
    await ledger.close();
    await db.close();
  });

  void it("stores each event exactly once across a crash between insert and checkpoint, and across restarts", async () => {
    const crashing = logOn(crashingAtCheckpoint(db, 4));
    await crashing.ensureRunning();
    await eventually("the crashed log stops", () => !crashing.status().running, 5_000);
    assert.match(crashing.status().lastError ?? "", /simulated crash/);
    assert.deepEqual(
      await stored(),
      (await onLedger()).slice(0, 3),
      "the fourth event went with its checkpoint",
    );

    // Down for a while: the ledger moves on. The next run resumes at the checkpoint.
    await provisionDevices(2);
    const restarted = logOn(db);
    await restarted.ensureRunning();
    await restarted.waitForBlock(ledger.height());
    assert.deepEqual(await stored(), await onLedger());

    // Live: events committed while it runs are appended as they come; a clean stop and start again.
    await provisionDevices(1);
    await restarted.waitForBlock(ledger.height());
    await restarted.close();
    await provisionDevices(2);
    const again = logOn(db);
    assert.equal((await again.ensureRunning()).blockNumber, String(ledger.height() - 2n));
    await again.waitForBlock(ledger.height());
    await again.close();
    const all = await onLedger();
    assert.equal(all.length, 11);
    assert.deepEqual(await stored(), all);
    const { rows } = await db.query<{ block_number: bigint; transaction_id: string }>(
      "SELECT block_number, transaction_id FROM fabric_checkpoints",
    );
    assert.deepEqual(rows, [{ block_number: all.at(-1)![0], transaction_id: all.at(-1)![1] }]);
  });

  void it("keeps each payload as the JSON the chaincode emitted", async () => {
    const { rows } = await db.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM fabric_events WHERE event_name = 'IdentityProvisioned' ORDER BY position LIMIT 1",
    );
    const identity = await utility().getIdentity(rows[0]!.payload.deviceId as string);
    assert.equal(rows[0]!.payload.meter, identity.meter);
  });
});
