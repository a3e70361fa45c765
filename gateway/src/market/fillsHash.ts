import { AbiCoder, keccak256 } from "ethers";

import type { ClearingFill } from "@gridmesh/contracts";

const FILLS = ["tuple(uint64 offerId, uint64 bidId, uint48 wh)[]"];

/** What EnergyMarket stores for a batch: keccak256(abi.encode(fills)). Settlement must match it. */
export function fillsHash(fills: readonly ClearingFill[]): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(FILLS, [fills.map((f) => [f.offerId, f.bidId, f.wh])]));
}

/** The Fill[] argument of submitClearing / settleBatch. */
export function fillsArgument(fills: readonly ClearingFill[]) {
  return fills.map((f) => ({ offerId: f.offerId, bidId: f.bidId, wh: f.wh }));
}
