import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const GUARD_SCRIPT = fileURLToPath(new URL("./orphanGuard.mjs", import.meta.url));

/**
 * The parent's side of orphanGuard.mjs: a watchdog process, in a process group of its own so that a
 * Ctrl-C at the terminal does not reach it, that stops the registered children when this process
 * dies without stopping them itself.
 */
export class OrphanGuard {
  readonly #guard: ChildProcess;

  constructor(options: { graceMs?: number } = {}) {
    this.#guard = spawn(process.execPath, [GUARD_SCRIPT], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
      env: { ...process.env, GRIDMESH_GUARD_GRACE_MS: String(options.graceMs ?? 5000) },
    });
    this.#guard.unref();
    // The pipe must not keep this process alive either, nor crash it if the guard is gone.
    (this.#guard.stdin as unknown as { unref?: () => void }).unref?.();
    this.#guard.stdin?.on("error", () => undefined);
  }

  get pid(): number | undefined {
    return this.#guard.pid;
  }

  watch(child: ChildProcess, group: boolean): void {
    if (child.pid === undefined) return;
    this.#guard.stdin?.write(`+ ${child.pid} ${group ? 1 : 0}\n`);
    child.once("exit", () => this.#guard.stdin?.write(`- ${child.pid}\n`));
  }

  /** After an orderly stop: the guard exits with nothing left to do. */
  close(): void {
    this.#guard.stdin?.end();
  }
}

let current: OrphanGuard | undefined;

/** The guard ManagedProcess registers new children with; none until the local system sets one. */
export function orphanGuard(): OrphanGuard | undefined {
  return current;
}

export function setOrphanGuard(guard: OrphanGuard | undefined): void {
  current = guard;
}
