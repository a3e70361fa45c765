import type { Logger } from "./logger.js";

/**
 * An explicit registry of what must be stopped when the process ends, so that Ctrl-C closes
 * servers, database handles and child processes in the reverse order they were started.
 */
export interface Shutdown {
  /** Registers `stop`, to run before everything registered earlier. */
  add(name: string, stop: () => Promise<void> | void): void;
  /** Runs every registered stop once, newest first; later calls return the same promise. */
  run(reason: string): Promise<ShutdownReport>;
  readonly isShuttingDown: boolean;
}

export interface ShutdownReport {
  reason: string;
  failures: { name: string; error: unknown }[];
}

export interface CreateShutdownParameters {
  /** Bound on each stop, so one stuck resource cannot keep the process alive for ever. */
  timeoutMs?: number;
  onError?: (name: string, error: unknown) => void;
}

export function createShutdown({ timeoutMs = 10_000, onError }: CreateShutdownParameters = {}): Shutdown {
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  let running: Promise<ShutdownReport> | undefined;

  async function stopOne(name: string, stop: () => Promise<void> | void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not stop within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(stop), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    add(name, stop) {
      if (running) throw new Error(`cannot register ${name}: shutdown already started`);
      stops.push({ name, stop });
    },
    run(reason) {
      running ??= (async () => {
        const failures: ShutdownReport["failures"] = [];
        for (const { name, stop } of stops.toReversed()) {
          try {
            await stopOne(name, stop);
          } catch (error) {
            failures.push({ name, error });
            onError?.(name, error);
          }
        }
        return { reason, failures };
      })();
      return running;
    },
    get isShuttingDown() {
      return running !== undefined;
    },
  };
}

/**
 * The shutdown of a service process: SIGINT and SIGTERM run it and exit (1 if any stop failed).
 * Installed before the slow start, so a signal during it still stops what has started.
 */
export function shutdownOnSignals(logger: Pick<Logger, "info" | "error">): Shutdown {
  const shutdown = createShutdown({ onError: (name, err) => logger.error({ err, name }, "stopping failed") });
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "stopping");
    void shutdown.run(signal).then((report) => process.exit(report.failures.length === 0 ? 0 : 1));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return shutdown;
}
