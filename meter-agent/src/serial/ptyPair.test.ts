import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";

import { openSerialPort } from "./openSerialPort.js";
import { openPtyPair } from "./ptyPair.js";

describe("openPtyPair", () => {
  it("joins two pseudo-terminals that real serial ports can open, and removes them on close", async () => {
    const pty = await openPtyPair();
    const [a, b] = pty.paths;
    assert.match(a, /^\/dev\/pts\/\d+$/);
    assert.match(b, /^\/dev\/pts\/\d+$/);
    assert.notEqual(a, b);
    const left = await openSerialPort(a);
    const right = await openSerialPort(b);
    try {
      const received = once(right, "data");
      left.write(Buffer.of(0x01, 0x04, 0x00, 0xff));
      const [chunk] = (await received) as [Buffer];
      assert.deepEqual([...chunk], [0x01, 0x04, 0x00, 0xff], "raw: no echo, no translation");
    } finally {
      await new Promise((resolve) => left.close(resolve));
      await new Promise((resolve) => right.close(resolve));
      await pty.close();
      await pty.close();
    }
    assert.equal(existsSync(a), false);
    assert.equal(existsSync(b), false);
  });

  it("fails clearly when socat is missing", async () => {
    await assert.rejects(openPtyPair({ socat: "/nonexistent/socat" }), /\/nonexistent\/socat not found/);
  });
});
