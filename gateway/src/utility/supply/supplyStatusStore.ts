import type { Queryable } from "../../store/index.js";
import type { PeakHours } from "./peakHours.js";
import type { SupplyStatus } from "./supplyStatus.js";

/** The supply_state row as a round or a route reads it, under its lock. */
export interface SupplyState {
  feedSource: string | null;
  feedStatus: SupplyStatus | null;
  feedAnsweredAt: Date | null;
  feedFailures: number;
  feedError: string | null;
  feedErrorAt: Date | null;
  overrideStatus: SupplyStatus | null;
  overrideReason: string | null;
  overrideAt: Date | null;
  lastRoundAt: Date | null;
  lastRoundPeak: boolean | null;
  peakStartHour: number | null;
  peakEndHour: number | null;
  peakTimeZone: string | null;
  peakSource: string | null;
}

/** Which status the utility acts on: an operator's override first, else the feed's last answer. */
export function effectiveStatus(state: SupplyState): SupplyStatus | null {
  return state.overrideStatus ?? state.feedStatus;
}

type StateRow = {
  feed_source: string | null;
  feed_status: SupplyStatus | null;
  feed_answered_at: Date | null;
  feed_failures: number;
  feed_error: string | null;
  feed_error_at: Date | null;
  override_status: SupplyStatus | null;
  override_reason: string | null;
  override_at: Date | null;
  last_round_at: Date | null;
  last_round_peak: boolean | null;
  peak_start_hour: number | null;
  peak_end_hour: number | null;
  peak_time_zone: string | null;
  peak_source: string | null;
};

const stateOf = (r: StateRow): SupplyState => ({
  feedSource: r.feed_source,
  feedStatus: r.feed_status,
  feedAnsweredAt: r.feed_answered_at,
  feedFailures: r.feed_failures,
  feedError: r.feed_error,
  feedErrorAt: r.feed_error_at,
  overrideStatus: r.override_status,
  overrideReason: r.override_reason,
  overrideAt: r.override_at,
  lastRoundAt: r.last_round_at,
  lastRoundPeak: r.last_round_peak,
  peakStartHour: r.peak_start_hour,
  peakEndHour: r.peak_end_hour,
  peakTimeZone: r.peak_time_zone,
  peakSource: r.peak_source,
});

/**
 * Reads the state and locks it for the rest of the transaction, so that a round and an operator's
 * override never decide from the same old status (both enqueue commands from it).
 */
export async function lockSupplyState(tx: Queryable): Promise<SupplyState> {
  await tx.query("INSERT INTO supply_state (id) VALUES (true) ON CONFLICT (id) DO NOTHING");
  const { rows } = await tx.query<StateRow>("SELECT * FROM supply_state WHERE id FOR UPDATE");
  return stateOf(rows[0]!);
}

/** The state without a lock, for reading; the initial state before anything was recorded. */
export async function readSupplyState(db: Queryable): Promise<SupplyState> {
  const { rows } = await db.query<StateRow>("SELECT * FROM supply_state WHERE id");
  return rows[0] === undefined ? { ...INITIAL_STATE } : stateOf(rows[0]);
}

const INITIAL_STATE: SupplyState = {
  feedSource: null,
  feedStatus: null,
  feedAnsweredAt: null,
  feedFailures: 0,
  feedError: null,
  feedErrorAt: null,
  overrideStatus: null,
  overrideReason: null,
  overrideAt: null,
  lastRoundAt: null,
  lastRoundPeak: null,
  peakStartHour: null,
  peakEndHour: null,
  peakTimeZone: null,
  peakSource: null,
};

/** The feed answered: its status becomes the known one; a change (or the first answer) goes to history. */
export async function recordFeedAnswer(
  tx: Queryable,
  state: SupplyState,
  answer: { source: string; status: SupplyStatus; atMs: number },
): Promise<SupplyState> {
  const at = new Date(answer.atMs);
  const next: SupplyState = {
    ...state,
    feedSource: answer.source,
    feedStatus: answer.status,
    feedAnsweredAt: at,
    feedFailures: 0,
  };
  await tx.query(
    `UPDATE supply_state SET feed_source = $1, feed_status = $2, feed_answered_at = $3, feed_failures = 0
     WHERE id`,
    [answer.source, answer.status, at],
  );
  if (answer.status !== state.feedStatus) {
    await appendHistory(tx, {
      at,
      source: "feed",
      reported: answer.status,
      previous: effectiveStatus(state),
      effective: effectiveStatus(next),
      note: state.feedStatus === null ? `first answer from ${answer.source}` : `was ${state.feedStatus}`,
    });
  }
  return next;
}

/**
 * The feed failed: the last known status stays (never a silent NORMAL), the failure is counted and
 * shown, and the start of an outage goes to history.
 */
export async function recordFeedFailure(
  tx: Queryable,
  state: SupplyState,
  failure: { source: string; error: string; atMs: number },
): Promise<SupplyState> {
  const at = new Date(failure.atMs);
  const next: SupplyState = {
    ...state,
    feedSource: failure.source,
    feedFailures: state.feedFailures + 1,
    feedError: failure.error,
    feedErrorAt: at,
  };
  await tx.query(
    `UPDATE supply_state SET feed_source = $1, feed_failures = feed_failures + 1, feed_error = $2,
       feed_error_at = $3 WHERE id`,
    [failure.source, failure.error, at],
  );
  if (state.feedFailures === 0) {
    await appendHistory(tx, {
      at,
      source: "feed_failure",
      reported: null,
      previous: effectiveStatus(state),
      effective: effectiveStatus(next),
      note: failure.error,
    });
  }
  return next;
}

/** An operator declares a status for a drill (or clears it with null); always recorded as such. */
export async function recordOverride(
  tx: Queryable,
  state: SupplyState,
  override: { status: SupplyStatus | null; reason: string; atMs: number },
): Promise<SupplyState> {
  const at = new Date(override.atMs);
  const next: SupplyState =
    override.status === null
      ? { ...state, overrideStatus: null, overrideReason: null, overrideAt: null }
      : { ...state, overrideStatus: override.status, overrideReason: override.reason, overrideAt: at };
  await tx.query(
    "UPDATE supply_state SET override_status = $1, override_reason = $2, override_at = $3 WHERE id",
    [next.overrideStatus, next.overrideReason, next.overrideAt],
  );
  await appendHistory(tx, {
    at,
    source: override.status === null ? "override_cleared" : "override",
    reported: override.status,
    previous: effectiveStatus(state),
    effective: effectiveStatus(next),
    note: override.reason,
  });
  return next;
}

/** What a Purchase_power round went by, for the operator status. */
export async function recordRound(
  tx: Queryable,
  { atMs, peak, peakHours }: { atMs: number; peak: boolean; peakHours: PeakHours },
): Promise<void> {
  await tx.query(
    `UPDATE supply_state SET last_round_at = $1, last_round_peak = $2, peak_start_hour = $3,
       peak_end_hour = $4, peak_time_zone = $5, peak_source = $6 WHERE id`,
    [new Date(atMs), peak, peakHours.startHour, peakHours.endHour, peakHours.timeZone, peakHours.source],
  );
}

async function appendHistory(
  tx: Queryable,
  entry: {
    at: Date;
    source: "feed" | "feed_failure" | "override" | "override_cleared";
    reported: SupplyStatus | null;
    previous: SupplyStatus | null;
    effective: SupplyStatus | null;
    note: string;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO supply_status_history (at, source, reported_status, previous_status, effective_status, note)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [entry.at, entry.source, entry.reported, entry.previous, entry.effective, entry.note],
  );
}
