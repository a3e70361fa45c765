import { freePorts as freePortsOn } from "../../../scripts/local/freePorts.js";

/**
 * `count` TCP ports free on loopback now, all different, for processes whose addresses must be known
 * before they start: a controller is configured with its agents' command URLs, the utility's fleet
 * with its controllers' links, and the utility restarts on the same port.
 */
export function freePorts(count: number): Promise<number[]> {
  return freePortsOn("127.0.0.1", count);
}
