import type { ArgumentType, ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";

/**
 * The market contract set on top of a payment token, shared by the local and the remote module:
 * meter registry, delivery ledger, reputation, the spot market, the index oracle and the forward
 * and option markets, with the roles they grant each other. Verifiers, matcher and oracle come
 * from the caller because they differ per network.
 */
export function buildMarketCore(
  m: IgnitionModuleBuilder,
  token: ContractFuture<string>,
  accounts: { admin: ArgumentType; matcher: ArgumentType; oracle: ArgumentType; verifiers: ArgumentType },
) {
  const intervalSeconds = m.getParameter("intervalSeconds", 900n);
  const gateClosureSeconds = m.getParameter("gateClosureSeconds", 60n);
  const settlementDelaySeconds = m.getParameter("settlementDelaySeconds", 3_600n);
  // 0.05 token (6 decimals) per kWh not delivered.
  const penaltyPerKwh = m.getParameter("penaltyPerKwh", 50_000n);
  const attestationThreshold = m.getParameter("attestationThreshold", 2n);

  const meterRegistry = m.contract("MeterRegistry", [
    accounts.admin,
    accounts.verifiers,
    attestationThreshold,
  ]);
  const deliveryLedger = m.contract("DeliveryLedger", [
    accounts.admin,
    meterRegistry,
    intervalSeconds,
    settlementDelaySeconds,
  ]);
  const reputation = m.contract("Reputation", [accounts.admin]);
  const energyMarket = m.contract("EnergyMarket", [
    accounts.admin,
    token,
    deliveryLedger,
    reputation,
    gateClosureSeconds,
    penaltyPerKwh,
  ]);

  const indexOracle = m.contract("IndexOracle", [accounts.admin]);
  const deliveryArgs = [
    accounts.admin,
    token,
    deliveryLedger,
    indexOracle,
    reputation,
    gateClosureSeconds,
    penaltyPerKwh,
  ];
  const forwardMarket = m.contract("ForwardMarket", deliveryArgs);
  const optionMarket = m.contract("OptionMarket", deliveryArgs);

  const obligationRole = m.staticCall(deliveryLedger, "OBLIGATION_ROLE", [], 0, { id: "obligationRole" });
  const recorderRole = m.staticCall(reputation, "RECORDER_ROLE", [], 0, { id: "recorderRole" });
  const products = { EnergyMarket: energyMarket, ForwardMarket: forwardMarket, OptionMarket: optionMarket };
  for (const [name, product] of Object.entries(products)) {
    m.call(deliveryLedger, "grantRole", [obligationRole, product], { id: `grant${name}Obligations` });
    m.call(reputation, "grantRole", [recorderRole, product], { id: `grant${name}Recorder` });
  }
  const matcherRole = m.staticCall(energyMarket, "MATCHER_ROLE", [], 0, { id: "matcherRole" });
  m.call(energyMarket, "grantRole", [matcherRole, accounts.matcher], { id: "grantMatcher" });
  const oracleRole = m.staticCall(indexOracle, "ORACLE_ROLE", [], 0, { id: "oracleRole" });
  m.call(indexOracle, "grantRole", [oracleRole, accounts.oracle], { id: "grantOracle" });

  return {
    meterRegistry,
    deliveryLedger,
    reputation,
    energyMarket,
    indexOracle,
    forwardMarket,
    optionMarket,
  };
}
