import type { ArgumentType, ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/**
 * The market contract set on top of a payment token, shared by the local and the remote module:
 * meter registry, delivery ledger, reputation and the spot market, with the roles they grant
 * each other. Verifiers and the matcher come from the caller because they differ per network.
 */
export function buildMarketCore(
  m: IgnitionModuleBuilder,
  token: ContractFuture<string>,
  accounts: { admin: ArgumentType; matcher: ArgumentType; verifiers: ArgumentType },
) {
  const intervalSeconds = m.getParameter("intervalSeconds", 900n);
  const gateClosureSeconds = m.getParameter("gateClosureSeconds", 60n);
  const settlementDelaySeconds = m.getParameter("settlementDelaySeconds", 3_600n);
  // 0.05 token (6 decimals) per kWh not delivered.
  const penaltyPerKwh = m.getParameter("penaltyPerKwh", 50_000n);
  const attestationThreshold = m.getParameter("attestationThreshold", 2n);

  const meterRegistry = m.contract("MeterRegistry", [accounts.admin, accounts.verifiers, attestationThreshold]);
  const deliveryLedger = m.contract("DeliveryLedger", [accounts.admin, meterRegistry, intervalSeconds]);
  const reputation = m.contract("Reputation", [accounts.admin]);
  const energyMarket = m.contract("EnergyMarket", [
    accounts.admin,
    token,
    deliveryLedger,
    reputation,
    gateClosureSeconds,
    settlementDelaySeconds,
    penaltyPerKwh,
  ]);

  const obligationRole = m.staticCall(deliveryLedger, "OBLIGATION_ROLE", [], 0, { id: "obligationRole" });
  m.call(deliveryLedger, "grantRole", [obligationRole, energyMarket], { id: "grantMarketObligations" });
  const recorderRole = m.staticCall(reputation, "RECORDER_ROLE", [], 0, { id: "recorderRole" });
  m.call(reputation, "grantRole", [recorderRole, energyMarket], { id: "grantMarketRecorder" });
  const matcherRole = m.staticCall(energyMarket, "MATCHER_ROLE", [], 0, { id: "matcherRole" });
  m.call(energyMarket, "grantRole", [matcherRole, accounts.matcher], { id: "grantMatcher" });

  return { meterRegistry, deliveryLedger, reputation, energyMarket };
}
