import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createLogger, type Logger } from "../../common/logger.js";
import type { Database } from "../../store/index.js";
import { loadFleet, type Fleet } from "../fleet/fleetFile.js";
import { parseUtilityConfig, type UtilityConfigInput } from "../utilityConfig.js";
import { UtilityService } from "../utilityService.js";
import { FakeController } from "./fakeController.js";
import { CHAIN_ID, INTERVAL_SECONDS, LEDGER, type TestMeter } from "./signedReadings.js";
import { TestClock } from "./testClock.js";

export interface FixtureController {
  id: string;
  location?: "residential" | "apartment" | "emergency";
  meters: TestMeter[];
}

export interface UtilityFixture {
  db: Database;
  clock: TestClock;
  fleet: Fleet;
  fleetFile: string;
  controller(id: string): FakeController;
  service: UtilityService;
  /** A new service on the same database, as after the utility process restarted. */
  restart(): Promise<UtilityService>;
  close(): Promise<void>;
}

/**
 * A utility wired to fake controllers over loopback: token files and a fleet file in a temporary
 * directory (loaded through loadFleet, as in production), meters with real keys, the service on a
 * TestClock standing at `startMs`. Each meter's account is `acct-<address prefix>`.
 */
export async function utilityFixture(options: {
  db: Database;
  startMs: number;
  controllers: FixtureController[];
  config?: Partial<UtilityConfigInput>;
  logger?: Logger;
}): Promise<UtilityFixture> {
  const clock = new TestClock(options.startMs);
  const dir = mkdtempSync(join(tmpdir(), "gridmesh-utility-"));
  const fakes = new Map<string, FakeController>();
  for (const c of options.controllers) fakes.set(c.id, await FakeController.start(c.id, clock));
  const fleetFile = join(dir, "fleet.json");
  writeFileSync(
    fleetFile,
    JSON.stringify({
      controllers: options.controllers.map((c) => {
        writeFileSync(join(dir, `${c.id}.token`), `${fakes.get(c.id)!.token}\n`);
        return {
          id: c.id,
          location: c.location ?? "residential",
          url: fakes.get(c.id)!.url,
          tokenFile: `${c.id}.token`,
          accounts: c.meters.map((m) => ({ accountNumber: accountOf(m), initialBaseBill: "25000000" })),
          meters: c.meters.map((m) => ({
            address: m.address,
            account: accountOf(m),
            function: "meter_with_battery",
            direction: "bidirectional",
          })),
        };
      }),
    }),
  );
  const fleet = await loadFleet(fleetFile);
  const config = parseUtilityConfig({
    fleetFile,
    readings: { chainId: CHAIN_ID, deliveryLedger: LEDGER, intervalSeconds: INTERVAL_SECONDS },
    signatureWorkers: 0,
    ...options.config,
  });
  const logger = options.logger ?? createLogger({ level: "silent" });
  const make = () => UtilityService.create({ db: options.db, config, fleet, clock, logger });
  const fixture: UtilityFixture = {
    db: options.db,
    clock,
    fleet,
    fleetFile,
    controller: (id) => fakes.get(id)!,
    service: await make(),
    async restart() {
      await fixture.service.stop();
      fixture.service = await make();
      return fixture.service;
    },
    async close() {
      await fixture.service.stop();
      await Promise.all([...fakes.values()].map((f) => f.down()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export const accountOf = (m: TestMeter) => `acct-${m.address.slice(2, 10)}`;
