/**
 * The byte pipe a Modbus driver or simulator needs: what `serialport`'s `SerialPort` offers, and
 * small enough to fake. The owner opens and closes it; drivers only attach and detach.
 */
export interface ModbusPort {
  /** For error context, e.g. `/dev/ttyUSB0`. */
  readonly path: string;
  write(data: Buffer, callback: (error: Error | null | undefined) => void): boolean;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  off(event: "data", listener: (chunk: Buffer) => void): unknown;
}
