import type { Queryable } from "../../store/index.js";
import { argOf, boolOf, type ChainEvent, fieldOf } from "../chainEvent.js";
import { KEYS, keysParam, type Projection } from "./projection.js";

const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

/** Rows of a `$n` JSON array of `{ contract, id }` keys. */
const keysIn = (param: string) =>
  `(SELECT k->>'contract' AS contract, (k->>'id')::numeric AS id FROM jsonb_array_elements(${param}::jsonb) k)`;

/**
 * Forwards and options (ForwardMarket, OptionMarket: both ScheduledDelivery) in
 * `delivery_schedules`, and each committed, settled or voided interval of them in
 * `scheduled_deliveries`. Partitioned by (contract, schedule id): every event names its schedule.
 */
export const scheduleProjection: Projection = {
  name: "schedules",
  events: new Set([
    "ForwardProposed",
    "ForwardAccepted",
    "ForwardCancelled",
    "OptionWritten",
    "OptionBought",
    "OptionExercised",
    "OptionExpired",
    "OptionCancelled",
    "ScheduleCompleted",
    "DeliveryCommitted",
    "DeliverySettled",
    "DeliveryVoided",
  ]),

  async apply(tx, event) {
    const key = [event.contract, argOf(event, "id")];
    switch (event.name) {
      case "ForwardProposed":
        return proposeForward(tx, event);
      case "OptionWritten":
        return writeOption(tx, event);
      case "ForwardAccepted":
        // The acceptor takes whichever side the proposer left open (SET sees the row as it was).
        await tx.query(
          `UPDATE delivery_schedules SET status = 'active',
             seller = COALESCE(seller, $3), seller_meter = CASE WHEN seller IS NULL THEN $4 ELSE seller_meter END,
             seller_margin = CASE WHEN seller IS NULL THEN $5 ELSE seller_margin END,
             buyer = CASE WHEN seller IS NULL THEN buyer ELSE $3 END,
             buyer_meter = CASE WHEN seller IS NULL THEN buyer_meter ELSE $4 END,
             buyer_margin = CASE WHEN seller IS NULL THEN buyer_margin ELSE $5 END
           WHERE contract = $1 AND schedule_id = $2`,
          [...key, argOf(event, "acceptor"), argOf(event, "meter"), argOf(event, "margin")],
        );
        return;
      case "OptionBought":
        await setWhere(tx, key, "holder = $3", [argOf(event, "holder")]);
        return;
      case "OptionExercised":
        await setWhere(tx, key, "status = 'active', buyer = $3, buyer_meter = $4, buyer_margin = $5", [
          argOf(event, "holder"),
          argOf(event, "meter"),
          argOf(event, "escrow"),
        ]);
        return;
      case "ForwardCancelled":
      case "OptionCancelled":
        await setWhere(tx, key, "status = 'cancelled'", []);
        return;
      case "OptionExpired":
        await setWhere(tx, key, "status = 'expired'", []);
        return;
      case "ScheduleCompleted":
        // Also emitted when a proposal is cancelled or an option expires: those keep their status.
        await setWhere(tx, key, "status = CASE WHEN status = 'active' THEN 'completed' ELSE status END", []);
        return;
      case "DeliveryCommitted":
        await tx.query(
          `INSERT INTO scheduled_deliveries (contract, schedule_id, interval_index, status, wh)
           VALUES ($1, $2, $3, 'committed', $4)`,
          [...key, argOf(event, "interval"), argOf(event, "wh")],
        );
        return;
      case "DeliverySettled":
        await tx.query(
          `UPDATE scheduled_deliveries
           SET status = 'settled', delivered_wh = $4, price_per_kwh = $5, paid = $6, penalty = $7
           WHERE contract = $1 AND schedule_id = $2 AND interval_index = $3`,
          [
            ...key,
            ...["interval", "deliveredWh", "pricePerKwh", "paid", "penalty"].map((name) =>
              argOf(event, name),
            ),
          ],
        );
        return;
      case "DeliveryVoided":
        await tx.query(
          `INSERT INTO scheduled_deliveries (contract, schedule_id, interval_index, status)
           VALUES ($1, $2, $3, 'voided')`,
          [...key, argOf(event, "interval")],
        );
        return;
    }
  },

  partitionOf(_tx, event) {
    return Promise.resolve({ contract: event.contract, id: argOf(event, "id") });
  },

  async clear(tx, partitions) {
    // Deliveries go with their schedule (ON DELETE CASCADE).
    if (partitions === "all") await tx.query("DELETE FROM delivery_schedules");
    else {
      await tx.query(
        `DELETE FROM delivery_schedules WHERE (contract, schedule_id) IN (SELECT contract, id FROM ${keysIn("$1")} k)`,
        [keysParam(partitions)],
      );
    }
  },

  partitionFilter: `(e.contract::text, e.args->>'id') IN
    (SELECT k->>'contract', k->>'id' FROM jsonb_array_elements(${KEYS}::jsonb) k)`,
};

async function setWhere(tx: Queryable, key: string[], assignments: string, values: unknown[]): Promise<void> {
  await tx.query(`UPDATE delivery_schedules SET ${assignments} WHERE contract = $1 AND schedule_id = $2`, [
    ...key,
    ...values,
  ]);
}

async function proposeForward(tx: Queryable, event: ChainEvent): Promise<void> {
  const sells = boolOf(event, "proposerSells");
  const party = [argOf(event, "proposer"), argOf(event, "meter"), argOf(event, "margin")];
  const counterparty = argOf(event, "counterparty");
  await insertSchedule(tx, event, {
    product: "forward",
    seller: sells ? party : [null, null, null],
    buyer: sells ? [null, null, null] : party,
    counterparty: counterparty === ZERO_ADDRESS ? null : counterparty,
    premium: null,
    exerciseDeadline: null,
  });
}

async function writeOption(tx: Queryable, event: ChainEvent): Promise<void> {
  await insertSchedule(tx, event, {
    product: "option",
    seller: [argOf(event, "writer"), argOf(event, "meter"), argOf(event, "collateral")],
    buyer: [null, null, null],
    counterparty: null,
    premium: fieldOf(event, "terms", "premium"),
    exerciseDeadline: fieldOf(event, "terms", "exerciseDeadline"),
  });
}

async function insertSchedule(
  tx: Queryable,
  event: ChainEvent,
  s: {
    product: "forward" | "option";
    /** Party, meter, margin. */
    seller: (string | null)[];
    buyer: (string | null)[];
    counterparty: string | null;
    premium: string | null;
    exerciseDeadline: string | null;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO delivery_schedules (contract, schedule_id, product, status, seller, seller_meter, seller_margin,
       buyer, buyer_meter, buyer_margin, counterparty, first_interval, last_interval, wh_per_interval, terms,
       penalty_per_kwh, premium, exercise_deadline, created_block, created_tx)
     VALUES ($1, $2, $3, 'proposed', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      event.contract,
      argOf(event, "id"),
      s.product,
      ...s.seller,
      ...s.buyer,
      s.counterparty,
      ...["firstInterval", "lastInterval", "whPerInterval"].map((field) => fieldOf(event, "terms", field)),
      JSON.stringify(event.args.terms),
      argOf(event, "penaltyPerKwh"),
      s.premium,
      s.exerciseDeadline,
      event.blockNumber,
      event.txHash,
    ],
  );
}
