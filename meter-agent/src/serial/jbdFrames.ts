import { JbdResponseMismatchError } from "./jbdErrors.js";

/**
 * JBD BMS UART frames (the "JBD protocol" of the SP04S020 and its kin, 9,600 baud 8N1):
 *
 *     0xDD  b1  b2  len  data[len]  chk_hi  chk_lo  0x77
 *
 * A request has b1 = 0xA5 (read) or 0x5A (write) and b2 = the register; a response echoes the
 * register in b1 and puts its status in b2 (0x00 ok, 0x80 refused). The checksum is 0x10000 minus
 * the sum of b2, len and the data, big-endian, kept to 16 bits (so an all-zero body sums to 0x0000).
 */
export const JBD_START = 0xdd;
export const JBD_END = 0x77;
export const JBD_READ = 0xa5;
export const JBD_WRITE = 0x5a;
/** Basic info: voltage, current, capacities, cycles, protection, RSOC, FETs, cells, NTCs. */
export const JBD_BASIC_INFO = 0x03;
/** Cell voltages, 2 bytes each in mV. */
export const JBD_CELL_VOLTAGES = 0x04;
/** MOSFET control: data 00 <mask>, bit 0 set turns charging off, bit 1 set turns discharging off. */
export const JBD_MOSFET_CONTROL = 0xe1;
export const JBD_STATUS_OK = 0x00;
export const JBD_STATUS_ERROR = 0x80;
/** Bytes a frame adds around its data. */
export const JBD_OVERHEAD = 7;
/** NTC temperatures are sent in 0.1 K; 2731 is 0 °C. */
const KELVIN_OFFSET = 2731;

/** Checksum of a frame body (b2, len, data): 0x10000 − sum, to 16 bits. */
export function jbdChecksum(body: Uint8Array): number {
  let sum = 0;
  for (const b of body) sum += b;
  return (0x10000 - sum) & 0xffff;
}

/** Whether a complete frame (start to end byte) carries a matching checksum. */
export function hasValidJbdChecksum(frame: Uint8Array): boolean {
  if (frame.length < JBD_OVERHEAD) return false;
  const len = frame[3]!;
  if (frame.length !== JBD_OVERHEAD + len) return false;
  const expected = jbdChecksum(frame.subarray(2, 4 + len));
  return ((frame[4 + len]! << 8) | frame[5 + len]!) === expected;
}

function frame(b1: number, b2: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  if (data.length > 255) throw new RangeError(`JBD data too long (${data.length} bytes)`);
  const out = Buffer.alloc(JBD_OVERHEAD + data.length);
  out[0] = JBD_START;
  out[1] = b1;
  out[2] = b2;
  out[3] = data.length;
  out.set(data, 4);
  out.writeUInt16BE(jbdChecksum(out.subarray(2, 4 + data.length)), 4 + data.length);
  out[out.length - 1] = JBD_END;
  return out;
}

export const jbdFrames = {
  /** DD A5 <reg> 00 <chk> 77. */
  readRequest: (register: number) => frame(JBD_READ, register),
  /** DD 5A <reg> <len> <data> <chk> 77. */
  writeRequest: (register: number, data: Uint8Array) => frame(JBD_WRITE, register, data),
  /** DD 5A E1 02 00 <mask> <chk> 77: the FETs to switch on. */
  mosfetRequest: (fets: JbdMosfets) =>
    frame(JBD_WRITE, JBD_MOSFET_CONTROL, Uint8Array.of(0, mosfetMask(fets))),
  /** DD <reg> <status> <len> <data> <chk> 77, as the BMS answers. */
  response: (register: number, status: number, data?: Uint8Array) => frame(register, status, data),
};

/** Which MOSFETs conduct. */
export interface JbdMosfets {
  readonly charge: boolean;
  readonly discharge: boolean;
}

/** Register 0xE1's mask: a set bit turns that FET off. */
export const mosfetMask = ({ charge, discharge }: JbdMosfets) => (charge ? 0 : 1) | (discharge ? 0 : 2);
export const mosfetsFromMask = (mask: number): JbdMosfets => ({
  charge: (mask & 1) === 0,
  discharge: (mask & 2) === 0,
});

/** Register 0x03, decoded to SI units. */
export interface JbdBasicInfo {
  /** Pack voltage (V). */
  readonly voltageV: number;
  /**
   * Pack current (A), positive while DISCHARGING — the BAL's sign. JBD sends the opposite
   * (positive while charging); the decoder flips it so callers never see the device's sign.
   */
  readonly currentA: number;
  /** Remaining (residual) capacity (Ah). */
  readonly remainingAh: number;
  /** Nominal capacity (Ah), as the BMS is configured. */
  readonly nominalAh: number;
  readonly cycles: number;
  readonly productionDate: { readonly year: number; readonly month: number; readonly day: number };
  /** Balancing flags, one bit per cell (cells 1-16 low word, 17-32 high word). */
  readonly balanceStatus: number;
  /** Protection flags (overvoltage, undervoltage, overcurrent, …), as sent. */
  readonly protectionStatus: number;
  /** Firmware version byte, e.g. 0x10 for 1.0. */
  readonly softwareVersion: number;
  /** Relative state of charge the BMS computes (%). */
  readonly stateOfChargePercent: number;
  /** FET status: bit 0 charge on, bit 1 discharge on. */
  readonly mosfets: JbdMosfets;
  readonly cellCount: number;
  /** NTC temperatures (°C). */
  readonly temperaturesC: readonly number[];
}

