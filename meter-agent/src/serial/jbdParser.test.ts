import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  JbdChecksumError,
  JbdGarbageError,
  JbdResponseMismatchError,
  JbdTruncatedError,
} from "./jbdErrors.js";
import {
  decodeBasicInfo,
  decodeCellVoltages,
  encodeBasicInfo,
  hasValidJbdChecksum,
  jbdChecksum,
  jbdFrames,
  type JbdBasicInfo,
} from "./jbdFrames.js";
import {
  JbdRequestParser,
  JbdResponseParser,
  type JbdResponseFrame,
  type JbdResponseParserOutput,
} from "./jbdParser.js";

const bytes = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

/** A 0x03 answer as commonly published in JBD protocol write-ups (15S, 58.88 V, 2 NTCs). */
const BASIC_INFO = bytes(
  "DD 03 00 1B 17 00 00 00 02 D0 03 E8 00 00 20 78 00 00 00 00 00 00 10 48 03 0F 02 0B 76 0B 82 FB FF 77",
);

function parseChunks(chunks: Buffer[]): JbdResponseParserOutput[] {
  const parser = new JbdResponseParser();
  const out: JbdResponseParserOutput[] = [];
  parser.on("data", (item: JbdResponseParserOutput) => out.push(item));
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  return out;
}

/** A comparable summary, so outputs of differently chunked runs can be compared. */
const summary = (items: JbdResponseParserOutput[]) =>
  items.map((item) =>
    item instanceof Error
      ? `${item.name}:${JSON.stringify(item.details)}`
      : `frame:${item.register}:${item.status}:${item.data.toString("hex")}`,
  );

describe("JBD frames", () => {
  it("builds the documented read and MOSFET requests", () => {
    assert.deepEqual(jbdFrames.readRequest(0x03), bytes("DD A5 03 00 FF FD 77"));
    assert.deepEqual(jbdFrames.readRequest(0x04), bytes("DD A5 04 00 FF FC 77"));
    // Both FETs off: mask 0x03.
    assert.deepEqual(
      jbdFrames.mosfetRequest({ charge: false, discharge: false }),
      bytes("DD 5A E1 02 00 03 FF 1A 77"),
    );
    assert.deepEqual(
      jbdFrames.mosfetRequest({ charge: true, discharge: true }),
      bytes("DD 5A E1 02 00 00 FF 1D 77"),
    );
    // An empty ok answer sums to zero: checksum 0x0000, not 0x10000.
    assert.deepEqual(jbdFrames.response(0xe1, 0), bytes("DD E1 00 00 00 00 77"));
    assert.equal(jbdChecksum(Uint8Array.of()), 0);
  });

  it("validates a published basic-info answer and decodes its fields", () => {
    assert.ok(hasValidJbdChecksum(BASIC_INFO));
    const [frame] = parseChunks([BASIC_INFO]);
    assert.ok(frame && !(frame instanceof Error));
    const info = decodeBasicInfo(frame.data);
    assert.equal(info.voltageV, 58.88);
    assert.equal(info.currentA, 0);
    assert.equal(info.remainingAh, 7.2);
    assert.equal(info.nominalAh, 10);
    assert.equal(info.cycles, 0);
    assert.deepEqual(info.productionDate, { year: 2016, month: 3, day: 24 });
    assert.equal(info.softwareVersion, 0x10);
    assert.equal(info.stateOfChargePercent, 72);
    assert.deepEqual(info.mosfets, { charge: true, discharge: true });
    assert.equal(info.cellCount, 15);
    assert.deepEqual(info.temperaturesC, [20.3, 21.5]);
  });

  it("flips JBD's current sign (positive = charging) to the BAL's (positive = discharging)", () => {
    const data = Buffer.from(decodeFixture());
    data.writeInt16BE(150, 2); // +1.50 A: charging in JBD's sign
    assert.equal(decodeBasicInfo(data).currentA, -1.5);
    data.writeInt16BE(-1234, 2);
    assert.equal(decodeBasicInfo(data).currentA, 12.34);
  });

  it("round-trips encode and decode, and refuses short data", () => {
    const info: JbdBasicInfo = {
      voltageV: 13.29,
      currentA: -4.56,
      remainingAh: 12.34,
      nominalAh: 20,
      cycles: 7,
      productionDate: { year: 2024, month: 12, day: 31 },
      balanceStatus: 0x10003,
      protectionStatus: 0x0004,
      softwareVersion: 0x21,
      stateOfChargePercent: 62,
      mosfets: { charge: false, discharge: true },
      cellCount: 4,
      temperaturesC: [-5.5, 40],
    };
    assert.deepEqual(decodeBasicInfo(encodeBasicInfo(info)), info);
    assert.throws(() => decodeBasicInfo(Buffer.alloc(22)), JbdResponseMismatchError);
    const lying = encodeBasicInfo(info);
    lying[22] = 3; // announces a third NTC it does not carry
    assert.throws(() => decodeBasicInfo(lying), JbdResponseMismatchError);
    assert.deepEqual(decodeCellVoltages(bytes("0D 05 0C FF")), [3333, 3327]);
    assert.throws(() => decodeCellVoltages(bytes("0D 05 0C")), JbdResponseMismatchError);
  });
});

