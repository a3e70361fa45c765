import { z } from "zod";

import { TopologyConfigError } from "./errors.js";
import { keyIdPattern } from "./network/signing.js";

const name = z.string().min(1, "must be a non-empty name");
const amperes = z.number().nonnegative().finite();

const localBattery = z
  .strictObject({
    name,
    /** "simulated", or a kind with a registered driver such as "jbd". */
    kind: z.string().min(1),
    maxChargeCurrent: amperes,
    maxDischargeCurrent: amperes,
    /** Device kinds: how to reach the device; passed to the driver as is. */
    interface: z.unknown().optional(),
    /** Simulated kind: the cell. */
    capacity: z.number().positive().finite().optional(),
    stateOfCharge: z.number().min(0).max(1).optional(),
    voltage: z.number().positive().finite().optional(),
  })
  .superRefine((b, ctx) => {
    const required =
      b.kind === "simulated" ? (["capacity", "stateOfCharge", "voltage"] as const) : (["interface"] as const);
    for (const key of required) {
      if (b[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: `required for kind "${b.kind}"` });
    }
  });

/** A zod error option: says what a missing field of a network battery is for. */
const requiredForNetwork = (what: string, otherwise?: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined ? `required for kind "network": ${what}` : otherwise,
});

/**
 * A battery served by another node's `BatteryServer`. Its limits come from the remote battery, so
 * it has no current settings; its secret lives in the environment or a file, never in the config.
 */
const networkBattery = z
  .strictObject({
    name,
    kind: z.literal("network"),
    url: z.url({
      protocol: /^https?$/,
      ...requiredForNetwork(
        "the battery server's base URL, e.g. http://10.0.0.2:7400/",
        "must be an http:// or https:// URL",
      ),
    }),
    /** The battery's name on the server, when it differs from `name`. */
    remoteName: name.optional(),
    keyId: z
      .string(requiredForNetwork("the key id the server knows this client by"))
      .regex(keyIdPattern, "must be 1 to 64 letters, digits, dots, dashes or underscores"),
    secretEnv: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
    secret: z
      .never({
        error: "secrets are not written in the config: name a variable (secretEnv) or a file (secretFile)",
      })
      .optional(),
    /** Longest wait for an answer (milliseconds). */
    timeout: z.number().positive().finite().optional(),
  })
  .superRefine(
    (b, ctx) => {
      if ((b.secretEnv === undefined) === (b.secretFile === undefined) && b.secret === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message:
            'kind "network" needs exactly one of secretEnv (an environment variable) or secretFile (a file) holding the shared secret',
        });
      }
    },
    // Also when other fields failed, so that an entry's problems are all listed at once.
    { when: ({ value }) => typeof value === "object" && value !== null },
  );

export type LocalBatteryConfig = z.infer<typeof localBattery>;
export type NetworkBatteryConfig = z.infer<typeof networkBattery>;

export function isNetworkBattery(b: LocalBatteryConfig | NetworkBatteryConfig): b is NetworkBatteryConfig {
  return b.kind === "network";
}

/**
 * The entry's kind picks its schema, so that each kind reports its own missing fields rather than
 * zod's union of every kind's complaints.
 */
const battery = z.unknown().transform((raw, ctx): LocalBatteryConfig | NetworkBatteryConfig => {
  const isNetwork = typeof raw === "object" && raw !== null && (raw as { kind?: unknown }).kind === "network";
  const parsed = isNetwork ? networkBattery.safeParse(raw) : localBattery.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  }
  return z.NEVER;
});

const aggregator = z.strictObject({
  name,
  members: z.array(name).min(1, "needs at least one member"),
  reporting: z.enum(["variableCurrent", "variableCharge"]).default("variableCurrent"),
});

const splitter = z
  .strictObject({
    source: name,
    policy: z.enum(["proportional", "tranched", "reserved"]),
    /** Top partition first: it is the best-protected one under the tranched and reserved policies. */
    partitions: z
      .array(
        z.strictObject({
          name,
          fraction: z.number().gt(0).lte(1),
          charge: z.number().nonnegative().finite().optional(),
        }),
      )
      .min(1, "needs at least one partition"),
  })
  .superRefine((s, ctx) => {
    const total = s.partitions.reduce((a, p) => a + p.fraction, 0);
    if (Math.abs(total - 1) > 1e-9) {
      ctx.addIssue({
        code: "custom",
        path: ["partitions"],
        message: `fractions must sum to 1, got ${total}`,
      });
    }
  });

const topologyConfig = z.strictObject({
  batteries: z.array(battery).default([]),
  aggregators: z.array(aggregator).default([]),
  splitters: z.array(splitter).default([]),
});

