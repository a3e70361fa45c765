import { SerialPort } from "serialport";

/**
 * Opens a serial port with the meter line's framing (8N1) and resolves once it is open, so the
 * first write cannot race the open. Eastron meters default to 9,600 baud (SDM120: 2,400).
 */
export function openSerialPort(path: string, baudRate = 9600): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path,
      baudRate,
      dataBits: 8,
      parity: "none",
      stopBits: 1,
      autoOpen: false,
    });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}
