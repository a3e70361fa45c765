import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createLogger } from "../common/logger.js";
import { TaskLoop } from "./loops.js";

const logger = createLogger({ level: "silent" });

describe("TaskLoop", () => {
  it("runs tasks in order each round; a failing task is recorded and does not stop the next", async () => {
    const loop = new TaskLoop(10, logger);
    const ran: string[] = [];
    let fail = true;
    loop.add("index", () => {
      ran.push("index");
      return fail ? Promise.reject(new Error("rpc down")) : Promise.resolve({ blocks: 3n });
    });
    loop.add("clear", () => {
      ran.push("clear");
      return Promise.resolve("ok");
    });
    await loop.runOnce();
    assert.deepEqual(ran, ["index", "clear"]);
    const [failed, clear] = loop.status();
    assert.equal(failed!.lastError, "rpc down");
    assert.equal(failed!.lastSucceededAt, null);
    assert.equal(clear!.lastResult, "ok");

    fail = false;
    await loop.runOnce();
    const [index] = loop.status();
    assert.equal(index!.lastError, null);
    assert.deepEqual(index!.lastResult, { blocks: "3" }); // bigints as decimal strings for JSON
    assert.equal(index!.runs, 2);
  });

  it("never overlaps rounds and stops after the round in progress", async () => {
    const loop = new TaskLoop(1, logger);
    let running = 0;
    let maxRunning = 0;
    let rounds = 0;
    loop.add("slow", async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      rounds++;
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 120));
    await loop.stop();
    const after = rounds;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(maxRunning, 1);
    assert.ok(after >= 2, `expected several rounds, got ${after}`);
    assert.equal(rounds, after, "no round after stop()");
    assert.equal(running, 0);
  });
});
