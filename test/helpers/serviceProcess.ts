import { type ChildProcess, spawn } from "node:child_process";

import { listeningUrl } from "../../scripts/local/managedProcess.js";

/**
 * A GridMesh process (gateway, utility, controller, meter agent) run by a test as the real program,
 * with its output kept for failure messages. Processes that serve HTTP print one JSON line with a
 * `url` when they listen; `started` resolves with it.
 */
export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the URL from the process's "listening" line (or "" with `expectUrl: false`). */
  readonly started: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** SIGTERM and wait; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL and wait: a crash or a power cut. */
  kill(): Promise<void>;
}

export interface ServiceOptions {
  name: string;
  /** Arguments to Node (the script and its own arguments). */
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wait for a JSON line carrying `url` (default true). */
  expectUrl?: boolean;
  startTimeoutMs?: number;
}

export function startService(options: ServiceOptions): ServiceProcess {
  const { name, args, expectUrl = true, startTimeoutMs = 60_000 } = options;
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  // Bounded: a long scenario's JSON logs would otherwise grow without limit in the test process.
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<string>((resolve, reject) => {
    if (!expectUrl) return resolve("");
    let pending = "";
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${startTimeoutMs} ms:\n${output.slice(-4000)}`)),
      startTimeoutMs,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const url = listeningUrl(line);
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.slice(-4000)}`));
    });
  });
  child.stdout?.on("data", keep);
  // Callers that never await `started` must not turn an early exit into an unhandled rejection.
  started.catch(() => undefined);

  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    child,
    started,
    exited,
    output: () => output,
    stop: (graceMs = 10_000) => signalAndWait("SIGTERM", graceMs),
    kill: () => signalAndWait("SIGKILL", 0),
  };
}

/** Polls `probe` until it returns a value, failing with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