function decodeFixture(): Buffer {
  return BASIC_INFO.subarray(4, BASIC_INFO.length - 3);
}

describe("JbdResponseParser", () => {
  const cells = jbdFrames.response(0x04, 0, bytes("0D 05 0C FF 0D 01 0D 02"));
  const badChecksum = Buffer.from(cells);
  badChecksum[badChecksum.length - 2]! ^= 0x01;
  const noise = bytes("00 FF 13 77");
  const stream = Buffer.concat([noise, BASIC_INFO, badChecksum, cells, bytes("DD 03 00")]);

  it("emits frames, a garbage error, a checksum error and a truncated tail, in order", () => {
    const out = parseChunks([stream]);
    assert.equal(out.length, 5);
    assert.ok(out[0] instanceof JbdGarbageError);
    assert.equal(Buffer.from(out[0].bytes).toString("hex"), "00ff1377");
    assert.ok(!(out[1] instanceof Error) && out[1]!.register === 0x03);
    assert.ok(out[2] instanceof JbdChecksumError);
    assert.ok(!(out[3] instanceof Error) && out[3]!.register === 0x04);
    assert.ok(out[4] instanceof JbdTruncatedError);
  });

  it("gives the same output however the stream is split, including mid-frame", () => {
    const whole = summary(parseChunks([stream]));
    for (let a = 1; a < stream.length; a++) {
      assert.deepEqual(
        summary(parseChunks([stream.subarray(0, a), stream.subarray(a)])),
        whole,
        `split at ${a}`,
      );
    }
    const bytewise = [...stream].map((b) => Buffer.of(b));
    assert.deepEqual(summary(parseChunks(bytewise)), whole);
  });

  it("resynchronises past a false start: 0xDD in noise, a wrong end byte", () => {
    const falseStart = bytes("DD 03 00 05 01 02"); // claims 5 data bytes, then the real frame begins
    const out = parseChunks([Buffer.concat([falseStart, cells])]);
    const frames = out.filter((item): item is JbdResponseFrame => !(item instanceof Error));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.register, 0x04);
    assert.ok(out.every((item) => !(item instanceof Error) || item instanceof JbdGarbageError));
    const wrongEnd = Buffer.from(cells);
    wrongEnd[wrongEnd.length - 1] = 0x78;
    const out2 = parseChunks([wrongEnd, cells]);
    assert.equal(out2.filter((item) => !(item instanceof Error)).length, 1);
    assert.ok(out2[0] instanceof JbdGarbageError);
  });

  it("finds an intact frame hidden inside a failed candidate", () => {
    // A header whose length swallows the real answer; its checksum fails, the answer is still found.
    const fake = Buffer.concat([bytes("DD 99 00"), Buffer.of(cells.length), cells, bytes("00 00 77")]);
    const out = parseChunks([fake]);
    assert.ok(out[0] instanceof JbdChecksumError);
    assert.ok(out.some((item) => !(item instanceof Error) && item.register === 0x04));
  });

  it("reset() discards a stale half frame", () => {
    const parser = new JbdResponseParser();
    const out: JbdResponseParserOutput[] = [];
    parser.on("data", (item: JbdResponseParserOutput) => out.push(item));
    parser.write(cells.subarray(0, 5));
    assert.equal(parser.buffered, 5);
    parser.reset();
    parser.write(cells);
    parser.end();
    assert.equal(out.length, 1);
    assert.ok(!(out[0] instanceof Error));
  });
});

describe("JbdRequestParser", () => {
  it("parses reads and writes, skipping responses and noise", () => {
    const parser = new JbdRequestParser();
    const out: unknown[] = [];
    parser.on("data", (item) => out.push(item));
    const stream = Buffer.concat([
      jbdFrames.readRequest(0x03),
      bytes("12 34"),
      jbdFrames.mosfetRequest({ charge: false, discharge: true }),
    ]);
    for (const b of stream) parser.write(Buffer.of(b));
    parser.end();
    assert.equal(out.length, 3);
    assert.deepEqual(out[0], { mode: "read", register: 3, data: Buffer.alloc(0) });
    assert.ok(out[1] instanceof JbdGarbageError);
    assert.deepEqual(out[2], { mode: "write", register: 0xe1, data: bytes("00 01") });
  });
});
