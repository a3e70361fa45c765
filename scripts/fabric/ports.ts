/**
 * A block of ports for a network that must not collide with others on the machine (tests, benchmarks):
 * the first port base, in steps of the topology's span, whose every port is free now.
 */
import { PORT_SPAN } from "./config.js";
import { portFree } from "./processes.js";

/** Hardhat's JSON-RPC node (`npm start`) owns it, so no block may contain it. */
const HARDHAT_PORT = 8545;

export async function freePortBase(from: number): Promise<number> {
  for (let base = from; base + PORT_SPAN <= 65_535; base += PORT_SPAN) {
    if (base <= HARDHAT_PORT && HARDHAT_PORT < base + PORT_SPAN) continue;
    const ports = Array.from({ length: PORT_SPAN }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error(`no block of ${PORT_SPAN} free ports on 127.0.0.1 from port ${from} up`);
}
