import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import { processTree, stillRunning, type ProcessInfo } from "../helpers/processTree.js";
import { waitFor } from "../helpers/serviceProcess.js";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/guardedParent.ts");

/** Starts the stand-in parent and returns it with the process trees it started. */
async function startParent(mode: "wait" | "orderly") {
  const parent = spawn(process.execPath, ["--import", "tsx", fixture, mode], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let output = "";
  parent.stdout.on("data", (c: Buffer) => (output += c.toString()));
  await waitFor("the parent to start its children", () => output.includes("\n") || undefined, 20_000);
  const { guard, children } = JSON.parse(output.split("\n")[0]!) as { guard: number; children: number[] };
  // The grouped child's own child (the real work) appears a moment after the shell.
  await waitFor(
    "the grouped child's worker",
    () => processTree(children[1]!).length >= 2 || undefined,
    5_000,
  );
  const trees: ProcessInfo[] = children.flatMap((pid) => processTree(pid));
  const guardInfo = processTree(guard).slice(0, 1);
  return { parent, trees, guardInfo, output: () => output };
}

describe("npm start's orphan guard", function () {
  this.timeout(60_000);

  it("stops every child, and a wrapper's own children, when the parent is SIGKILLed", async () => {
    const { parent, trees, guardInfo } = await startParent("wait");
    expect(stillRunning(trees)).to.have.length(3);
    parent.kill("SIGKILL");
    await once(parent, "exit");
    await waitFor("the orphans to be stopped", () => stillRunning(trees).length === 0 || undefined, 15_000);
    await waitFor("the guard to exit", () => stillRunning(guardInfo).length === 0 || undefined, 15_000);
  });

  it("lets the guard go quietly after an orderly stop", async () => {
    const { parent, trees, guardInfo, output } = await startParent("orderly");
    parent.stdin.end("stop\n");
    await once(parent, "exit");
    expect(output()).to.contain("stopped");
    expect(stillRunning(trees)).to.deep.equal([]);
    await waitFor("the guard to exit", () => stillRunning(guardInfo).length === 0 || undefined, 10_000);
  });
});
