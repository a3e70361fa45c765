import type { Address } from "viem";

/** GET /v1/deployment of the gateway, parsed: the chain and contracts the whole app talks to. */
export interface Deployment {
  chainId: number;
  contracts: {
    energyMarket: Address;
    deliveryLedger: Address;
    meterRegistry: Address;
    forwardMarket: Address | null;
    optionMarket: Address | null;
  };
  market: { intervalSeconds: number; gateClosureSeconds: number; settlementDelaySeconds: number };
}

interface DeploymentJson {
  chainId: number;
  contracts: Deployment["contracts"];
  market: { intervalSeconds: string; gateClosureSeconds: string; settlementDelaySeconds: string };
}

export function parseDeployment(json: DeploymentJson): Deployment {
  return {
    chainId: json.chainId,
    contracts: json.contracts,
    market: {
      intervalSeconds: Number(json.market.intervalSeconds),
      gateClosureSeconds: Number(json.market.gateClosureSeconds),
      settlementDelaySeconds: Number(json.market.settlementDelaySeconds),
    },
  };
}
