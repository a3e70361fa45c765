import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { DeviceIdentity } from "../client/deviceIdentity.js";
import { EmbeddedLedger } from "../client/embeddedLedger.js";
import { FabricLedger, type SubmitTiming } from "../client/fabricLedger.js";
import { Keychecker, type VerificationTimings } from "../client/keychecker.js";
import { SecureIdClient } from "../client/secureIdClient.js";
import type { SecureIdLedger } from "../client/secureIdLedger.js";
import { toHex } from "../protocol/hex.js";
import { ATTACKS, captureResponse, type BenchDevice } from "./adversaries.js";
import { benchNetwork, type BenchNetwork } from "./benchNetwork.js";

/**
 * Seed 004's experiment (Table IV.3.1), bettered: provision and Keymaker for D devices, V Keychecker
 * verifications per device, and A adversarial verifications, on the embedded ledger, on a running Fabric
 * network (--profile), or with --fabric on the configured home's network if it runs, else on one brought
 * up for the run and taken down after it. Prints false positives and negatives and the latency of a full
 * verification, of its ledger part and, on Fabric, of its endorsement part, phase by phase.
 */
const { values } = parseArgs({
  options: {
    fabric: { type: "boolean", default: false },
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

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
let network: BenchNetwork | undefined;
if (values.profile) {
  const profilePath = values.profile;
  network = { profilePath, description: `the network of ${profilePath}`, release: () => Promise.resolve() };
} else if (values.fabric) {
  network = await benchNetwork(progress);
  // Ctrl-C must not leave a network the benchmark started running.
  process.once("SIGINT", () => void network?.release().finally(() => process.exit(130)));
}

/** The ordered transactions of the verification under way, as FabricLedger reports them. */
let submits: SubmitTiming[] = [];
const ledger: SecureIdLedger = network
  ? await FabricLedger.fromProfile(network.profilePath, { onSubmitted: (t) => void submits.push(t) })
  : new EmbeddedLedger({
      orgs: [values.requester, ...verifierOrgs],
      ...(values.path ? { path: values.path } : {}),
    });
const requester = new SecureIdClient(ledger, values.requester);

async function run(): Promise<void> {
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
      kind === "forged-document"
        ? { ...document, attributes: { ...attributes, serial: "SWAPPED" } }
        : document;
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

  const series = new Map<string, number[]>();
  const record = (name: string, ms: number) => series.set(name, [...(series.get(name) ?? []), ms]);
  let falseNegatives = 0;
  const negatives: string[] = [];
  for (let round = 0; round < perDevice; round++) {
    for (const { device } of honest) {
      submits = [];
      try {
        const outcome = await new Keychecker(requester).verify(device.deviceId, device);
        if (!outcome.ok) {
          falseNegatives++;
          negatives.push(outcome.reason);
        }
        recordVerification(record, outcome.timings, submits);
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

  const falsePositives = [...attackTally.values()].reduce((sum, t) => sum + t.accepted, 0);
  const latency = Object.fromEntries(
    [...series].map(([name, xs]) => [
      name,
      {
        mean: xs.reduce((sum, x) => sum + x, 0) / xs.length,
        p50: quantile(xs, 0.5),
        p95: quantile(xs, 0.95),
        max: Math.max(...xs),
      },
    ]),
  );
  const summary = {
    ledger: network
      ? `Fabric: ${network.description}`
      : `embedded ledger (${values.path ? `SQLite ${values.path}` : "in memory"})`,
    devices: deviceCount,
    verifiers: verifierOrgs.length,
    k,
    verifications: deviceCount * perDevice,
    adversarial,
    falsePositives,
    falseNegatives,
    setupSeconds: setupMs / 1000,
    latencyMs: latency,
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
      `| set-up (provision + Keymaker of ${deviceCount + 2} devices, s) | ${summary.setupSeconds.toFixed(1)} |`,
      ``,
      `| latency of one verification (ms) | p50 | p95 | max | mean |`,
      `| --- | ---: | ---: | ---: | ---: |`,
      ...Object.entries(latency).map(
        ([name, q]) =>
          `| ${LABELS[name] ?? name} | ${ms(q.p50)} | ${ms(q.p95)} | ${ms(q.max)} | ${ms(q.mean)} |`,
      ),
      ``,
      `| attack | runs | accepted | refused with |`,
      `| --- | --- | --- | --- |`,
      ...Object.entries(summary.attacks).map(
        ([name, t]) => `| ${name} | ${t.runs} | ${t.accepted} | ${t.refusedWith.join(", ")} |`,
      ),
    ];
    if (negatives.length > 0)
      lines.push("", "false negatives:", ...negatives.slice(0, 5).map((n) => `  ${n}`));
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  process.exitCode = falsePositives + falseNegatives > 0 ? 1 : 0;
}

const LABELS: Record<string, string> = {
  total: "full verification",
  ledger: "ledger part (request + releases + verdict)",
  endorsement: "endorsement part (both endorsements + releases)",
  ordering: "ordering and commit part (both transactions)",
  consent: "phase: device consent",
  request: "phase: RequestVerification",
  "request.endorse": "RequestVerification: endorsement",
  "request.order": "RequestVerification: ordering and commit",
  release: "phase: k ReleaseShard evaluations, in parallel",
  combine: "phase: check, combine shards, decrypt, compare",
  challenge: "phase: device challenge response",
  record: "phase: RecordVerdict",
  "record.endorse": "RecordVerdict: endorsement",
  "record.order": "RecordVerdict: ordering and commit",
};

/**
 * Files one verification's timings. The releases are evaluations, chaincode executed on the verifiers'
 * peers and nothing ordered, so they count as endorsement; the two transactions split in endorsement and
 * ordering plus commit when the ledger reports it (FabricLedger does, the embedded ledger does not).
 */
function recordVerification(
  record: (name: string, ms: number) => void,
  t: VerificationTimings,
  ordered: readonly SubmitTiming[],
): void {
  record("total", t.total);
  record("ledger", t.request + t.release + t.record);
  const request = ordered.find((s) => s.fn === "RequestVerification");
  const verdict = ordered.find((s) => s.fn === "RecordVerdict");
  if (request && verdict) {
    record("endorsement", request.endorseMs + t.release + verdict.endorseMs);
    record("ordering", request.submitMs + request.commitMs + verdict.submitMs + verdict.commitMs);
  }
  for (const phase of ["consent", "request", "release", "combine", "challenge", "record"] as const) {
    record(phase, t[phase]);
    const submitted = phase === "request" ? request : phase === "record" ? verdict : undefined;
    if (submitted) {
      record(`${phase}.endorse`, submitted.endorseMs);
      record(`${phase}.order`, submitted.submitMs + submitted.commitMs);
    }
  }
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

try {
  await run();
} finally {
  await ledger.close();
  await network?.release();
}
