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
    this.#tasks.push({
      name,
      run,
      status: {
        name,
        runs: 0,
        lastStartedAt: null,
        lastSucceededAt: null,
        lastError: null,
        lastResult: null,
      },
    });
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
      const s = task.status;
      s.runs++;
      s.lastStartedAt = new Date().toISOString();
      try {
        s.lastResult = toJson(await task.run());
        s.lastSucceededAt = new Date().toISOString();
        s.lastError = null;
      } catch (e) {
        s.lastError = e instanceof Error ? e.message : String(e);
        this.#logger.warn({ task: task.name, err: e }, "gateway task failed; will run again next round");
      }
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

/** Task results hold bigints; the status endpoint speaks JSON. */
function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  );
}
