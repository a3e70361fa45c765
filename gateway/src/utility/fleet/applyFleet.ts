import { ConfigError } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import type { Database, Queryable } from "../../store/index.js";
import type { Fleet } from "./fleetFile.js";

export interface ApplyFleetOptions {
  /** The utility's Clock time (ms) written as created/updated times. */
  now: number;
  /**
   * Let the fleet lower an account's initial base bill. Lowering is irreversible in effect: the
   * account's base bill is clamped to the new cap and raising the cap later does not give it back,
   * so a typo in the fleet file would silently cut a customer's bills for good. Refused by default.
   */
  allowLowerBaseBills?: boolean;
  logger?: Logger;
}

export interface ChangeCount {
  inserted: number;
  updated: number;
}

export interface ApplyFleetResult {
  controllers: ChangeCount;
  accounts: ChangeCount;
  meters: ChangeCount;
  /**
   * Rows the CIDB holds that the fleet no longer lists. They are kept (meter records and bills
   * reference them) and simply no longer polled.
   */
  notInFleet: { controllers: string[]; accounts: string[]; meters: string[] };
}

type AccountRow = {
  account_number: string;
  controller_id: string;
  initial_base_bill: string;
  base_bill: string;
};
type MeterRow = {
  meter: string;
  account_number: string;
  controller_id: string;
  url: string | null;
  function: string;
  direction: string;
};

/**
 * Brings microgrid_controllers, customer_accounts and smart_meters in line with the fleet, in one
 * transaction: new rows are inserted, changed ones updated, nothing is deleted.
 *
 * Base bills: a new account starts with base_bill = initial_base_bill. For an existing account the
 * base bill belongs to billing (the ±25% rule moves it) and is never reset by the fleet. Raising
 * the initial base bill only raises the cap the +25% rule climbs back to. Lowering it must clamp
 * the base bill (base_bill ≤ initial_base_bill), which no later change undoes, so it needs
 * `allowLowerBaseBills`; without it the whole fleet is refused and nothing changes.
 */
export async function applyFleet(
  db: Database,
  fleet: Fleet,
  options: ApplyFleetOptions,
): Promise<ApplyFleetResult> {
  const at = new Date(options.now);
  const result = await db.transaction(async (tx) => {
    const controllers = await applyControllers(tx, fleet, at);
    const accounts = await applyAccounts(tx, fleet, at, options.allowLowerBaseBills === true);
    const meters = await applyMeters(tx, fleet, at);
    const notInFleet = await listNotInFleet(tx, fleet);
    return { controllers, accounts, meters, notInFleet };
  });
  const stale = result.notInFleet;
  if (stale.controllers.length + stale.accounts.length + stale.meters.length > 0) {
    options.logger?.warn(
      { notInFleet: stale },
      "the CIDB holds controllers, accounts or meters the fleet no longer lists",
    );
  }
  options.logger?.info(
    { controllers: result.controllers, accounts: result.accounts, meters: result.meters },
    "fleet applied",
  );
  return result;
}

async function applyControllers(tx: Queryable, fleet: Fleet, at: Date): Promise<ChangeCount> {
  const count: ChangeCount = { inserted: 0, updated: 0 };
  const { rows } = await tx.query<{ controller_id: string; location: string; url: string }>(
    "SELECT controller_id, location, url FROM microgrid_controllers FOR UPDATE",
  );
  const existing = new Map(rows.map((r) => [r.controller_id, r]));
  for (const c of fleet.controllers) {
    const row = existing.get(c.id);
    if (row === undefined) {
      await tx.query(
        `INSERT INTO microgrid_controllers (controller_id, location, url, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)`,
        [c.id, c.location, c.url, at],
      );
      count.inserted++;
    } else if (row.location !== c.location || row.url !== c.url) {
      await tx.query(
        "UPDATE microgrid_controllers SET location = $2, url = $3, updated_at = $4 WHERE controller_id = $1",
        [c.id, c.location, c.url, at],
      );
      count.updated++;
    }
  }
  return count;
}

