import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import { createLogger } from "./logger.js";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("writes one JSON object per record with the message and its context", () => {
    const out = capture();
    const log = createLogger({ level: "info", destination: out.stream });
    log.info({ interval: 42, orders: 3 }, "interval cleared");
    log.debug("not at info level");

    const [record, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(record?.msg, "interval cleared");
    assert.equal(record?.interval, 42);
    assert.equal(record?.service, "gateway");
    assert.match(String(record?.time), /^\d{4}-\d\d-\d\dT/);
  });

  it("censors keys, passwords and connection strings wherever they appear", () => {
    const out = capture();
    const log = createLogger({ level: "info", destination: out.stream });
    log.info(
      {
        privateKey: "0xdeadbeef",
        signer: { privateKey: "0xfeed" },
        database: { url: "postgres://grid:hunter2@db/grid" },
        request: { headers: { authorization: "Bearer abc" } },
      },
      "started",
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ["0xdeadbeef", "0xfeed", "hunter2", "Bearer abc"]) {
      assert.ok(!text.includes(secret), `${secret} leaked into the log`);
    }
    assert.ok(text.includes("[redacted]"));
  });
});
