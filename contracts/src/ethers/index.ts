// The parts of @gridmesh/contracts that need ethers, kept apart so the browser build (viem) and
// the chaincode never load it.
export * from "./customError.js";
export * from "./ledgerRecorder.js";
export * from "./typedDataSigner.js";
