"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { decodeEventLog, decodeFunctionData } from "viem";
import { usePublicClient } from "wagmi";

import { useToken } from "../../hooks/useToken.js";
import { formatTime, shortAddress, shortHash } from "../../lib/format.js";
import { systemContracts } from "../../lib/systemAbis.js";
import { useDeployment } from "../Providers.js";
import { QueryView } from "../States.js";

const show = (v: unknown): string =>
  typeof v === "bigint"
    ? v.toString()
    : Array.isArray(v)
      ? `[${v.map(show).join(", ")}]`
      : typeof v === "object" && v !== null
        ? `{${Object.entries(v)
            .map(([k, x]) => `${k}: ${show(x)}`)
            .join(", ")}}`
        : String(v);

/** The latest blocks; pick one to see its transactions, their calls and events decoded. */
export function Explorer() {
  const client = usePublicClient();
  const [picked, setPicked] = useState<bigint | undefined>(undefined);
  const blocks = useQuery({
    queryKey: ["audit-blocks"],
    enabled: client !== undefined,
    refetchInterval: 3_000,
    queryFn: async () => {
      const head = await client!.getBlockNumber();
      const numbers = Array.from({ length: Number(head < 9n ? head + 1n : 10n) }, (_, i) => head - BigInt(i));
      return Promise.all(numbers.map((n) => client!.getBlock({ blockNumber: n })));
    },
  });
  return (
    <div className="stack">
      <QueryView query={blocks} what="blocks">
        {(list) => (
          <div className="table-wrap">
            <table data-testid="blocks">
              <thead>
                <tr>
                  <th>Block</th>
                  <th>Time</th>
                  <th className="num">Transactions</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((b) => (
                  <tr key={b.number.toString()}>
                    <td>{b.number.toString()}</td>
                    <td>{formatTime(Number(b.timestamp))}</td>
                    <td className="num">{b.transactions.length}</td>
                    <td>
                      <button
                        className="secondary"
                        onClick={() => setPicked(b.number)}
                        disabled={b.transactions.length === 0}
                      >
                        Open
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      {picked !== undefined ? <BlockTransactions block={picked} /> : null}
    </div>
  );
}

function BlockTransactions({ block }: { block: bigint }) {
  const client = usePublicClient();
  const deployment = useDeployment();
  const token = useToken();
  const known = systemContracts(deployment, token?.address);
  const txs = useQuery({
    queryKey: ["audit-block", block.toString(), token?.address],
    enabled: client !== undefined,
    queryFn: async () => {
      const b = await client!.getBlock({ blockNumber: block, includeTransactions: true });
      return Promise.all(
        b.transactions.map(async (tx) => ({
          tx,
          receipt: await client!.getTransactionReceipt({ hash: tx.hash }),
        })),
      );
    },
  });
  return (
    <section className="card" data-testid="block-transactions">
      <h2>Block {block.toString()}</h2>
      <QueryView query={txs} what={`block ${block}'s transactions`} isEmpty={(l) => l.length === 0}>
        {(list) =>
          list.map(({ tx, receipt }) => {
            const target = tx.to === null || tx.to === undefined ? undefined : known.get(tx.to.toLowerCase());
            let call = "contract creation or plain transfer";
            if (target !== undefined) {
              try {
                const decoded = decodeFunctionData({ abi: target.abi, data: tx.input });
                call = `${target.name}.${decoded.functionName}(${(decoded.args ?? []).map(show).join(", ")})`;
              } catch {
                call = `${target.name}: a call this app cannot decode`;
              }
            } else if (tx.to) call = `call to ${tx.to}`;
            return (
              <div
                key={tx.hash}
                className="stack"
                style={{ borderTop: "1px solid var(--line)", paddingTop: "0.5rem" }}
              >
                <div className="row">
                  <span className="mono" title={tx.hash}>
                    {shortHash(tx.hash)}
                  </span>
                  <span>from {shortAddress(tx.from)}</span>
                  <span className={`badge ${receipt.status === "success" ? "good" : "bad"}`}>
                    {receipt.status}
                  </span>
                </div>
                <div className="mono">{call}</div>
                <ul>
                  {receipt.logs.map((log) => {
                    const source = known.get(log.address.toLowerCase());
                    let text = `log from ${log.address}`;
                    if (source !== undefined) {
                      try {
                        const ev = decodeEventLog({ abi: source.abi, data: log.data, topics: log.topics });
                        text = `${source.name}.${ev.eventName} ${show(ev.args)}`;
                      } catch {
                        text = `${source.name}: an event this app cannot decode`;
                      }
                    }
                    return (
                      <li key={log.logIndex} className="mono">
                        {text}
                      </li>
                    );
                  })}
                </ul>
              </div>
            );
          })
        }
      </QueryView>
    </section>
  );
}
