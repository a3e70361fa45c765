import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ModbusCrcError,
  ModbusExceptionError,
  ModbusGarbageError,
  ModbusUnexpectedFunctionError,
  SerialError,
} from "./errors.js";
import { withModbusCrc } from "./modbusCrc.js";
import { modbusFrames } from "./modbusFrames.js";
import { ModbusRtuParser, type ModbusRegistersFrame, type ModbusRtuParserOutput } from "./modbusRtuParser.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** SDM120 manual example: slave 1 answers the voltage register with 230.2 V. */
const VOLTAGE = hex("01 04 04 43 66 33 34 1B 38");
const ENERGY = modbusFrames.readInputRegistersResponse(7, hex("44 9a 52 2b 41 20 00 00"));
const EXCEPTION = modbusFrames.exceptionResponse(1, 0x04, 0x02);

/** Feeds the chunks, ends the stream, returns everything it emitted. */
async function parse(chunks: Buffer[], parser = new ModbusRtuParser()): Promise<ModbusRtuParserOutput[]> {
  const out: ModbusRtuParserOutput[] = [];
  parser.on("data", (item: ModbusRtuParserOutput) => out.push(item));
  const ended = new Promise((resolve) => parser.once("end", resolve));
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  await ended;
  return out;
}

/** A comparable picture of the output. */
const describeOutput = (items: ModbusRtuParserOutput[]) =>
  items.map((item) =>
    item instanceof SerialError
      ? { error: item.name, details: item.details }
      : { slave: item.slave, data: item.data.toString("hex") },
  );

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, buf.length]) {
    chunks.push(buf.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

describe("ModbusRtuParser", () => {
  it("emits a complete 0x04 response as a frame", async () => {
    const [frame, ...rest] = await parse([VOLTAGE]);
    assert.deepEqual(rest, []);
    assert.ok(frame && !(frame instanceof SerialError));
    assert.equal(frame.slave, 1);
    assert.equal(frame.functionCode, 0x04);
    assert.ok(Math.abs(frame.data.readFloatBE(0) - 230.2) < 1e-4);
  });

  it("gives the same output however the bytes are chunked, down to one byte at a time", async () => {
    const stream = Buffer.concat([VOLTAGE, ENERGY, EXCEPTION]);
    const whole = describeOutput(await parse([stream]));
    assert.equal(whole.length, 3);
    for (let cut = 1; cut < stream.length; cut++) {
      assert.deepEqual(describeOutput(await parse(splitAt(stream, [cut]))), whole, `split at ${cut}`);
    }
    const bytes = [...stream].map((b) => Buffer.of(b));
    assert.deepEqual(describeOutput(await parse(bytes)), whole);
  });

  it("emits several frames that arrive in one chunk, in order", async () => {
    const out = describeOutput(await parse([Buffer.concat([VOLTAGE, ENERGY, VOLTAGE])]));
    assert.deepEqual(out, [
      { slave: 1, data: "43663334" },
      { slave: 7, data: "449a522b41200000" },
      { slave: 1, data: "43663334" },
    ]);
  });

  it("waits for the rest of a truncated frame and keeps it across chunks", async () => {
    const parser = new ModbusRtuParser();
    const out: ModbusRtuParserOutput[] = [];
    parser.on("data", (item: ModbusRtuParserOutput) => out.push(item));
    parser.write(VOLTAGE.subarray(0, 5));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(out, []);
    parser.write(VOLTAGE.subarray(5));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(describeOutput(out), [{ slave: 1, data: "43663334" }]);
  });

  it("skips garbage before a frame and reports it once", async () => {
    const noise = hex("ff 00 13 37 fe f8");
    const out = await parse([Buffer.concat([noise, VOLTAGE])]);
    assert.equal(out.length, 2);
    assert.ok(out[0] instanceof ModbusGarbageError);
    assert.deepEqual(Buffer.from(out[0].bytes), noise);
    assert.deepEqual(describeOutput(out.slice(1)), [{ slave: 1, data: "43663334" }]);
  });

  it("skips an echoed request and still finds the answer behind it", async () => {
    const request = modbusFrames.readInputRegistersRequest(1, 0x0000, 2);
    const out = await parse([request, VOLTAGE]);
    assert.ok(out[0] instanceof ModbusGarbageError);
    // The echo's last byte (0xCB) and the answer's first bytes look like a read-coils header whose
    // CRC fails: reported, but the intact frame behind it is still emitted.
    assert.deepEqual(
      out.slice(1).map((item) => (item instanceof SerialError ? item.name : item.data.toString("hex"))),
      ["ModbusCrcError", "43663334"],
    );
  });

  it("turns a corrupted CRC into a ModbusCrcError, never a value, and resynchronises", async () => {
    const corrupt = Buffer.from(VOLTAGE);
    corrupt[4]! ^= 0x01;
    const out = await parse([Buffer.concat([corrupt, ENERGY])]);
    assert.equal(out.length, 2, "the rest of the failed frame is not reported again as garbage");
    assert.ok(out[0] instanceof ModbusCrcError);
    assert.equal(out[0].retryable, true);
    assert.deepEqual(Buffer.from(out[0].frame), corrupt);
    assert.deepEqual(describeOutput(out.slice(1)), [{ slave: 7, data: "449a522b41200000" }]);
  });

  it("finds a real frame that starts inside a false header's span", async () => {
    // 01 04 02 looks like a 7-byte response whose CRC then fails; the real frame starts at byte 3.
    const out = await parse([Buffer.concat([hex("01 04 02"), VOLTAGE])]);
    assert.ok(out[0] instanceof ModbusCrcError);
    assert.deepEqual(describeOutput(out.slice(1)), [{ slave: 1, data: "43663334" }]);
  });

  it("turns exception responses into ModbusExceptionError", async () => {
    const [error, ...rest] = await parse([EXCEPTION]);
    assert.deepEqual(rest, []);
    assert.ok(error instanceof ModbusExceptionError);
    assert.equal(error.slave, 1);
    assert.equal(error.functionCode, 0x04);
    assert.equal(error.exceptionCode, 0x02);
    assert.equal(error.retryable, false);
    assert.match(error.message, /illegal data address/);
    const busy = (await parse([modbusFrames.exceptionResponse(1, 0x04, 0x06)]))[0];
    assert.ok(busy instanceof ModbusExceptionError && busy.retryable);
  });

  it("turns intact responses to other functions into ModbusUnexpectedFunctionError", async () => {
    const holding = Buffer.from(withModbusCrc(hex("01 03 04 43 66 33 34")));
    const writeSingle = Buffer.from(withModbusCrc(hex("01 06 00 14 3f 80")));
    const out = await parse([Buffer.concat([holding, writeSingle, VOLTAGE])]);
    assert.ok(out[0] instanceof ModbusUnexpectedFunctionError);
    assert.equal(out[0].functionCode, 0x03);
    assert.ok(out[1] instanceof ModbusUnexpectedFunctionError);
    assert.equal(out[1].functionCode, 0x06);
    assert.deepEqual(describeOutput(out.slice(2)), [{ slave: 1, data: "43663334" }]);
  });

  it("reports a truncated frame left at the end of the stream as garbage", async () => {
    const out = await parse([VOLTAGE.subarray(0, 6)]);
    assert.equal(out.length, 1);
    assert.ok(out[0] instanceof ModbusGarbageError);
    assert.equal(out[0].bytes.length, 6);
  });

  it("reset() drops a half frame so the next frame is read cleanly", async () => {
    const parser = new ModbusRtuParser();
    parser.write(VOLTAGE.subarray(0, 4));
    parser.reset();
    assert.deepEqual(describeOutput(await parse([ENERGY], parser)), [{ slave: 7, data: "449a522b41200000" }]);
  });

  it("yields every intact frame from noisy random streams, whatever the chunking", async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (let round = 0; round < 50; round++) {
      const parts: Buffer[] = [];
      const frames: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        // Noise from bytes that cannot start a frame, so every frame must be found.
        const noise = Buffer.from(Array.from({ length: Math.floor(random() * 4) }, () => 248 + (i % 8)));
        const data = Buffer.from(Array.from({ length: 4 }, () => Math.floor(random() * 256)));
        const frame = modbusFrames.readInputRegistersResponse(1 + Math.floor(random() * 247), data);
        parts.push(noise, frame);
        frames.push(frame);
      }
      const stream = Buffer.concat(parts);
      const cuts = [...new Set(Array.from({ length: 4 }, () => Math.floor(random() * stream.length)))];
      const chunked = await parse(
        splitAt(
          stream,
          cuts.sort((a, b) => a - b),
        ),
      );
      assert.deepEqual(describeOutput(chunked), describeOutput(await parse([stream])));
      const found = chunked.filter((item): item is ModbusRegistersFrame => !(item instanceof SerialError));
      assert.deepEqual(
        found.map((f) => f.data.toString("hex")),
        frames.map((f) => f.subarray(3, 7).toString("hex")),
      );
    }
  });
});
