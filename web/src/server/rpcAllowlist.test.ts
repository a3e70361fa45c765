import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { refuseRpc } from "./rpcAllowlist.js";

void describe("the web app's JSON-RPC allowlist", () => {
  void it("passes reads and signed raw transactions, alone or batched", () => {
    assert.equal(refuseRpc({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [] }), undefined);
    assert.equal(
      refuseRpc([
        { jsonrpc: "2.0", id: 1, method: "eth_getLogs", params: [] },
        { jsonrpc: "2.0", id: 2, method: "eth_sendRawTransaction", params: ["0x00"] },
      ]),
      undefined,
    );
  });

  void it("refuses what would use the node's own keys, even hidden in a batch", () => {
    assert.match(
      refuseRpc({ jsonrpc: "2.0", id: 1, method: "eth_sendTransaction" }) ?? "",
      /eth_sendTransaction is not available/,
    );
    assert.match(
      refuseRpc([
        { jsonrpc: "2.0", id: 1, method: "eth_call" },
        { jsonrpc: "2.0", id: 2, method: "eth_signTypedData_v4" },
      ]) ?? "",
      /eth_signTypedData_v4/,
    );
    assert.match(
      refuseRpc({ jsonrpc: "2.0", id: 1, method: "hardhat_setBalance" }) ?? "",
      /hardhat_setBalance/,
    );
  });

  void it("refuses what is not JSON-RPC at all", () => {
    assert.equal(refuseRpc([]), "empty batch");
    assert.equal(refuseRpc("eth_call"), "not a JSON-RPC request");
    assert.equal(
      refuseRpc(Array.from({ length: 101 }, () => ({ method: "eth_call" }))),
      "a batch may hold at most 100 requests",
    );
  });
});
