/**
 * CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF), the check on every Modbus RTU frame.
 * Table-driven: the meter driver checks every response, and a frame can arrive byte by byte.
 */
const table = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    t[i] = crc;
  }
  return t;
})();

export function modbusCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = (crc >>> 8) ^ table[(crc ^ bytes[i]!) & 0xff]!;
  }
  return crc;
}

/** Appends the CRC, low byte first as Modbus RTU sends it. */
export function withModbusCrc(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(body.length + 2);
  frame.set(body);
  const crc = modbusCrc(body);
  frame[body.length] = crc & 0xff;
  frame[body.length + 1] = crc >>> 8;
  return frame;
}

/** True when the frame's last two bytes are the CRC of the rest. */
export function hasValidModbusCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const n = frame.length - 2;
  return modbusCrc(frame, 0, n) === (frame[n]! | (frame[n + 1]! << 8));
}
