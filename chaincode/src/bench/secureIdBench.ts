import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { EmbeddedLedger } from "../client/embeddedLedger.js";
import { FabricLedger } from "../client/fabricLedger.js";
import { Keychecker } from "../client/keychecker.js";
import { SecureIdClient } from "../client/secureIdClient.js";
import type { SecureIdLedger } from "../client/secureIdLedger.js";
import { toHex } from "../protocol/hex.js";
import { ATTACKS, captureResponse, type BenchDevice } from "./adversaries.js";

/**
 * Seed 004's experiment (Table IV.3.1), bettered: provision and Keymaker for D devices, V Keychecker
 * verifications per device, and A adversarial verifications, on the embedded ledger or, with --profile,
 * on a Fabric network. Prints false positives and negatives and the latency of a full verification and
 * of its ledger part (request, releases and verdict).
 */
const { values } = parseArgs({
  options: {
    profile: { type: "string" },
    path: { type: "string" },
    requester: { type: "string", default: "UtilityMSP" },
    verifiers: { type: "string", default: "Verifier1MSP,Verifier2MSP,Verifier3MSP" },
    k: { type: "string", default: "2" },
    devices: { type: "string", default: "5" },
    verifications: { type: "string", default: "60" },
    adversarial: { type: "string", default: "100" },
    json: { type: "boolean", default: false },
  },
});
const verifierOrgs = values.verifiers.split(",").filter(Boolean);
const k = Number(values.k);
const deviceCount = Number(values.devices);
const perDevice = Number(values.verifications);
const adversarial = Number(values.adversarial);

const ledger: SecureIdLedger = values.profile
  ? await FabricLedger.fromProfile(values.profile)
  : new EmbeddedLedger({
      orgs: [values.requester, ...verifierOrgs],
      ...(values.path ? { path: values.path } : {}),
    });
const requester = new SecureIdClient(ledger, values.requester);

// Verifier organisations already registered keep their attestation signers; the others get a throwaway one.
const registered = new Set((await requester.getVerifierOrgs()).map((o) => o.mspId));
for (const org of verifierOrgs.filter((o) => !registered.has(o))) {
  await new SecureIdClient(ledger, org).registerVerifierOrg(`0x${toHex(randomBytes(20))}`);
}

async function enrol(kind: "honest" | "revoked" | "forged-document"): Promise<BenchDevice> {
  const device = DeviceIdentity.generate();
  const meter = `0x${toHex(randomBytes(20))}`;
  const attributes = { manufacturer: "Eastron", model: "SDM630", serial: `BENCH-${toHex(randomBytes(4))}` };
  const { document } = await device.provision(requester, { meter, attributes });
  const sealed =
    kind === "forged-document" ? { ...document, attributes: { ...attributes, serial: "SWAPPED" } } : document;
  await device.keymaker(requester, { document: sealed, verifiers: verifierOrgs, k });
  if (kind === "revoked") await requester.revokeIdentity(device.deviceId, "benchmark: revoked");
  return { device, identity: await requester.getIdentity(device.deviceId) };
}

const setupStart = performance.now();
const honest = [];
for (let i = 0; i < deviceCount; i++) honest.push(await enrol("honest"));
const special = { revoked: await enrol("revoked"), "forged-document": await enrol("forged-document") };
for (const target of honest) target.capturedResponse = await captureResponse(requester, target);
const setupMs = performance.now() - setupStart;

const totals: number[] = [];
const ledgerParts: number[] = [];
let falseNegatives = 0;
const negatives: string[] = [];
for (let round = 0; round < perDevice; round++) {
  for (const { device } of honest) {
    try {
      const outcome = await new Keychecker(requester).verify(device.deviceId, device);
      if (!outcome.ok) {
        falseNegatives++;
        negatives.push(outcome.reason);
      }
      totals.push(outcome.timings.total);
      ledgerParts.push(outcome.timings.request + outcome.timings.release + outcome.timings.record);
    } catch (error) {
      falseNegatives++;
      negatives.push(error instanceof Error ? error.message : String(error));
    }
  }
}

const attackNames = Object.keys(ATTACKS);
const attackTally = new Map(
  attackNames.map((name) => [name, { runs: 0, accepted: 0, refusals: new Set<string>() }]),
);
for (let i = 0; i < adversarial; i++) {
  const name = attackNames[i % attackNames.length]!;
  const attack = ATTACKS[name]!;
  const target = attack.on === "honest" ? honest[i % honest.length]! : special[attack.on];
  const result = await attack.run(requester, target);
  const tally = attackTally.get(name)!;
  tally.runs++;
  if (result.accepted) tally.accepted++;
  tally.refusals.add(result.refusal.split(":")[0]!);
}
await ledger.close();

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
};
const falsePositives = [...attackTally.values()].reduce((sum, t) => sum + t.accepted, 0);
const summary = {
  ledger: values.profile
    ? `Fabric network (${values.profile})`
    : `embedded ledger (${values.path ? `SQLite ${values.path}` : "in memory"})`,
  devices: deviceCount,
  verifiers: verifierOrgs.length,
  k,
  verifications: deviceCount * perDevice,
  adversarial,
  falsePositives,
  falseNegatives,
  setupSeconds: setupMs / 1000,
  fullMs: { p50: quantile(totals, 0.5), p95: quantile(totals, 0.95), max: Math.max(...totals) },
  ledgerMs: {
    p50: quantile(ledgerParts, 0.5),
    p95: quantile(ledgerParts, 0.95),
    max: Math.max(...ledgerParts),
  },
  attacks: Object.fromEntries(
    [...attackTally].map(([name, t]) => [
      name,
      { runs: t.runs, accepted: t.accepted, refusedWith: [...t.refusals] },
    ]),
  ),
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} else {
  const ms = (x: number) => x.toFixed(1);
  const lines = [
    `Secure ID benchmark on the ${summary.ledger}: ${deviceCount} devices, ${verifierOrgs.length} verifiers, k = ${k}`,
    ``,
    `| measure | value |`,
    `| --- | --- |`,
    `| honest verifications | ${deviceCount * perDevice} |`,
    `| false negatives | ${falseNegatives} |`,
    `| adversarial verifications | ${adversarial} |`,
    `| false positives | ${falsePositives} |`,
    `| full verification p50 / p95 / max (ms) | ${ms(summary.fullMs.p50)} / ${ms(summary.fullMs.p95)} / ${ms(summary.fullMs.max)} |`,
    `| ledger part p50 / p95 / max (ms) | ${ms(summary.ledgerMs.p50)} / ${ms(summary.ledgerMs.p95)} / ${ms(summary.ledgerMs.max)} |`,
    `| set-up (provision + Keymaker, s) | ${summary.setupSeconds.toFixed(1)} |`,
    ``,
    `| attack | runs | accepted | refused with |`,
    `| --- | --- | --- | --- |`,
    ...Object.entries(summary.attacks).map(
      ([name, t]) => `| ${name} | ${t.runs} | ${t.accepted} | ${t.refusedWith.join(", ")} |`,
    ),
  ];
  if (negatives.length > 0) lines.push("", "false negatives:", ...negatives.slice(0, 5).map((n) => `  ${n}`));
  process.stdout.write(`${lines.join("\n")}\n`);
}
process.exitCode = falsePositives + falseNegatives > 0 ? 1 : 0;
