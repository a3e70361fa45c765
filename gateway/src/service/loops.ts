import type { Logger } from "pino";

/** What the operator status endpoint shows of one background task. */
export interface TaskStatus {
  name: string;
  runs: number;
  lastStartedAt: string | null;
  lastSucceededAt: string | null;
  lastError: string | null;
  lastResult: unknown;
}

/**
 * Runs the gateway's tasks in one sequence every `periodMs` (index, then clear, relay, settle:
 * each step sees what the previous one stored). A task's failure is logged and recorded for the
 * status endpoint and never stops the others; a slow round delays the next instead of overlapping.
 */
export class TaskLoop {
  readonly #tasks: { name: string; run: () => Promise<unknown>; status: TaskStatus }[] = [];
  readonly #periodMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(periodMs: number, logger: Logger) {
    this.#periodMs = periodMs;
    this.#logger = logger;
  }

  add(name: string, run: () => Promise<unknown>): void {
    this.#tasks.push({ name, run, status: newTaskStatus(name) });
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#round = this.runOnce().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#periodMs);
      });
    };
    tick();
  }

  /** One round of every task in order (tests drive the gateway with this). */
  async runOnce(): Promise<void> {
    for (const task of this.#tasks) {
      if (this.#stopped) return;
      const failure = await runRecorded(task.status, task.run);
      if (failure !== undefined)
        this.#logger.warn(
          { task: task.name, err: failure.error },
          "gateway task failed; will run again next round",
        );
    }
  }

  status(): TaskStatus[] {
    return this.#tasks.map((t) => ({ ...t.status }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }
}

/** A task that has not run yet. */
export function newTaskStatus(name: string): TaskStatus {
  return { name, runs: 0, lastStartedAt: null, lastSucceededAt: null, lastError: null, lastResult: null };
}

/**
 * Runs `run` once and records it in `status`, with times from `now` (a simulated clock's for the
 * utility's loops); returns what it threw, for the caller to log, or undefined when it succeeded.
 */
export async function runRecorded(
  status: TaskStatus,
  run: () => Promise<unknown>,
  now: () => number = Date.now,
): Promise<{ error: unknown } | undefined> {
  status.runs++;
  status.lastStartedAt = new Date(now()).toISOString();
  try {
    status.lastResult = toJson(await run());
    status.lastSucceededAt = new Date(now()).toISOString();
    status.lastError = null;
    return undefined;
  } catch (error) {
    status.lastError = error instanceof Error ? error.message : String(error);
    return { error };
  }
}

/** Task results hold bigints; the status endpoint speaks JSON. */
function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  );
}
