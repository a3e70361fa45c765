import { rmSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Address } from "@gridmesh/contracts";
import { Wallet, type HDNodeWallet } from "ethers";

import { NetworkLink } from "../../helpers/networkLink.js";
import type { ServiceProcess } from "../../helpers/serviceProcess.js";
import { ControllerProcess, type ControllerLocation } from "./controllerProcess.js";
import { freePorts } from "./freePorts.js";
import { createMeterKey, MeterAgentProcess, type MeterAgentSpec } from "./meterAgentProcess.js";
import { parseLogLines } from "./processLog.js";
import type { SimClock } from "./simClock.js";
import { UtilityProcess, type UtilitySupplySettings } from "./utilityProcess.js";

/** A home of the town: its meter agent, and the customer account it bills to. */
export interface HomeSpec extends MeterAgentSpec {
  account: string;
  /** Token base units. */
  initialBaseBill: bigint;
}

export interface MicrogridSpec {
  id: string;
  location: ControllerLocation;
  homes: HomeSpec[];
}

export interface Microgrid {
  spec: MicrogridSpec;
  agents: MeterAgentProcess[];
  controller: ControllerProcess;
  /** The town's network between the utility and this controller, in each direction. */
  links: { toController: NetworkLink; toUtility: NetworkLink };
}

/**
 * A whole town as seed 000 draws it, every part a real process on loopback and one simulated
 * clock: meter agents, one microgrid controller per microgrid, the central utility, and a cuttable
 * network link between the utility and each controller both ways. Processes are recorded as they
 * start, so `close` stops every one that started even when starting the rest failed.
 */
export class MicrogridTown {
  readonly clock: SimClock;
  /** Signs `status` commands to the agents as a controller of its own: the test's view of a meter. */
  readonly observer: HDNodeWallet = Wallet.createRandom();
  readonly microgrids: Microgrid[] = [];
  readonly #spec: readonly MicrogridSpec[];
  readonly #supply: UtilitySupplySettings;
  readonly #agents: MeterAgentProcess[] = [];
  readonly #controllers: ControllerProcess[] = [];
  readonly #links: NetworkLink[] = [];
  #utility: UtilityProcess | undefined;
  #dir: string | undefined;

  constructor(spec: readonly MicrogridSpec[], options: { clock: SimClock; supply: UtilitySupplySettings }) {
    this.#spec = spec;
    this.clock = options.clock;
    this.#supply = options.supply;
  }