async function applyAccounts(
  tx: Queryable,
  fleet: Fleet,
  at: Date,
  allowLower: boolean,
): Promise<ChangeCount> {
  const count: ChangeCount = { inserted: 0, updated: 0 };
  const wanted = fleet.controllers.flatMap((c) => c.accounts.map((a) => ({ ...a, controllerId: c.id })));
  const { rows } = await tx.query<AccountRow>(
    `SELECT account_number, controller_id, initial_base_bill, base_bill FROM customer_accounts
     WHERE account_number = ANY($1::text[]) FOR UPDATE`,
    [wanted.map((a) => a.accountNumber)],
  );
  const existing = new Map(rows.map((r) => [r.account_number, r]));
  const refused: string[] = [];
  for (const a of wanted) {
    const row = existing.get(a.accountNumber);
    const initial = a.initialBaseBill;
    if (row === undefined) {
      await tx.query(
        `INSERT INTO customer_accounts (account_number, controller_id, initial_base_bill, base_bill, created_at,
           updated_at) VALUES ($1, $2, $3, $3, $4, $4)`,
        [a.accountNumber, a.controllerId, initial.toString(), at],
      );
      count.inserted++;
      continue;
    }
    const [oldInitial, oldBase] = [BigInt(row.initial_base_bill), BigInt(row.base_bill)];
    if (initial < oldInitial && !allowLower) {
      refused.push(
        `account ${a.accountNumber}: initial base bill ${oldInitial} would be lowered to ${initial} ` +
          `(base bill ${oldBase}); lowering needs allowLowerBaseBills`,
      );
      continue;
    }
    const base = oldBase < initial ? oldBase : initial;
    if (initial !== oldInitial || base !== oldBase || row.controller_id !== a.controllerId) {
      await tx.query(
        `UPDATE customer_accounts SET controller_id = $2, initial_base_bill = $3, base_bill = $4, updated_at = $5
         WHERE account_number = $1`,
        [a.accountNumber, a.controllerId, initial.toString(), base.toString(), at],
      );
      count.updated++;
    }
  }
  // Thrown inside the transaction: nothing of this fleet is applied.
  if (refused.length > 0) throw new ConfigError(refused);
  return count;
}

async function applyMeters(tx: Queryable, fleet: Fleet, at: Date): Promise<ChangeCount> {
  const count: ChangeCount = { inserted: 0, updated: 0 };
  const wanted = fleet.controllers.flatMap((c) => c.meters.map((m) => ({ ...m, controllerId: c.id })));
  const { rows } = await tx.query<MeterRow>(
    `SELECT meter, account_number, controller_id, url, function, direction FROM smart_meters
     WHERE meter = ANY($1::text[]) FOR UPDATE`,
    [wanted.map((m) => m.address)],
  );
  const existing = new Map(rows.map((r) => [r.meter, r]));
  for (const m of wanted) {
    const row = existing.get(m.address);
    const values = [m.address, m.account, m.controllerId, m.url ?? null, m.function, m.direction];
    if (row === undefined) {
      await tx.query(
        `INSERT INTO smart_meters (meter, account_number, controller_id, url, function, direction, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [...values, at],
      );
      count.inserted++;
    } else if (
      row.account_number !== m.account ||
      row.controller_id !== m.controllerId ||
      row.url !== (m.url ?? null) ||
      row.function !== m.function ||
      row.direction !== m.direction
    ) {
      // A meter that moves keeps its history: each meter record names the controller it came through.
      await tx.query(
        `UPDATE smart_meters SET account_number = $2, controller_id = $3, url = $4, function = $5, direction = $6
         WHERE meter = $1`,
        values,
      );
      count.updated++;
    }
  }
  return count;
}

async function listNotInFleet(tx: Queryable, fleet: Fleet): Promise<ApplyFleetResult["notInFleet"]> {
  const ids = fleet.controllers.map((c) => c.id);
  const accounts = fleet.controllers.flatMap((c) => c.accounts.map((a) => a.accountNumber));
  const meters = fleet.controllers.flatMap((c) => c.meters.map((m) => m.address));
  const list = async (sql: string, keys: string[]) =>
    (await tx.query<{ id: string }>(sql, [keys])).rows.map((r) => r.id);
  return {
    controllers: await list(
      "SELECT controller_id AS id FROM microgrid_controllers WHERE NOT (controller_id = ANY($1::text[])) ORDER BY 1",
      ids,
    ),
    accounts: await list(
      "SELECT account_number AS id FROM customer_accounts WHERE NOT (account_number = ANY($1::text[])) ORDER BY 1",
      accounts,
    ),
    meters: await list(
      "SELECT meter AS id FROM smart_meters WHERE NOT (meter = ANY($1::text[])) ORDER BY 1",
      meters,
    ),
  };
}
