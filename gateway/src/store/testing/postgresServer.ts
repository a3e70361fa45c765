import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";

import { Client } from "pg";

import { createLogger } from "../../common/logger.js";
import { createDatabase } from "../createDatabase.js";
import type { Database } from "../database.js";

const run = promisify(execFile);

/** A throw-away PostgreSQL server for tests, from the machine's Debian `postgresql` package. */
export interface PostgresServer {
  readonly port: number;
  /** Creates an empty database and returns its connection URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes its files; safe to call more than once. */
  stop(): Promise<void>;
}

const DEBIAN_ROOT = "/usr/lib/postgresql";

/**
 * Starts a private server: a fresh cluster in a temporary directory, listening on 127.0.0.1 at a
 * free port and on a socket in that directory, with durability off since its data is thrown away.
 * PostgreSQL refuses to run as root, so as root the cluster is owned and run by the `postgres`
 * user the Debian package creates (spawned with its uid, no sudo or runuser needed).
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findServerBinaries();
  const user = process.getuid?.() === 0 ? systemUser("postgres") : undefined;
  const dir = mkdtempSync(join(tmpdir(), "gridmesh-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, "data");
  const asServerUser = { cwd: dir, ...(user ?? {}), env: serverEnv() };

  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  // Last resort if the test process ends without calling stop (an uncaught error): never leave
  // a server running. SIGQUIT is PostgreSQL's immediate shutdown.
  const onExit = () => {
    server?.kill("SIGQUIT");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        if (server && server.exitCode === null && server.signalCode === null) {
          await run(
            join(bin, "pg_ctl"),
            ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "10"],
            asServerUser,
          ).catch(() => server?.kill("SIGKILL"));
          await withTimeout(exited, 10_000).catch(() => server?.kill("SIGKILL"));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
        process.removeListener("exit", onExit);
      }
    })());

  try {
    await run(
      join(bin, "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
      ],
      asServerUser,
    );
    const port = await freePort();
    const log: string[] = [];
    server = spawn(
      join(bin, "postgres"),
      [
        ...["-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", dir],
        ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        ...["-c", "max_connections=60"],
      ],
      { ...asServerUser, stdio: ["ignore", "ignore", "pipe"] },
    );
    const child = server;
    exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      log.push(chunk);
      if (log.length > 50) log.shift();
    });
    await waitUntilReady(port, child, log);

    return {
      port,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
        await withAdmin(port, (client) => client.query(`CREATE DATABASE ${name}`));
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The newest server version installed, e.g. /usr/lib/postgresql/15/bin. */
function findServerBinaries(): string {
  const versions = existsSync(DEBIAN_ROOT)
    ? readdirSync(DEBIAN_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_ROOT, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      `no PostgreSQL server under ${DEBIAN_ROOT}/*/bin; install the Debian package postgresql ` +
        "(scripts/bootstrap.mjs does)",
    );
  }
  return join(DEBIAN_ROOT, versions[0], "bin");
}

function systemUser(name: string): { uid: number; gid: number } {
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === name);
  if (entry === undefined) {
    throw new Error(`running as root, but there is no ${name} user to run PostgreSQL as`);
  }
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** The caller's environment minus libpq settings that would point the tools elsewhere. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: "C" };
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("PG") && key !== "LC_ALL") env[key] = value;
  }
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilReady(port: number, child: ChildProcess, log: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during start:\n${log.join("")}`);
    }
    try {
      await withAdmin(port, (client) => client.query("SELECT 1"));
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`postgres did not accept connections within 20 s:\n${log.join("")}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function withAdmin<T>(port: number, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
  // A connection refused while the server starts arrives as an error event as well as a rejection.
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * For a test file running a suite on PostgreSQL: one private server started before its tests and
 * stopped after them; each `openDatabase()` opens a fresh, migrated-nothing database `${prefix}_N`.
 */
export function privatePostgresDatabases(prefix: string): { openDatabase(): Promise<Database> } {
  const logger = createLogger({ level: "silent" });
  let server: PostgresServer | undefined;
  let databases = 0;
  before(async () => {
    server = await startPostgresServer();
  });
  after(() => server?.stop());
  return {
    async openDatabase() {
      if (server === undefined) throw new Error("the PostgreSQL test server has not started");
      const url = await server.createDatabase(`${prefix}_${++databases}`);
      return createDatabase({ database: { kind: "postgres", url }, logger });
    },
  };
}
