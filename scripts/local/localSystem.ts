import type { ContractAddresses } from "./deployContracts.js";
import type { HomeBatterySpec } from "./homeSpecs.js";
import type { Exit } from "./managedProcess.js";
import type { Delegation } from "./ownerFunds.js";

/** One simulated home of the running system. */
export interface LocalHome {
  name: string;
  /** 1-based; home N is owned by Hardhat account N (skipping the verifiers' 17–19). */
  index: number;
  owner: `0x${string}`;
  ownerAccount: number;
  /** The owner's development key (Hardhat's public test mnemonic), for test wallets. */
  ownerPrivateKey: string;
  /** The meter's address: active in MeterRegistry under `owner`. */
  meter: `0x${string}`;
  deviceId: string;
  /** The owner's customer account at the utility. */
  customerAccount: string;
  /** The microgrid controller polling this home. */
  controller: string;
  /** The agent's command server (signed controller commands). */
  commandPort: number;
  commandsUrl: string;
  /**
   * Whether the owner delegated automatic trading to the meter at start (homes 1 and 2 do not; their
   * agents trade only once a rule is set in the web app).
   */
  autoTrading: boolean;
  delegation: Delegation | undefined;
  solarPeakW: number;
  baseLoadW: number;
  battery: HomeBatterySpec | undefined;
  /** The agent's directory (configuration, keys, store) and its log. */
  dir: string;
  logFile: string;
}

export interface LocalController {
  id: string;
  url: string;
  /** Its command-signing address, which its agents obey. */
  address: `0x${string}`;
}

/** The running local system, as `startLocalSystem` returns it. */
export interface LocalSystem {
  rpcUrl: string;
  gatewayUrl: string;
  /** Undefined when the web app is not served; `webNote` says why. */
  webUrl: string | undefined;
  webNote: string | undefined;
  chainId: number;
  /** Addresses by Ignition name: testDollar, meterRegistry, deliveryLedger, energyMarket, … */
  contracts: ContractAddresses;
  homes: LocalHome[];
  controllers: LocalController[];
  /** Every part runs on this clock: simulated ms = originMs + (wall ms − originMs) · speed. */
  clock: { originMs: number; speed: number };
  /** Simulated time when the system was started, and the month the utility bills first. */
  simulatedStartMs: number;
  firstBilledMonth: string;
  market: {
    intervalSeconds: number;
    gateClosureSeconds: number;
    settlementDelaySeconds: number;
    /** Wall-clock seconds per market interval (`--interval`). */
    realSecondsPerInterval: number;
  };
  /** Bearer token of the gateway's operator API (`/v1/operator/*`). */
  operatorToken: string;
  secureId: "embedded" | "fabric";
  dataDir: string;
  logsDir: string;
  /** Wall-clock ms from the call to the system being up. */
  startupMs: number;
  /** Stops every process it started and the chain; safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalSystemHooks {
  /** A step of the startup, for a progress line. */
  progress?: (message: string) => void;
  /** A process of the system exited while it was meant to run. */
  processExited?: (name: string, exit: Exit, logFile: string) => void;
  /** Aborts a start under way: what has started is stopped and the start rejects. */
  signal?: AbortSignal;
}