/** 10 mV, 10 mA and 10 mAh units to SI without binary noise (e.g. 0.29 rather than 0.29000000000000004). */
const hundredths = (n: number) => {
  const v = Math.round(n) / 100;
  return v === 0 ? 0 : v; // no -0
};

/**
 * Decodes register 0x03's data. Layout (offsets in bytes, big-endian): 0 total voltage (10 mV),
 * 2 current (10 mA, signed, + = charging), 4 remaining capacity (10 mAh), 6 nominal capacity
 * (10 mAh), 8 cycles, 10 production date, 12/14 balance status low/high, 16 protection status,
 * 18 software version, 19 RSOC (%), 20 FET status, 21 cell count, 22 NTC count, 23… NTCs (0.1 K,
 * offset 2731). Newer firmware appends fields after the NTCs; they are ignored.
 */
export function decodeBasicInfo(data: Buffer): JbdBasicInfo {
  if (data.length < 23)
    throw new JbdResponseMismatchError(`basic info too short (${data.length} bytes, need 23)`, {
      details: { bytes: data.length },
    });
  const ntcCount = data[22]!;
  if (data.length < 23 + 2 * ntcCount)
    throw new JbdResponseMismatchError(
      `basic info announces ${ntcCount} NTCs but carries ${data.length} bytes`,
      { details: { bytes: data.length, ntcCount } },
    );
  const date = data.readUInt16BE(10);
  const fet = data[20]!;
  return {
    voltageV: hundredths(data.readUInt16BE(0)),
    currentA: hundredths(-data.readInt16BE(2)),
    remainingAh: hundredths(data.readUInt16BE(4)),
    nominalAh: hundredths(data.readUInt16BE(6)),
    cycles: data.readUInt16BE(8),
    productionDate: { year: 2000 + (date >> 9), month: (date >> 5) & 0x0f, day: date & 0x1f },
    balanceStatus: data.readUInt16BE(12) + data.readUInt16BE(14) * 0x10000,
    protectionStatus: data.readUInt16BE(16),
    softwareVersion: data[18]!,
    stateOfChargePercent: data[19]!,
    mosfets: { charge: (fet & 1) !== 0, discharge: (fet & 2) !== 0 },
    cellCount: data[21]!,
    temperaturesC: Array.from(
      { length: ntcCount },
      (_, i) => (data.readUInt16BE(23 + 2 * i) - KELVIN_OFFSET) / 10,
    ),
  };
}

/** Encodes register 0x03's data (for the simulator); values are rounded to the wire's units. */
export function encodeBasicInfo(info: JbdBasicInfo): Buffer {
  const ntc = info.temperaturesC.length;
  const data = Buffer.alloc(23 + 2 * ntc);
  const u16 = (value: number, at: number, what: string) => {
    const v = Math.round(value);
    if (!(v >= 0 && v <= 0xffff)) throw new RangeError(`${what} out of range: ${value}`);
    data.writeUInt16BE(v, at);
  };
  u16(info.voltageV * 100, 0, "voltage");
  const current = Math.round(-info.currentA * 100);
  if (!(current >= -0x8000 && current <= 0x7fff))
    throw new RangeError(`current out of range: ${info.currentA}`);
  data.writeInt16BE(current, 2);
  u16(info.remainingAh * 100, 4, "remaining capacity");
  u16(info.nominalAh * 100, 6, "nominal capacity");
  u16(info.cycles, 8, "cycles");
  const { year, month, day } = info.productionDate;
  u16(((year - 2000) << 9) | (month << 5) | day, 10, "production date");
  u16(info.balanceStatus & 0xffff, 12, "balance status");
  u16(Math.floor(info.balanceStatus / 0x10000), 14, "balance status");
  u16(info.protectionStatus, 16, "protection status");
  data[18] = info.softwareVersion;
  data[19] = info.stateOfChargePercent;
  data[20] = (info.mosfets.charge ? 1 : 0) | (info.mosfets.discharge ? 2 : 0);
  data[21] = info.cellCount;
  data[22] = ntc;
  info.temperaturesC.forEach((t, i) => u16(t * 10 + KELVIN_OFFSET, 23 + 2 * i, "temperature"));
  return data;
}

/** Decodes register 0x04's data: one unsigned 16-bit mV value per cell. */
export function decodeCellVoltages(data: Buffer): number[] {
  if (data.length % 2 !== 0)
    throw new JbdResponseMismatchError(`cell voltages carry an odd ${data.length} bytes`, {
      details: { bytes: data.length },
    });
  return Array.from({ length: data.length / 2 }, (_, i) => data.readUInt16BE(2 * i));
}

export function encodeCellVoltages(millivolts: readonly number[]): Buffer {
  const data = Buffer.alloc(2 * millivolts.length);
  millivolts.forEach((mv, i) => data.writeUInt16BE(Math.round(mv), 2 * i));
  return data;
}
