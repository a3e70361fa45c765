import { SecureId } from "./contract/secureIdContract.js";

/**
 * The chaincode entry `fabric-chaincode-node server` loads (through package.json "main"): it reads
 * `contracts` from the module, which works for this ES module because Node ≥ 22.12 lets `require` load
 * it (under tsx, which compiles the TypeScript).
 */
export const contracts = [SecureId];
