import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  encodeErrorResult,
  type Abi,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  UserRejectedRequestError,
} from "viem";

import { energyMarketAbi } from "@gridmesh/contracts";

import { describeError } from "./errors.js";

function reverted(errorName: string, args: readonly unknown[]) {
  const abi: Abi = energyMarketAbi;
  const data = encodeErrorResult({ abi, errorName, args });
  const cause = new ContractFunctionRevertedError({ abi: energyMarketAbi, data, functionName: "placeOffer" });
  const callArgs = ["0x0000000000000000000000000000000000000001", 42n, 1000n, 120_000n];
  return new ContractFunctionExecutionError(cause, {
    abi: energyMarketAbi,
    functionName: "placeOffer",
    args: callArgs,
  });
}

void describe("errors in words", () => {
  void it("names a contract's custom error by what it means, with its values", () => {
    assert.equal(
      describeError(reverted("EnergyMarketGateClosed", [42n, 1_000n])),
      "The contract refused: orders for interval 42 closed at its gate closure.",
    );
    const meter = "0x00000000000000000000000000000000000000aa";
    assert.match(
      describeError(reverted("EnergyMarketMeterInactive", [meter])),
      /is not active in the registry/,
    );
  });

  void it("falls back to the error's name and arguments when it has no words", () => {
    assert.equal(
      describeError(reverted("EnergyMarketWrongSide", [7n, 1])),
      "The contract refused: EnergyMarketWrongSide(7, 1).",
    );
  });

  void it("says plainly when the user rejected the request in the wallet", () => {
    assert.equal(
      describeError(new UserRejectedRequestError(new Error("User denied"))),
      "You rejected the request in your wallet; nothing was sent.",
    );
  });

  void it("keeps any other error's message", () => {
    assert.equal(describeError(new Error("network down")), "network down");
  });
});
