// A worker thread that recovers EIP-712 reading signers, so the gateway's main thread keeps checking
// and storing readings while secp256k1 runs on another core. Plain JavaScript on purpose: it must load
// under any host (tsx, Hardhat's test runner, plain node) without a TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";

import { verifyTypedData } from "ethers";

const { domain, types } = workerData;

parentPort.on("message", ({ id, value, signature }) => {
  try {
    parentPort.postMessage({ id, signer: verifyTypedData(domain, types, value, signature) });
  } catch {
    parentPort.postMessage({ id, signer: null });
  }
});
