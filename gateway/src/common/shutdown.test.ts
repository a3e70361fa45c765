import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createShutdown } from "./shutdown.js";

describe("createShutdown", () => {
  it("stops resources newest first, each once, however often it is asked", async () => {
    const stopped: string[] = [];
    const shutdown = createShutdown();
    shutdown.add("database", () => void stopped.push("database"));
    shutdown.add("http", async () => {
      await new Promise((r) => setTimeout(r, 5));
      stopped.push("http");
    });

    const [a, b] = await Promise.all([shutdown.run("SIGINT"), shutdown.run("SIGTERM")]);
    assert.deepEqual(stopped, ["http", "database"]);
    assert.equal(a, b);
    assert.equal(a.reason, "SIGINT");
    assert.equal(shutdown.isShuttingDown, true);
  });

  it("keeps going past a failing or stuck stop and reports it", async () => {
    const stopped: string[] = [];
    const errors: string[] = [];
    const shutdown = createShutdown({ timeoutMs: 20, onError: (name) => errors.push(name) });
    shutdown.add("first", () => void stopped.push("first"));
    shutdown.add("stuck", () => new Promise<void>(() => {}));
    shutdown.add("broken", () => {
      throw new Error("boom");
    });

    const report = await shutdown.run("test");
    assert.deepEqual(stopped, ["first"]);
    assert.deepEqual(
      report.failures.map((f) => f.name),
      ["broken", "stuck"],
    );
    assert.match(String(report.failures[1]?.error), /stuck did not stop within 20 ms/);
    assert.deepEqual(errors, ["broken", "stuck"]);
  });

  it("refuses registrations once shutdown has started", async () => {
    const shutdown = createShutdown();
    await shutdown.run("done");
    assert.throws(() => shutdown.add("late", () => {}), /shutdown already started/);
  });
});
