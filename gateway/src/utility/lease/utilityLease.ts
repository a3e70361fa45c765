import type { Logger } from "../../common/logger.js";
import type { Queryable } from "../../store/index.js";

export interface UtilityLeaseOptions {
  db: Queryable;
  /** Who this process is, in the lease row and the logs (host, pid and a random suffix). */
  holder: string;
  /** How long a lease lasts without renewal (wall-clock ms, on the database's clock). */
  leaseMs: number;
  /** How often it is renewed, or tried for while another process holds it; well under leaseMs. */
  renewMs: number;
  /**
   * Take the lease whoever holds it: for an embedded database, which one process at a time can
   * open, so a holder in the row is a process that died without releasing it.
   */
  takeOver?: boolean;
  logger: Logger;
  /** This process now holds the lease: start the utility's work. */
  onAcquired: () => void | Promise<void>;
  /** It no longer does (taken over, or not renewed in time): stop the work at once. */
  onLost: () => void | Promise<void>;
}

export interface LeaseState {
  holder: string;
  held: boolean;
  /** The lease's row as last read: who holds it and until when (null before the first try). */
  current: { holder: string; expiresAt: string } | null;
}

/**
 * One active utility among processes sharing a database. The lease is one row, taken when free or
 * expired and renewed by its holder, all in one statement, so two processes can never both hold
 * it. Expiry is judged by the database's clock; the holder also gives up on its own clock when it
 * has not managed to renew before its lease would have run out (the database unreachable), so it
 * stops working before any standby may start.
 */
export class UtilityLease {
  readonly #o: UtilityLeaseOptions;
  #held = false;
  /** performance.now() by which this process must have renewed, or stop working. */
  #heldUntil = 0;
  #current: LeaseState["current"] = null;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #looping = false;
  /** Set by stop(): a round still under way must not start the work again. */
  #closed = false;

  constructor(options: UtilityLeaseOptions) {
    if (!(options.renewMs > 0 && options.renewMs * 2 <= options.leaseMs)) {
      throw new RangeError(
        `renewMs (${options.renewMs}) must be positive and at most half of leaseMs (${options.leaseMs})`,
      );
    }
    this.#o = options;
  }

  get state(): LeaseState {
    return { holder: this.#o.holder, held: this.#held, current: this.#current };
  }

  /** Tries for the lease now and then every renewMs until stop. */
  start(): void {
    if (this.#looping) return;
    this.#looping = true;
    this.#closed = false;
    const tick = () => {
      this.#round = this.renew().finally(() => {
        if (this.#looping) this.#timer = setTimeout(tick, this.#o.renewMs);
      });
    };
    tick();
  }

  /** Stops trying; if held, the work stops first and then the lease is released for a standby. */
  async stop(): Promise<void> {
    this.#looping = false;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#round;
    if (!this.#held) return;
    await this.#lose("stopping");
    await this.#o.db
      .query("DELETE FROM utility_lease WHERE holder = $1", [this.#o.holder])
      .catch((err: unknown) =>
        this.#o.logger.warn({ err }, "could not release the utility lease; it expires by itself"),
      );
  }

  /** One round: take or renew the lease, and start or stop the work accordingly. */
  async renew(): Promise<void> {
    const { db, holder, leaseMs, logger } = this.#o;
    const asked = performance.now();
    let row: { holder: string; expires_at: Date } | undefined;
    try {
      // Taken when nobody holds it or the holder let it expire; renewed by its holder; else untouched.
      await db.query(
        `INSERT INTO utility_lease (id, holder, acquired_at, renewed_at, expires_at)
         VALUES (true, $1, now(), now(), now() + $2::bigint * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE
           SET holder = EXCLUDED.holder,
               acquired_at = CASE WHEN utility_lease.holder = EXCLUDED.holder
                                  THEN utility_lease.acquired_at ELSE EXCLUDED.acquired_at END,
               renewed_at = EXCLUDED.renewed_at,
               expires_at = EXCLUDED.expires_at
           WHERE $3::boolean OR utility_lease.holder = EXCLUDED.holder OR utility_lease.expires_at <= now()`,
        [holder, leaseMs, this.#o.takeOver === true],
      );
      ({
        rows: [row],
      } = await db.query<{ holder: string; expires_at: Date }>(
        "SELECT holder, expires_at FROM utility_lease WHERE id",
      ));
    } catch (err) {
      // Given up while a round still remains before the lease could run out: the next round might
      // come too late, and a standby may start the moment it does.
      if (this.#held && performance.now() + this.#o.renewMs >= this.#heldUntil) {
        await this.#lose("not renewed in time: the database did not answer");
      } else if (this.#held) {
        logger.warn({ err }, "could not renew the utility lease; it is still held");
      } else {
        logger.warn({ err }, "could not try for the utility lease");
      }
      return;
    }
    this.#current =
      row === undefined ? null : { holder: row.holder, expiresAt: row.expires_at.toISOString() };
    if (row?.holder === holder) {
      // Counted from before the statement was sent: the database's expiry cannot come earlier.
      this.#heldUntil = asked + leaseMs;
      if (!this.#held && !this.#closed) {
        this.#held = true;
        logger.info({ holder, leaseMs }, "this process holds the utility lease: it does the utility's work");
        await this.#o.onAcquired();
      }
    } else if (this.#held) {
      await this.#lose(`taken over by ${row?.holder ?? "nobody"}`);
    }
  }

  async #lose(why: string): Promise<void> {
    this.#held = false;
    this.#o.logger.warn({ holder: this.#o.holder, why }, "this process no longer holds the utility lease");
    await this.#o.onLost();
  }
}
