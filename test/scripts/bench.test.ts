import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Benchmarks are not run by the test suite; this only keeps the script working as the contracts
// change (it measures nothing and asserts no timing).
describe("npm run bench:gas (scripts/bench/gas.ts)", function () {
  this.timeout(120_000);

  it("runs one small interval cycle end to end and prints its table", async function () {
    const child = spawn(
      process.execPath,
      ["node_modules/hardhat/dist/src/cli.js", "run", "--no-compile", "scripts/bench/gas.ts"],
      {
        cwd: root,
        env: { ...process.env, GRIDMESH_BENCH_FILLS: "10" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, output).to.equal(0);
    expect(output).to.match(/\| 10 \| 10 \/ 10 \| first \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \|/);
    expect(output).to.match(/\| 10 \| 10 \/ 10 \| steady \|/);
  });
});
