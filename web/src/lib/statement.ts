import type { MonthToDateStatement } from "./gatewayTypes.js";

/**
 * What is still to come into a month-to-date statement, in the customer's words: hours of meter
 * data not received yet and P2P deliveries not settled yet, each of which changes the figures.
 * Empty when the statement's period is complete.
 */
export function statementGaps(missing: MonthToDateStatement["missing"]): string[] {
  const hours = missing.reduce((n, m) => (m.kind === "unsettled_p2p" ? n : n + m.hours), 0);
  const deliveries = missing.reduce((n, m) => (m.kind === "unsettled_p2p" ? n + m.deliveries : n), 0);
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    ...(hours > 0 ? [`${plural(hours, "hour", "hours")} of meter data not received yet`] : []),
    ...(deliveries > 0
      ? [`${plural(deliveries, "P2P delivery", "P2P deliveries")} not settled on chain yet`]
      : []),
  ];
}
