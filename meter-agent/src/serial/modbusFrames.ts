import { withModbusCrc } from "./modbusCrc.js";

/** Function 0x04, the only one the meter driver asks: read input registers. */
export const READ_INPUT_REGISTERS = 0x04;

/** Modbus RTU frames the driver and the simulator build, CRC included. */
export const modbusFrames = {
  /** `slave 04 regHi regLo countHi countLo crc`. */
  readInputRegistersRequest(slave: number, register: number, count: number): Buffer {
    const body = Buffer.alloc(6);
    body.writeUInt8(slave, 0);
    body.writeUInt8(READ_INPUT_REGISTERS, 1);
    body.writeUInt16BE(register, 2);
    body.writeUInt16BE(count, 4);
    return Buffer.from(withModbusCrc(body));
  },

  /** `slave 04 byteCount data crc`. */
  readInputRegistersResponse(slave: number, data: Uint8Array): Buffer {
    return Buffer.from(withModbusCrc(Uint8Array.of(slave, READ_INPUT_REGISTERS, data.length, ...data)));
  },

  /** `slave fn|0x80 code crc`. */
  exceptionResponse(slave: number, functionCode: number, exceptionCode: number): Buffer {
    return Buffer.from(withModbusCrc(Uint8Array.of(slave, functionCode | 0x80, exceptionCode)));
  },
};
