import type { TokenInfo } from "../../hooks/useToken.js";
import type { CustomerBills } from "../../lib/gatewayTypes.js";
import { formatEnergy } from "../../lib/units.js";

type BillLine = CustomerBills["months"][number]["bills"][number]["lines"][number];

/** A bill's (or a statement's) lines: energy, rate, amount, and what P2P lines paid on chain. */
export function BillLines({ lines, money }: { lines: readonly BillLine[]; money: TokenInfo | undefined }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Line</th>
          <th className="num">Energy</th>
          <th className="num">Rate</th>
          <th className="num">Amount</th>
          <th className="num">Paid on chain</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((l) => (
          <tr key={l.position}>
            <td style={{ whiteSpace: "normal" }}>{l.description}</td>
            <td className="num">{l.energyWh === null ? "" : formatEnergy(BigInt(l.energyWh))}</td>
            <td className="num">
              {l.ratePerKwh === null ? "" : (money?.price(l.ratePerKwh) ?? l.ratePerKwh)}
            </td>
            <td className="num">{money?.money(l.amount) ?? l.amount}</td>
            <td className="num">
              {l.onchainAmount === null ? "" : (money?.money(l.onchainAmount) ?? l.onchainAmount)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
