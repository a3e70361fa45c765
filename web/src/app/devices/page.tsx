"use client";

import { meterRegistryAbi } from "@gridmesh/contracts";
import { useReadContract } from "wagmi";

import { BatteryDetails } from "../../components/battery/BatteryDetails.js";
import { useDeployment } from "../../components/Providers.js";
import { ConnectFirst, QueryView } from "../../components/States.js";
import { useGateway } from "../../hooks/useGateway.js";
import { useMyMeters } from "../../hooks/useMyMeters.js";
import type { ChaincodeEvent, Device, IdentityStatus, Page } from "../../lib/gatewayTypes.js";
import { formatTime } from "../../lib/format.js";

/** Each meter's identity: its registry status on chain, and its Secure ID history on the ledger. */
export default function DevicesPage() {
  const { address, data: meters, error, isPending } = useMyMeters();
  return (
    <>
      <h1>Devices</h1>
      {address === undefined ? (
        <ConnectFirst to="see your devices" />
      ) : (
        <QueryView
          query={{ data: meters, error, isPending }}
          what="your devices"
          isEmpty={(p) => p.items.length === 0}
          empty="No meter is registered to this wallet."
        >
          {(p) => (
            <div className="stack" data-testid="devices">
              {p.items.map((m) => (
                <DeviceCard key={m.meter} device={m} />
              ))}
            </div>
          )}
        </QueryView>
      )}
    </>
  );
}

function DeviceCard({ device }: { device: Device }) {
  const { contracts } = useDeployment();
  const { data: active } = useReadContract({
    address: contracts.meterRegistry,
    abi: meterRegistryAbi,
    functionName: "isActive",
    args: [device.meter as `0x${string}`],
    query: { refetchInterval: 10_000 },
  });
  const identity = useGateway<IdentityStatus>(`/v1/identity/devices/${device.deviceId}`, 15_000);
  const events = useGateway<Page<ChaincodeEvent>>(
    `/v1/identity/events?deviceId=${device.deviceId}&limit=50`,
    15_000,
  );
  return (
    <section className="card">
      <h2 className="mono">{device.meter}</h2>
      <div className="row">
        <span className={`badge ${device.status === "active" ? "good" : "wait"}`}>{device.status}</span>
        <span className={`badge ${active === true ? "good" : "bad"}`}>
          {active === undefined
            ? "checking the registry…"
            : active
              ? "active on chain"
              : "not active on chain"}
        </span>
        <span className="note">updated {formatTime(Date.parse(device.updatedAt) / 1000)}</span>
      </div>
      <p className="note">
        Device id <span className="mono">{device.deviceId}</span>
      </p>
      <h3>Battery and partitions</h3>
      <BatteryDetails meter={device.meter} />
      <h3>Secure ID</h3>
      <QueryView query={identity} what="the device's identity">
        {(d) => (
          <ul data-testid="identity">
            <li>
              Secure ID: <strong>{d.status}</strong>, provisioned{" "}
              {formatTime(Date.parse(d.provisionedAt) / 1000)} by {d.ownerMsp}
            </li>
            <li>
              {d.seal === null
                ? "Identity document not sealed yet (Keymaker)."
                : `Sealed (Keymaker): any ${d.seal.k} of ${d.seal.n} verifiers — ${d.seal.verifiers.join(", ")} — can check it.`}
            </li>
            <li>
              {d.lastVerification === null
                ? "Not verified yet (Keychecker)."
                : `Last verification: ${d.lastVerification.status}${d.lastVerification.reason ? ` (${d.lastVerification.reason})` : ""}, ${d.lastVerification.attestations.length} attestation(s)${d.lastVerification.activation !== null ? ", meter activated" : ""}.`}
            </li>
            <li>
              Registry: {d.registry === null ? "not enrolled" : d.registry.status}
              {d.activationTx !== null ? (
                <span className="mono note"> (activation {d.activationTx.slice(0, 12)}…)</span>
              ) : null}
            </li>
            {d.revocation !== null ? (
              <li className="error">
                Revoked by the {d.revocation.by}: {d.revocation.reason}
              </li>
            ) : null}
          </ul>
        )}
      </QueryView>
      <h3>Provisioning, attestations and verifications</h3>
      <QueryView
        query={events}
        what="the identity's history"
        isEmpty={(e) => e.items.length === 0}
        empty="No identity events recorded."
      >
        {(e) => (
          <ul>
            {e.items.map((ev) => (
              <li key={ev.position}>
                {ev.name} <span className="note">block {ev.blockNumber}</span>{" "}
                <span className="mono note">{ev.txId.slice(0, 16)}…</span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </section>
  );
}
