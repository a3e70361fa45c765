import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { buildMarketCore } from "./core.js";

/**
 * The whole GridMesh contract set on a local or test chain, with the faucet payment token. The
 * deployer is admin, matcher and index oracle; Hardhat accounts 17–19 are the three verifier organisations
 * (threshold 2), so that demos and tests can attest meters.
 */
export default buildModule("GridMesh", (m) => {
  const admin = m.getAccount(0);
  // Generous enough for a day of demo trading, small enough that nobody mistakes it for money.
  const accountDailyLimit = m.getParameter("faucetAccountDailyLimit", 10_000n * 10n ** 6n);
  const dailyCap = m.getParameter("faucetDailyCap", 1_000_000n * 10n ** 6n);
  const testDollar = m.contract("TestDollar", [admin, accountDailyLimit, dailyCap]);

  const core = buildMarketCore(m, testDollar, {
    admin,
    matcher: admin,
    oracle: admin,
    verifiers: [m.getAccount(17), m.getAccount(18), m.getAccount(19)],
  });
  return { testDollar, ...core };
});
