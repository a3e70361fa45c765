import { createRequire } from "node:module";
import path from "node:path";

import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

// Hardhat cannot download compilers on our machines, so it uses the WebAssembly build that the
// npm `solc` package ships. The version below must match that package's (see package.json).
const require = createRequire(import.meta.url);
const solcPackage = require("solc/package.json") as { version: string };
const soljson = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");

const compiler = {
  version: solcPackage.version,
  path: soljson,
  settings: {
    optimizer: { enabled: true, runs: 200 },
  },
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthersPlugin],
  solidity: {
    profiles: {
      default: compiler,
      production: compiler,
    },
  },
  test: {
    solidity: {
      fuzz: { runs: 256 },
    },
  },
  networks: {
    // `npm start` runs a Hardhat node here; scripts deploy to it with `--network localhost`.
    localhost: {
      type: "http",
      chainType: "l1",
      url: "http://127.0.0.1:8545",
    },
    // Any other EVM network: set GRIDMESH_RPC_URL and GRIDMESH_DEPLOYER_KEY (environment or
    // `hardhat keystore set`) and deploy with `--network remote`.
    remote: {
      type: "http",
      chainType: "l1",
      url: configVariable("GRIDMESH_RPC_URL"),
      accounts: [configVariable("GRIDMESH_DEPLOYER_KEY")],
    },
  },
});
