/**
 * Long-running network processes (orderer, peers, chaincode server): started detached in their own
 * process group, output appended to one log file each, pid recorded in a file so that `down` works
 * from any shell, and stopped with SIGTERM, then SIGKILL if they linger.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessSpec {
  /** e.g. `orderer`, `peer-verifier1`, `chaincode-secureid`: names the pid and log files. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Loopback ports it listens on: checked to be free before it starts. */
  ports: number[];
  runDir: string;
  logDir: string;
}

interface PidRecord {
  pid: number;
  command: string;
  startedAt: string;
}

export function pidFileOf(runDir: string, name: string): string {
  return path.join(runDir, `${name}.pid`);
}

export function logFileOf(logDir: string, name: string): string {
  return path.join(logDir, `${name}.log`);
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Guards against pid reuse after a reboot or a crash: on Linux the live process must still be
 * running the recorded command; elsewhere liveness alone has to do.
 */
function isOurs(record: PidRecord): boolean {
  if (!isAlive(record.pid)) return false;
  const cmdline = `/proc/${record.pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return readFileSync(cmdline, "utf8").split("\0").includes(record.command);
  } catch {
    return false;
  }
}

async function readPidRecord(pidFile: string): Promise<PidRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(pidFile, "utf8")) as PidRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the named process if it is running, else undefined (a stale pid file is removed). */
export async function runningPid(runDir: string, name: string): Promise<number | undefined> {
  const pidFile = pidFileOf(runDir, name);
  const record = await readPidRecord(pidFile);
  if (!record) return undefined;
  if (isOurs(record)) return record.pid;
  await rm(pidFile, { force: true });
  return undefined;
}

/** Starts the process unless it already runs; returns its pid and whether it was started now. */
export async function startProcess(spec: ProcessSpec): Promise<{ pid: number; started: boolean }> {
  const existing = await runningPid(spec.runDir, spec.name);
  if (existing !== undefined) return { pid: existing, started: false };

  for (const port of spec.ports) {
    if (!(await portFree(port))) {
      throw new Error(
        `cannot start ${spec.name}: 127.0.0.1:${port} is in use by another program ` +
          "(another network on this port base? see GRIDMESH_FABRIC_PORT_BASE)",
      );
    }
  }
  await mkdir(spec.runDir, { recursive: true });
  await mkdir(spec.logDir, { recursive: true });
  const logFile = logFileOf(spec.logDir, spec.name);
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // Own process group: survives the CLI that started it and is signalled as a whole by `down`.
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", (err) =>
        reject(new Error(`cannot start ${spec.name} (${spec.command}): ${err.message}`)),
      );
      child.once("spawn", () => resolve(child.pid!));
    });
    child.unref();
    const record: PidRecord = { pid, command: spec.command, startedAt: new Date().toISOString() };
    await writeFile(pidFileOf(spec.runDir, spec.name), `${JSON.stringify(record)}\n`);
    return { pid, started: true };
  } finally {
    closeSync(fd);
  }
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

/** Stops the named process if it runs; true if it was running. Escalates to SIGKILL after timeoutMs. */
export async function stopProcess(runDir: string, name: string, timeoutMs = 10_000): Promise<boolean> {
  const pid = await runningPid(runDir, name);
  if (pid === undefined) return false;
  signalGroup(pid, "SIGTERM");
  if (!(await waitForExit(pid, timeoutMs))) {
    signalGroup(pid, "SIGKILL");
    if (!(await waitForExit(pid, 5_000))) throw new Error(`${name} (pid ${pid}) survived SIGKILL`);
  }
  await rm(pidFileOf(runDir, name), { force: true });
  return true;
}

/** The last lines of a log file, for error messages. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    return (await readFile(logFile, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