  get utility(): UtilityProcess {
    if (this.#utility === undefined) throw new Error("the town has no utility yet");
    return this.#utility;
  }

  get agents(): readonly MeterAgentProcess[] {
    return this.#agents;
  }

  microgrid(id: string): Microgrid {
    const found = this.microgrids.find((m) => m.spec.id === id);
    if (found === undefined) throw new Error(`the town has no microgrid ${id}`);
    return found;
  }

  agent(name: string): MeterAgentProcess {
    const found = this.#agents.find((a) => a.spec.name === name);
    if (found === undefined) throw new Error(`the town has no home ${name}`);
    return found;
  }

  /**
   * Starts the utility, then every agent and controller at once: ports and keys are fixed first, so
   * each process is configured with the others' addresses before any of them runs (the agents'
   * command URLs in the controllers, the controllers' links in the utility's fleet, the utility's
   * port, where it restarts after the storm, in the controllers' health links).
   */
  async start(): Promise<void> {
    const dir = (this.#dir = await mkdtemp(join(tmpdir(), "gridmesh-use-cases-")));
    const homes = this.#spec.flatMap((grid, g) => grid.homes.map((home) => ({ g, home })));
    const [utilityPort, ...ports] = await freePorts(1 + this.#spec.length + homes.length);
    const keys = this.#spec.map(() => Wallet.createRandom());
    const agentDir = (name: string) => join(dir, "agents", name);
    const meters = await Promise.all(homes.map(({ home }) => createMeterKey(agentDir(home.name))));
    const agentPort = (i: number) => ports[this.#spec.length + i]!;

    const grids = await Promise.all(
      this.#spec.map(async (grid, g) => {
        const toUtility = this.#link(`http://127.0.0.1:${utilityPort}`);
        const toController = this.#link(`http://127.0.0.1:${ports[g]}`);
        await Promise.all([toUtility.up(), toController.up()]);
        return {
          grid,
          g,
          toUtility,
          toController,
          token: `utility-token-${grid.id}-${keys[g]!.address.slice(2, 18)}`,
        };
      }),
    );
    const homesOf = (g: number) =>
      homes.flatMap((h, i) => (h.g === g ? [{ ...h, i, meter: meters[i]! }] : []));
    const fleetFile = join(dir, "fleet.json");
    await writeFile(fleetFile, JSON.stringify(this.#fleet(grids, homesOf)));
    for (const { grid, token } of grids)
      await writeFile(join(dir, `${grid.id}.token`), token, { mode: 0o600 });
    const supplyFile = join(dir, "regional-supply.json");
    this.#utility = new UtilityProcess({
      dir,
      port: utilityPort!,
      fleetFile,
      supplyFile,
      supply: this.#supply,
      clock: this.clock,
    });
    await this.#utility.setSupply("NORMAL");

    const startAgent = async ({ g, home, i, meter }: ReturnType<typeof homesOf>[number]) => {
      const agent = await MeterAgentProcess.start(meter, {
        dir: agentDir(home.name),
        spec: home,
        clock: this.clock,
        controllers: [keys[g]!.address as Address, this.observer.address as Address],
        port: agentPort(i),
      });
      this.#agents.push(agent);
      return agent;
    };
    const startGrid = async ({ grid, g, toUtility, toController, token }: (typeof grids)[number]) => {
      const own = homesOf(g);
      const controller = ControllerProcess.start({
        dir: join(dir, "controllers", grid.id),
        id: grid.id,
        location: grid.location,
        wallet: keys[g]!,
        meters: own.map((h) => ({
          meter: h.meter,
          url: `http://127.0.0.1:${agentPort(h.i)}`,
          battery: h.home.battery !== undefined,
        })),
        port: ports[g]!,
        healthUrl: `${toUtility.url}/v1/health`,
        token,
        clock: this.clock,
      }).then((c) => (this.#controllers.push(c), c));
      const [agents, started] = await allStarted([allStarted(own.map(startAgent)), controller]);
      return { spec: grid, agents, controller: started, links: { toController, toUtility } };
    };
    // The utility first: the fleet joins the CIDB when it starts, and it collects controller hours
    // from that hour on, so no controller may have received a reading in an hour before it.
    await this.#utility.start();
    this.microgrids.push(...(await allStarted(grids.map(startGrid))));
  }

  /** Cuts both links of these microgrids: they are cut off from the utility, and it from them. */
  async isolate(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const { links } = this.microgrid(id);
      await Promise.all([links.toController.down(), links.toUtility.down()]);
    }
  }

  async reconnect(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const { links } = this.microgrid(id);
      await Promise.all([links.toController.up(), links.toUtility.up()]);
    }
  }

  /** Every process, for failure reports. */
  processes(): { name: string; output: () => string }[] {
    const own = (s: ServiceProcess) => ({ name: s.name, output: () => s.output() });
    return [
      ...(this.#utility === undefined ? [] : [{ name: "utility", output: () => this.#utility!.output() }]),
      ...this.#controllers.map((c) => own(c.service)),
      ...this.#agents.map((a) => own(a.service)),
    ];
  }

  /** The warnings and errors each process logged, and its last lines: what a failed case needs. */
  report(maxLines = 40): string {
    return this.processes()
      .map(({ name, output }) => {
        const text = output();
        const lines = parseLogLines(text);
        const serious = lines
          .filter((l) => typeof l.level === "number" && l.level >= 40)
          .slice(-maxLines)
          .map((l) => JSON.stringify(l));
        const tail = text.split("\n").slice(-10);
        return `--- ${name}: ${serious.length} warnings/errors (last ${maxLines})\n${serious.join("\n")}\n--- tail\n${tail.join("\n")}`;
      })
      .join("\n");
  }

  /** Stops every process that started and removes the town's files. */
  async close(): Promise<void> {
    const stops = [
      this.#utility?.stop() ?? Promise.resolve(),
      ...this.#controllers.map((c) => c.service.stop()),
      ...this.#agents.map((a) => a.service.stop()),
    ];
    await Promise.allSettled(stops);
    await Promise.allSettled(this.#links.map((l) => l.down()));
    if (this.#dir === undefined) return;
    if (process.env.GRIDMESH_KEEP_TEST_DIR === undefined) {
      rmSync(this.#dir, { recursive: true, force: true });
      return;
    }
    await mkdir(join(this.#dir, "logs"), { recursive: true });
    for (const { name, output } of this.processes())
      await writeFile(join(this.#dir, "logs", `${name.replaceAll(/[^a-z0-9-]+/gi, "_")}.log`), output());
    console.log(`the town's files and logs are kept in ${this.#dir}`);
  }

  #link(target: string): NetworkLink {
    const link = new NetworkLink(target);
    this.#links.push(link);
    return link;
  }

  #fleet(
    grids: readonly { grid: MicrogridSpec; toController: NetworkLink }[],
    homesOf: (g: number) => { home: HomeSpec; meter: Address }[],
  ) {
    return {
      controllers: grids.map(({ grid, toController }, g) => ({
        id: grid.id,
        location: grid.location,
        url: toController.url,
        tokenFile: `${grid.id}.token`,
        accounts: grid.homes.map((h) => ({
          accountNumber: h.account,
          initialBaseBill: h.initialBaseBill.toString(),
        })),
        meters: homesOf(g).map(({ home, meter }) => ({
          address: meter,
          account: home.account,
          function: home.battery === undefined ? "meter" : "meter_with_battery",
          direction: "bidirectional",
        })),
      })),
    };
  }
}

/**
 * Like Promise.all, but waits for every start to settle before failing: a process still starting
 * when another fails is then registered (or killed) before the town is closed.
 */
async function allStarted<T extends readonly unknown[]>(starts: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
