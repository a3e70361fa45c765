#!/usr/bin/env node
// Entry point of the README commands: makes sure a suitable Node.js and the locked dependencies
// are in place, then runs the given command with that Node first on PATH.
//
//   node scripts/bootstrap.mjs <command> [args...]
//
// Deliberately dependency-free plain JavaScript: it runs under whatever Node the machine has
// (Node 20 on our build machines) before anything is installed.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Hardhat 3 needs >= 22.13 and @hyperledger/fabric-gateway >= 22.12.
const MIN_NODE = [22, 13, 0];

function log(msg) {
  process.stderr.write(`[bootstrap] ${msg}\n`);
}

function fail(msg) {
  log(`error: ${msg}`);
  process.exit(1);
}

function parseVersion(v) {
  return v.replace(/^v/, "").split(".").map(Number);
}

function atLeast(v, min) {
  for (let i = 0; i < 3; i++) {
    if (v[i] !== min[i]) return v[i] > min[i];
  }
  return true;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.error) fail(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
}

function cacheDir() {
  const base =
    process.env.GRIDMESH_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "gridmesh");
  mkdirSync(base, { recursive: true });
  return base;
}

/** Returns { bin, nodedir } for the Node to use; nodedir is set only for a downloaded Node. */
function ensureNode() {
  if (atLeast(parseVersion(process.versions.node), MIN_NODE)) {
    return { bin: dirname(process.execPath), nodedir: undefined };
  }
  const pinned = readFileSync(join(root, ".node-version"), "utf8").trim();
  if (!atLeast(parseVersion(pinned), MIN_NODE))
    fail(`.node-version ${pinned} is older than ${MIN_NODE.join(".")}`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const home = join(cacheDir(), "node", `${pkg}-${pinned}`);
  const pkgDir = join(home, "node_modules", pkg);
  const nodeBin = join(pkgDir, "bin", "node");
  if (!existsSync(nodeBin)) {
    log(`Node ${process.versions.node} is too old; installing Node ${pinned} (${pkg}) into ${home}`);
    // Install beside the final place and rename, so an interrupted download never looks complete.
    const staging = `${home}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    run("npm", [
      "install",
      "--prefix",
      staging,
      "--no-save",
      "--no-package-lock",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      `${pkg}@${pinned}`,
    ]);
    rmSync(home, { recursive: true, force: true });
    renameSync(staging, home);
  }
  const probe = spawnSync(nodeBin, ["--version"], { encoding: "utf8" });
  if (probe.status !== 0 || probe.stdout.trim() !== `v${pinned}`) {
    fail(`${nodeBin} does not run (${probe.stderr || probe.error?.message}); delete ${home} and retry`);
  }
  return { bin: dirname(nodeBin), nodedir: pkgDir };
}

/**
 * Debian packages the project's tests and local system use, by the command they provide.
 * Installed with apt-get when missing (our machines run as root); elsewhere we say what to install.
 */
const SYSTEM_PACKAGES = {
  socat: "socat", // pseudo-terminal pairs for the serial devices' simulators
  // The gateway's store tests start a private PostgreSQL server. The server binaries live off PATH
  // (/usr/lib/postgresql/<version>/bin) and psql comes with the client alone, so the key is a
  // command that only the server packages bring.
  pg_ctlcluster: "postgresql",
  // Headless Chromium for the web app's end-to-end tests (driven by playwright-core).
  chromium: "chromium",
};

function commandExists(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function ensureSystemPackages() {
  const missing = Object.entries(SYSTEM_PACKAGES).filter(([cmd]) => !commandExists(cmd));
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg);
  const canApt = process.platform === "linux" && process.getuid?.() === 0 && commandExists("apt-get");
  if (!canApt)
    fail(`missing system packages: ${packages.join(", ")}; install them with your package manager`);
  log(`installing Debian packages: ${packages.join(", ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env,
    });
  // A fresh machine's package lists may be empty or stale: update once and retry.
  if (install().status !== 0) {
    run("apt-get", ["update"], { env });
    run("apt-get", ["install", "-y", "--no-install-recommends", ...packages], { env });
  }
}

/** Runs `npm ci` when the lock file or the Node version changed since the last install. */
function ensureDependencies(env) {
  // For tests that run the README commands from inside a test run: reinstalling there would
  // pull node_modules out from under the running suite.
  if (process.env.GRIDMESH_SKIP_INSTALL === "1") {
    if (!existsSync(join(root, "node_modules"))) fail("GRIDMESH_SKIP_INSTALL=1 but node_modules is missing");
    return;
  }
  const lock = join(root, "package-lock.json");
  if (!existsSync(lock))
    fail("package-lock.json is missing; run `npm install` once and commit the lock file");
  const node = spawnSync("node", ["--version"], { env, encoding: "utf8" }).stdout.trim();
  const want = createHash("sha256").update(readFileSync(lock)).update(node).digest("hex");
  const stamp = join(root, "node_modules", ".gridmesh-install-stamp");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === want) return;
  log(`installing dependencies from package-lock.json with Node ${node}`);
  run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, env });
  writeFileSync(stamp, `${want}\n`);
}

function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) fail("usage: node scripts/bootstrap.mjs <command> [args...]");
  const { bin, nodedir } = ensureNode();
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
  // Native addons built from source must use the headers of the Node that will load them.
  if (nodedir) env.npm_config_nodedir = nodedir;
  ensureSystemPackages();
  ensureDependencies(env);

  const child = spawn(cmd, args, { stdio: "inherit", env, cwd: root });
  // Pass stop signals on so that Ctrl-C or a supervisor's SIGTERM reaches the real work, then
  // exit with the child's status once it has cleaned up.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => child.kill(sig));
  }
  child.on("error", (err) => fail(`${cmd}: ${err.message}`));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal so our parent sees what really happened.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

main();
