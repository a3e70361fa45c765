import path from "node:path";

import type { LocalSystem } from "./localSystem.js";

const CONTRACT_LABELS: Record<string, string> = {
  testDollar: "TestDollar",
  meterRegistry: "MeterRegistry",
  deliveryLedger: "DeliveryLedger",
  energyMarket: "EnergyMarket",
  forwardMarket: "ForwardMarket",
  optionMarket: "OptionMarket",
  indexOracle: "IndexOracle",
  reputation: "Reputation",
};

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** The wall-clock instant the system's clock reads `simMs`. */
export function wallTimeOf(system: Pick<LocalSystem, "clock">, simMs: number): number {
  const { originMs, speed } = system.clock;
  return originMs + (simMs - originMs) / speed;
}

/** What `npm start` prints once the system is up: the web app's URL first, then what runs where. */
export function formatSummary(system: LocalSystem, nowMs = Date.now()): string {
  const pad = (label: string) => `  ${label.padEnd(16)}  `;
  const { clock, market } = system;
  const simNow = clock.originMs + (nowMs - clock.originMs) * clock.speed;
  const monthEnd = Date.UTC(
    new Date(system.simulatedStartMs).getUTCFullYear(),
    new Date(system.simulatedStartMs).getUTCMonth() + 1,
    1,
  );
  const billIn = Math.max(0, (wallTimeOf(system, monthEnd) - nowMs) / 60_000);
  const cwdRelative = (p: string) => {
    const relative = path.relative(process.cwd(), p);
    return relative.startsWith("..") ? p : relative;
  };
  const web =
    system.webUrl !== undefined
      ? `${pad("Web app")}${system.webUrl}   <- open this in a browser`
      : `${pad("Web app")}not served: ${system.webNote ?? "unknown reason"}`;
  const homeLines = system.homes.map((h) => {
    const solar = h.solarPeakW > 0 ? `${(h.solarPeakW / 1000).toFixed(1)} kW solar` : "no solar";
    const battery =
      h.battery !== undefined
        ? `${((h.battery.capacityAh * 51.2) / 1000).toFixed(1)} kWh battery`
        : "no battery";
    const trading = h.autoTrading ? "automatic trading" : "trades by hand";
    return `    ${h.name}  owner ${h.owner} (account ${h.ownerAccount})  meter ${h.meter}  ${solar}, ${battery}, ${trading}, ${h.controller}`;
  });
  return [
    "",
    "GridMesh local system is running",
    web,
    `${pad("JSON-RPC")}${system.rpcUrl}  (chain id ${system.chainId}; blocks follow the simulated clock)`,
    `${pad("Gateway API")}${system.gatewayUrl}  (OpenAPI: ${system.gatewayUrl}/v1/openapi.json)`,
    `${pad("Clock")}${clock.speed}× real time: a ${market.intervalSeconds / 60}-minute market interval every ${market.realSecondsPerInterval} s; simulated time is ${utc(simNow)}`,
    `${pad("Billing")}${system.firstBilledMonth} ends ${utc(monthEnd)} (simulated), in about ${billIn.toFixed(1)} min; the utility bills it once its last hour and trades are in`,
    `${pad("Secure ID")}${system.secureId === "fabric" ? "Fabric network (scripts/fabric)" : "embedded ledger"}`,
    `${pad("Controllers")}${system.controllers.map((c) => `${c.id} ${c.url}`).join(", ")}`,
    `${pad("Homes")}${system.homes.length} meter agents on simulated serial meters, each active in MeterRegistry:`,
    ...homeLines,
    ...Object.entries(system.contracts).map(
      ([name, address]) => `${pad(CONTRACT_LABELS[name] ?? name)}${address}`,
    ),
    `${pad("Operator token")}${system.operatorToken}  (Authorization: Bearer … on /v1/operator/*)`,
    `${pad("Logs")}${cwdRelative(system.logsDir)}`,
    `${pad("Started in")}${(system.startupMs / 1000).toFixed(1)} s`,
    "",
    "Accounts are Hardhat's development accounts (account 0 deploys and matches, 17–19 verify, homes' owners",
    "from 1 up): never use them on a real network. Press Ctrl-C to stop.",
    "",
  ].join("\n");
}
