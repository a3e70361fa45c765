import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function bootstrap(args: string[]) {
  const child = spawn(process.execPath, ["scripts/bootstrap.mjs", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GRIDMESH_SKIP_INSTALL: "1" },
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exit, output: () => output };
}

describe("scripts/bootstrap.mjs", function () {
  this.timeout(30_000);

  it("runs the command with a Node of at least 22.13 first on PATH", async function () {
    const run = bootstrap(["node", "-p", "process.versions.node"]);
    const [code] = await run.exit;
    expect(code).to.equal(0);
    const [major = 0, minor = 0] = run.output().trim().split(".").map(Number);
    expect(major > 22 || (major === 22 && minor >= 13), run.output()).to.equal(true);
  });

  it("passes the command's exit status on", async function () {
    const [code] = await bootstrap(["node", "-e", "process.exit(7)"]).exit;
    expect(code).to.equal(7);
  });

  it("forwards SIGTERM to the command and waits for it to clean up", async function () {
    const run = bootstrap([
      "node",
      "-e",
      "process.on('SIGTERM', () => { console.log('cleaned up'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000);",
    ]);
    while (!run.output().includes("ready")) await new Promise((r) => setTimeout(r, 50));
    run.child.kill("SIGTERM");
    const [code] = await run.exit;
    expect(run.output()).to.contain("cleaned up");
    expect(code).to.equal(3);
  });

  it("explains how to call it when no command is given", async function () {
    const run = bootstrap([]);
    const [code] = await run.exit;
    expect(code).to.equal(1);
    expect(run.output()).to.contain("usage: node scripts/bootstrap.mjs <command>");
  });
});
