import {
  ModbusCrcError,
  ModbusExceptionError,
  ModbusGarbageError,
  ModbusUnexpectedFunctionError,
  modbusExceptionCodes,
} from "./errors.js";
import { FramedParser, type FrameCandidate } from "./framedParser.js";
import { hasValidModbusCrc } from "./modbusCrc.js";
import { READ_INPUT_REGISTERS } from "./modbusFrames.js";

/** An intact response to "read input registers": the register bytes, big-endian as sent. */
export interface ModbusRegistersFrame {
  readonly slave: number;
  readonly functionCode: typeof READ_INPUT_REGISTERS;
  readonly data: Buffer;
}

/** What the parser emits: an intact 0x04 response, or a typed error in its place — never a value. */
export type ModbusRtuParserOutput =
  | ModbusRegistersFrame
  | ModbusCrcError
  | ModbusExceptionError
  | ModbusUnexpectedFunctionError
  | ModbusGarbageError;

/** Slave addresses a response can carry: 0 is broadcast, which is never answered; 248-255 reserved. */
const isSlaveAddress = (b: number) => b >= 1 && b <= 247;
/** Byte-count-framed functions (read coils, discrete inputs, holding and input registers). */
const BYTE_COUNT_FUNCTIONS = new Set([0x01, 0x02, 0x03, 0x04]);
/** Functions whose response is always 8 bytes (write single/multiple coils and registers). */
const FIXED_8_FUNCTIONS = new Set([0x05, 0x06, 0x0f, 0x10]);
const KNOWN_FUNCTIONS = new Set([...BYTE_COUNT_FUNCTIONS, ...FIXED_8_FUNCTIONS]);

const NEED: FrameCandidate = { kind: "need" };
const GARBAGE: FrameCandidate = { kind: "garbage" };

/**
 * Length of the response frame that would start at `pos`, read from its header alone.
 * Only headers of responses we can frame count; anything else is one byte of garbage. Decisions use
 * the bytes, never how they were chunked, so splitting a stream anywhere gives the same output.
 */
function candidateAt(buf: Buffer, pos: number): FrameCandidate {
  const avail = buf.length - pos;
  if (avail < 1) return NEED;
  if (!isSlaveAddress(buf[pos]!)) return GARBAGE;
  if (avail < 2) return NEED;
  const fn = buf[pos + 1]!;
  if (fn & 0x80) {
    if (!KNOWN_FUNCTIONS.has(fn & 0x7f)) return GARBAGE;
    if (avail < 3) return NEED;
    return modbusExceptionCodes.has(buf[pos + 2]!) ? { kind: "frame", length: 5 } : GARBAGE;
  }
  if (FIXED_8_FUNCTIONS.has(fn)) return { kind: "frame", length: 8 };
  if (!BYTE_COUNT_FUNCTIONS.has(fn)) return GARBAGE;
  if (avail < 3) return NEED;
  const byteCount = buf[pos + 2]!;
  // At most 125 registers or 2,000 coils fit a response; register data comes in whole registers.
  const registers = fn === 0x03 || fn === 0x04;
  if (byteCount === 0 || byteCount > 250 || (registers && byteCount % 2 !== 0)) return GARBAGE;
  return { kind: "frame", length: 3 + byteCount + 2 };
}

function decode(frame: Buffer): ModbusRtuParserOutput {
  const slave = frame[0]!;
  const fn = frame[1]!;
  if (fn & 0x80) return new ModbusExceptionError(slave, fn & 0x7f, frame[2]!);
  if (fn !== READ_INPUT_REGISTERS)
    return new ModbusUnexpectedFunctionError(slave, fn, Uint8Array.from(frame));
  return {
    slave,
    functionCode: READ_INPUT_REGISTERS,
    data: frame.subarray(3, frame.length - 2),
  };
}

/**
 * Modbus RTU response framing (see FramedParser): RTU marks frame ends by 3.5 characters of silence,
 * which a pseudo-terminal or a USB adapter does not preserve, so the CRC decides. Without timing,
 * noise can look like a header, so a `ModbusCrcError` means "a plausible frame failed its check":
 * an intact frame right after it may still be the answer. Skipped bytes are a `ModbusGarbageError`.
 */
export class ModbusRtuParser extends FramedParser<ModbusRtuParserOutput> {
  protected candidateAt(buf: Buffer, pos: number): FrameCandidate {
    return candidateAt(buf, pos);
  }
  protected isIntact(frame: Buffer): boolean {
    return hasValidModbusCrc(frame);
  }
  protected decode(frame: Buffer): ModbusRtuParserOutput {
    return decode(frame);
  }
  protected checkError(frame: Uint8Array): ModbusRtuParserOutput {
    return new ModbusCrcError(frame);
  }
  protected garbageError(bytes: Uint8Array): ModbusRtuParserOutput {
    return new ModbusGarbageError(bytes);
  }
}
