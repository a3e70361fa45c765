import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

import { orphanGuard } from "./orphanGuard.js";

export interface ManagedProcessOptions<T> {
  /** For messages, e.g. "agent home-03". */
  name: string;
  /** The program; Node (this process's own) when absent. */
  command?: string;
  args: string[];
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Every line the process prints goes here. */
  logFile: string;
  /**
   * Recognises the line that says the process is ready and returns what the caller needs from it
   * (its URL, its ptys); undefined for any other line. Without it the process is ready at once.
   */
  ready?: (line: string) => T | undefined;
  readyTimeoutMs?: number;
  /**
   * Keep a pipe to the child's standard input open for its lifetime: a child that exits when its
   * input ends then goes with this process, however this process ends.
   */
  stdinPipe?: boolean;
  /**
   * Run it in a process group of its own and signal the whole group: for wrappers such as npm that
   * run the real work in children of their own.
   */
  group?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessStartError extends Error {
  override readonly name = "ProcessStartError";
}

/**
 * A child process of the local system: its output kept in a log file (and its last lines in memory,
 * for error messages), its readiness recognised from its output, and a stop that escalates from
 * SIGTERM to SIGKILL so nothing is left behind.
 */
export class ManagedProcess<T = void> {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with what `ready` found; rejects if the process exits or times out first. */
  readonly ready: Promise<T>;
  readonly exited: Promise<Exit>;
  readonly #log: WriteStream;
  readonly #group: boolean;
  #tail = "";
  #stopping = false;

  constructor(o: ManagedProcessOptions<T>) {
    this.name = o.name;
    this.logFile = o.logFile;
    this.#log = createWriteStream(o.logFile, { flags: "a" });
    this.#group = o.group === true;
    this.child = spawn(o.command ?? process.execPath, o.args, {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: [o.stdinPipe === true ? "pipe" : "ignore", "pipe", "pipe"],
      detached: this.#group,
    });
    orphanGuard()?.watch(this.child, this.#group);
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once("exit", (code, signal) => resolve({ code, signal }));
      // A program that cannot be started at all (ENOENT) emits "error" and no "exit".
      this.child.once("error", () => resolve({ code: null, signal: null }));
    });
    void this.exited.then(() => this.#log.end());
    this.child.stderr?.on("data", (chunk: Buffer) => this.#keep(chunk));

    let pending = "";
    this.ready = new Promise<T>((resolve, reject) => {
      const timeoutMs = o.readyTimeoutMs ?? 60_000;
      const timer = setTimeout(
        () =>
          reject(new ProcessStartError(`${o.name} was not ready within ${timeoutMs} ms${this.#context()}`)),
        timeoutMs,
      );
      const done = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      if (o.ready === undefined) done(undefined as T);
      let found = o.ready === undefined;
      this.child.stdout?.on("data", (chunk: Buffer) => {
        this.#keep(chunk);
        if (found) return;
        pending += chunk.toString();
        let newline: number;
        while (!found && (newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          const value = o.ready!(line);
          if (value !== undefined) {
            found = true;
            pending = "";
            done(value);
          }
        }
      });
      this.child.once("error", (error) => {
        clearTimeout(timer);
        reject(new ProcessStartError(`cannot start ${o.name}: ${error.message}`));
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new ProcessStartError(`${o.name} exited (${code ?? signal}) before it was ready${this.#context()}`),
        );
      });
    });
    // Callers that stop before awaiting `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Whether `stop` was asked for: an exit after it is expected. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The last lines the process printed. */
  tail(chars = 3000): string {
    return this.#tail.slice(-chars);
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = "SIGTERM"): Promise<Exit> {
    this.#stopping = true;
    if (this.running) {
      this.#signal(signal);
      const timer = setTimeout(() => this.#signal("SIGKILL"), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      if (this.#group && this.child.pid !== undefined) process.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    } catch {
      // Gone already.
    }
  }

  #keep(chunk: Buffer): void {
    this.#log.write(chunk);
    this.#tail = (this.#tail + chunk.toString()).slice(-20_000);
  }

  #context(): string {
    const tail = this.tail(2000).trim();
    return `; its log is ${this.logFile}${tail === "" ? "" : `, ending:\n${tail}`}`;
  }
}

/** A ready matcher for the JSON line GridMesh services print once they listen: `{"msg": "… listening", "url": …}`. */
export function listeningUrl(line: string): string | undefined {
  const json = jsonLine(line);
  return typeof json?.url === "string" && typeof json.msg === "string" && /listening/.test(json.msg)
    ? json.url
    : undefined;
}

/** The line as a JSON object, or undefined if it is not one. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
