import { Indexed, Interface, type InterfaceAbi, type ParamType, type Result } from "ethers";

import {
  deliveryLedgerAbi,
  energyMarketAbi,
  forwardMarketAbi,
  meterRegistryAbi,
  optionMarketAbi,
} from "@gridmesh/contracts";

import type { ChainEvent, EventArg, EventArgs } from "./chainEvent.js";
import { ChainIndexerError } from "./chainIndexerError.js";

/** The deployed contracts the indexer follows (the gateway configuration's `chain.contracts`), 0x-hex. */
export interface IndexedContracts {
  energyMarket: string;
  meterRegistry: string;
  deliveryLedger: string;
  forwardMarket?: string | undefined;
  optionMarket?: string | undefined;
}

/** A log as eth_getLogs returns it (ethers' `Log` has this shape). */
export interface RawLog {
  blockNumber: number;
  blockHash: string;
  index: number;
  transactionHash: string;
  address: string;
  topics: readonly string[];
  data: string;
  removed: boolean;
}

const abis: Record<keyof IndexedContracts, InterfaceAbi> = {
  energyMarket: energyMarketAbi,
  meterRegistry: meterRegistryAbi,
  deliveryLedger: deliveryLedgerAbi,
  forwardMarket: forwardMarketAbi,
  optionMarket: optionMarketAbi,
};

/**
 * The followed contracts with their ABIs: which addresses to ask eth_getLogs for, and how to turn
 * their logs into stored events.
 */
export class ContractSet {
  /** Stream name (the contract's role) to lower-case address, in a fixed order. */
  readonly streams: ReadonlyMap<string, string>;
  readonly #interfaces = new Map<string, Interface>();

  constructor(contracts: IndexedContracts) {
    const streams = new Map<string, string>();
    for (const role of Object.keys(abis) as (keyof IndexedContracts)[]) {
      const address = contracts[role];
      if (address === undefined) continue;
      if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
        throw new ChainIndexerError(`contract ${role} has an invalid address ${address}`);
      }
      const lower = address.toLowerCase();
      if (this.#interfaces.has(lower)) {
        throw new ChainIndexerError(`contract ${role} has the same address as another followed contract`, {
          details: { address },
        });
      }
      streams.set(role, lower);
      this.#interfaces.set(lower, new Interface(abis[role]));
    }
    this.streams = streams;
  }

  get addresses(): string[] {
    return [...this.streams.values()];
  }

  /**
   * The log as a stored event, or undefined for a log whose topic none of the contract's events
   * has (nothing the projections could use). A known event that does not decode means the ABI and
   * the deployed contract disagree: that stops the indexer rather than lose events quietly.
   */
  decode(log: RawLog): ChainEvent | undefined {
    const contract = log.address.toLowerCase();
    const iface = this.#interfaces.get(contract);
    if (iface === undefined) return undefined;
    let parsed;
    try {
      parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
    } catch (error) {
      throw new ChainIndexerError(
        `log ${log.index} of block ${log.blockNumber} does not decode with the ABI`,
        {
          details: { contract, transactionHash: log.transactionHash, topic: log.topics[0] },
          cause: error,
        },
      );
    }
    if (parsed === null) return undefined;
    return {
      blockNumber: BigInt(log.blockNumber),
      blockHash: log.blockHash.toLowerCase(),
      logIndex: log.index,
      txHash: log.transactionHash.toLowerCase(),
      contract,
      name: parsed.name,
      args: argsToJson(parsed.fragment.inputs, parsed.args),
    };
  }
}

/** Decoded values in the stored JSON form (see `EventArg`), keyed by the ABI's names. */
export function argsToJson(inputs: readonly ParamType[], values: Result): EventArgs {
  const args: EventArgs = {};
  inputs.forEach((input, i) => {
    args[input.name === "" ? String(i) : input.name] = valueToJson(input, values[i]);
  });
  return args;
}

function valueToJson(type: ParamType, value: unknown): EventArg {
  // Indexed dynamic values (strings, bytes, arrays) are only their hash in the log.
  if (value instanceof Indexed) return (value.hash ?? "").toLowerCase();
  if (type.isArray()) return (value as unknown[]).map((item) => valueToJson(type.arrayChildren, item));
  if (type.isTuple()) return argsToJson(type.components, value as Result);
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "boolean":
      return value;
    case "string":
      // Addresses come checksummed and bytes as hex: one spelling, so the store compares them exactly.
      return type.type === "string" ? value : value.toLowerCase();
    default:
      throw new ChainIndexerError(`cannot store a decoded ${type.type} of type ${typeof value}`);
  }
}
