"use client";

import { meterRegistryAbi } from "@gridmesh/contracts";
import { useState } from "react";
import { usePublicClient } from "wagmi";

import { fetchGateway } from "../../hooks/useGateway.js";
import { verifySignedReading, type ReadingVerdict } from "../../lib/audit/verifyReading.js";
import type { Page, StoredReading } from "../../lib/gatewayTypes.js";
import { useDeployment } from "../Providers.js";

type Result = ReadingVerdict & { active?: boolean };

/** Paste any signed reading (the shared JSON wire form) and check who signed it. */
export function ReadingVerifier() {
  const deployment = useDeployment();
  const client = usePublicClient();
  const [text, setText] = useState("");
  const [result, setResult] = useState<Result | { error: string } | undefined>(undefined);

  const loadLatest = async () => {
    try {
      const page = await fetchGateway<Page<StoredReading>>("/v1/readings?limit=1");
      const stored = page.items[0];
      if (stored === undefined) setResult({ error: "The gateway holds no readings yet." });
      else setText(JSON.stringify({ reading: stored.reading, signature: stored.signature }, null, 2));
    } catch (error) {
      setResult({ error: (error as Error).message });
    }
  };

  const verify = async () => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      setResult({ error: "That is not JSON: paste a signed reading as { reading, signature }." });
      return;
    }
    const verdict = await verifySignedReading(json, {
      chainId: deployment.chainId,
      ledger: deployment.contracts.deliveryLedger,
    });
    let active: boolean | undefined;
    if (verdict.valid && client !== undefined) {
      active = await client.readContract({
        address: deployment.contracts.meterRegistry,
        abi: meterRegistryAbi,
        functionName: "isActive",
        args: [verdict.reading.reading.meter],
      });
    }
    setResult({ ...verdict, ...(active !== undefined && { active }) });
  };

  return (
    <div className="stack" data-testid="reading-verifier">
      <label>
        Signed reading (JSON)
        <textarea
          name="reading"
          rows={10}
          value={text}
          onChange={(e) => setText(e.target.value)}
          className="mono"
          style={{ width: "100%" }}
        />
      </label>
      <div className="row">
        <button onClick={() => void verify()} disabled={text.trim() === ""}>
          Verify
        </button>
        <button className="secondary" onClick={() => void loadLatest()}>
          Load a stored reading
        </button>
      </div>
      {result === undefined ? null : "error" in result ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : result.valid ? (
        <p className="ok" data-testid="reading-verdict">
          Valid: signed by meter {result.signer} for interval {result.reading.reading.interval.toString()}
          {result.active === false
            ? ", but that meter is not active in the registry"
            : " (active in the registry)"}
          .
        </p>
      ) : (
        <p className="error" data-testid="reading-verdict">
          Invalid: {result.reason}.
        </p>
      )}
    </div>
  );
}