/**
 * A battery topology file (JSON). Entries may appear in any order and nest to any depth; for
 * Figure I.2.1 of seed 004:
 *
 *     { "batteries": [ { "name": "A1", "kind": "jbd", "interface": { "path": "/dev/ttyUSB0" },
 *                        "maxChargeCurrent": 20, "maxDischargeCurrent": 30 }, … "A2", "C" ],
 *       "aggregators": [ { "name": "H", "members": ["A1", "A2"] },
 *                        { "name": "O2'", "members": ["O2", "C"] } ],
 *       "splitters": [ { "source": "H", "policy": "proportional",
 *                        "partitions": [ { "name": "O1", "fraction": 0.6 },
 *                                        { "name": "O2", "fraction": 0.4 } ] } ] }
 *
 * A battery on another node joins like any other, here homeowner 2's C served by their own node:
 *
 *     { "name": "C", "kind": "network", "url": "http://10.0.0.2:7400/", "keyId": "hoa",
 *       "secretFile": "/run/credentials/gridmesh/bal-hoa" }
 */
export type TopologyConfig = z.infer<typeof topologyConfig>;

/**
 * Validates a parsed topology file. Every problem is reported at once, each prefixed with the node
 * it concerns (`aggregator "H".members: …`), including references across nodes: unknown names,
 * names defined twice, a battery fed into two parents, and cycles.
 */
export function parseTopologyConfig(raw: unknown): TopologyConfig {
  const parsed = topologyConfig.safeParse(raw);
  if (!parsed.success) {
    throw new TopologyConfigError(
      parsed.error.issues.map((issue) => `${where(raw, issue.path)}: ${issue.message}`),
    );
  }
  const config = parsed.data;
  const problems = [...referenceProblems(config), ...cycleProblems(config)];
  if (problems.length > 0) throw new TopologyConfigError(problems);
  return config;
}

function where(raw: unknown, path: readonly PropertyKey[]): string {
  const [list, index, ...rest] = path;
  if (typeof list !== "string" || typeof index !== "number")
    return path.length === 0 ? "config" : path.join(".");
  const entry = (raw as Record<string, unknown[] | undefined>)[list]?.[index] as
    Record<string, unknown> | undefined;
  const named = (key: string) =>
    typeof entry?.[key] === "string" && entry[key] !== "" ? entry[key] : undefined;
  let node: string;
  if (list === "splitters") {
    const source = named("source");
    node = source === undefined ? `splitters[${index}]` : `splitter of "${source}"`;
    if (rest[0] === "partitions" && typeof rest[1] === "number") {
      const partitions = entry?.partitions as Record<string, unknown>[] | undefined;
      const partition = partitions?.[rest[1]]?.name;
      if (typeof partition === "string" && partition !== "") {
        node = `partition "${partition}" of "${source ?? "?"}"`;
        rest.splice(0, 2);
      }
    }
  } else {
    const n = named("name");
    const kind = list === "batteries" ? "battery" : "aggregator";
    node = n === undefined ? `${list}[${index}]` : `${kind} "${n}"`;
  }
  return rest.length === 0 ? node : `${node}.${rest.join(".")}`;
}

function definitions(config: TopologyConfig): { name: string; node: string }[] {
  return [
    ...config.batteries.map((b) => ({ name: b.name, node: `battery "${b.name}"` })),
    ...config.aggregators.map((a) => ({ name: a.name, node: `aggregator "${a.name}"` })),
    ...config.splitters.flatMap((s) =>
      s.partitions.map((p) => ({ name: p.name, node: `partition "${p.name}" of "${s.source}"` })),
    ),
  ];
}

function uses(config: TopologyConfig): { name: string; node: string }[] {
  return [
    ...config.aggregators.flatMap((a) => a.members.map((m) => ({ name: m, node: `aggregator "${a.name}"` }))),
    ...config.splitters.map((s) => ({ name: s.source, node: `splitter of "${s.source}"` })),
  ];
}

function referenceProblems(config: TopologyConfig): string[] {
  const problems: string[] = [];
  const defined = new Map<string, string>();
  for (const { name, node } of definitions(config)) {
    const first = defined.get(name);
    if (first === undefined) defined.set(name, node);
    else problems.push(`${node}: name "${name}" is already used by ${first}`);
  }
  const usedBy = new Map<string, string>();
  for (const { name, node } of uses(config)) {
    if (!defined.has(name)) problems.push(`${node}: no battery named "${name}"`);
    const first = usedBy.get(name);
    if (first === undefined) usedBy.set(name, node);
    else problems.push(`${node}: battery "${name}" already belongs to ${first}`);
  }
  return problems;
}

/** A node is buildable once its inputs are; whatever never becomes buildable lies on a cycle. */
function cycleProblems(config: TopologyConfig): string[] {
  const built = new Set(config.batteries.map((b) => b.name));
  const defined = new Set(definitions(config).map((d) => d.name));
  let pending = [
    ...config.aggregators.map((a) => ({ node: `aggregator "${a.name}"`, needs: a.members, makes: [a.name] })),
    ...config.splitters.map((s) => ({
      node: `splitter of "${s.source}"`,
      needs: [s.source],
      makes: s.partitions.map((p) => p.name),
    })),
  ].filter((n) => n.needs.every((need) => defined.has(need)));
  for (let progress = true; progress;) {
    progress = false;
    pending = pending.filter((n) => {
      if (!n.needs.every((need) => built.has(need))) return true;
      for (const made of n.makes) built.add(made);
      progress = true;
      return false;
    });
  }
  return pending.length === 0 ? [] : [`cycle: ${pending.map((n) => n.node).join(", ")} depend on each other`];
}
