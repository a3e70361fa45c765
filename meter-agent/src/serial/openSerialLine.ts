import type { SerialPort } from "serialport";

import { openSerialPort } from "./openSerialPort.js";
import { openPtyPair } from "./ptyPair.js";

/** Both ends of a simulated serial line: the agent's port and the device simulator's port. */
export interface SerialLine {
  /** The agent's end, e.g. handed to SdmMeter or JbdBms. */
  host: SerialPort;
  /** The device's end, handed to a simulator. */
  device: SerialPort;
  /** The host end's path, as a driver would be configured with it. */
  path: string;
  /** Closes both ports, then the pty pair; safe to call more than once. */
  close(): Promise<void>;
}

const closePort = (port: SerialPort) =>
  new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));

/**
 * A real serial line for simulated devices: a socat pty pair with the real `serialport` binding
 * open on both ends. Used by the driver tests and by the demo's simulated homes.
 */
export async function openSerialLine(baudRate?: number): Promise<SerialLine> {
  const pty = await openPtyPair();
  const opened: SerialPort[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const port of opened.reverse()) await closePort(port);
    await pty.close();
  };
  try {
    opened.push(await openSerialPort(pty.paths[0], baudRate));
    opened.push(await openSerialPort(pty.paths[1], baudRate));
  } catch (error) {
    await close();
    throw error;
  }
  const [host, device] = opened as [SerialPort, SerialPort];
  return { host, device, path: pty.paths[0], close };
}
