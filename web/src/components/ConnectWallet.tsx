"use client";

import { useConnect, useConnection, useConnectors, useDisconnect, useSwitchChain } from "wagmi";

import { useDeployment } from "./Providers.js";
import { shortAddress } from "../lib/format.js";
import { describeError } from "../lib/errors.js";

/** Connect an injected wallet (each one the browser announces), show who is connected, and fix the chain. */
export function ConnectWallet() {
  const deployment = useDeployment();
  const connection = useConnection();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const switchChain = useSwitchChain();

  if (connection.status === "connected" && connection.address !== undefined) {
    const wrongChain = connection.chainId !== deployment.chainId;
    return (
      <div className="wallet">
        {wrongChain ? (
          <button className="warn" onClick={() => switchChain.mutate({ chainId: deployment.chainId })}>
            Switch to chain {deployment.chainId}
          </button>
        ) : null}
        <span className="address" title={connection.address} data-testid="connected-address">
          {shortAddress(connection.address)}
        </span>
        <button onClick={() => disconnect.mutate({})}>Disconnect</button>
      </div>
    );
  }
  // The generic "injected" entry duplicates the wallets EIP-6963 discovered, when there are any.
  const announced = connectors.filter((c) => c.type === "injected" && c.id !== "injected");
  const choices = announced.length > 0 ? announced : connectors;
  return (
    <div className="wallet">
      {/* Keyed by position: when discovery replaces the generic entry with the announced wallet a
          moment after load, the same button stays in place instead of being swapped under the
          user's click. */}
      {choices.map((c, i) => (
        <button
          key={i}
          disabled={connect.isPending}
          onClick={() => connect.mutate({ connector: c, chainId: deployment.chainId })}
        >
          {connect.isPending ? "Connecting…" : `Connect ${c.name === "Injected" ? "wallet" : c.name}`}
        </button>
      ))}
      {connect.error ? (
        <span className="error" role="alert">
          {describeError(connect.error)}
        </span>
      ) : null}
    </div>
  );
}
