import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { buildMarketCore } from "./core.js";

/**
 * The GridMesh contract set on a real network, settling in an existing ERC-20. Parameters
 * (ignition/parameters/*.json): paymentToken, admin, matcher, oracle, verifiers (addresses), and the
 * timing, penalty and threshold parameters of buildMarketCore.
 */
export default buildModule("GridMeshNetwork", (m) => {
  const token = m.contractAt("IERC20", m.getParameter<string>("paymentToken"));
  const core = buildMarketCore(m, token, {
    admin: m.getParameter<string>("admin"),
    matcher: m.getParameter<string>("matcher"),
    oracle: m.getParameter<string>("oracle"),
    verifiers: m.getParameter<string[]>("verifiers"),
  });
  return { token, ...core };
});
