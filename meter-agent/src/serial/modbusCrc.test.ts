import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { hasValidModbusCrc, modbusCrc, withModbusCrc } from "./modbusCrc.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("modbusCrc", () => {
  it("matches the CRC-16/MODBUS check value", () => {
    assert.equal(modbusCrc(new TextEncoder().encode("123456789")), 0x4b37);
  });

  it("frames an SDM120 read of the voltage register as the manual shows it", () => {
    // Slave 1, function 0x04, register 0x0000, 2 registers: 01 04 00 00 00 02 71 CB.
    assert.deepEqual(withModbusCrc(hex("010400000002")), hex("01 04 00 00 00 02 71 CB"));
  });

  it("accepts intact frames and rejects any corrupted byte or truncation", () => {
    const frame = hex("01 04 04 43 66 33 34 1B 38");
    assert.equal(hasValidModbusCrc(frame), true);
    for (let i = 0; i < frame.length; i++) {
      const bad = frame.slice();
      bad[i]! ^= 0x01;
      assert.equal(hasValidModbusCrc(bad), false, `flip in byte ${i} went unnoticed`);
    }
    assert.equal(hasValidModbusCrc(frame.subarray(0, frame.length - 1)), false);
    assert.equal(hasValidModbusCrc(hex("01 04")), false);
  });
});
