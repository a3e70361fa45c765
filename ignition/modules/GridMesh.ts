import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Everything GridMesh deploys on a chain. Later modules (market, registry, settlement) are added
 * here so that one `ignition deploy` brings up the whole set.
 */
export default buildModule("GridMesh", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  // Generous enough for a day of demo trading, small enough that nobody mistakes it for money.
  const accountDailyLimit = m.getParameter("faucetAccountDailyLimit", 10_000n * 10n ** 6n);
  const dailyCap = m.getParameter("faucetDailyCap", 1_000_000n * 10n ** 6n);

  const testDollar = m.contract("TestDollar", [admin, accountDailyLimit, dailyCap]);

  return { testDollar };
});
