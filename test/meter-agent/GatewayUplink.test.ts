import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Address } from "@gridmesh/contracts";
import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";

import { createLogger } from "../../gateway/src/common/logger.js";
import { ReadingIntake } from "../../gateway/src/relay/readingIntake.js";
import { handleReadings } from "../../gateway/src/api/readingsEndpoint.js";
import { registryActivity } from "../../gateway/src/relay/registryActivity.js";
import { createDatabase, migrate, type Database } from "../../gateway/src/store/index.js";
import { Forwarder } from "../../meter-agent/src/forward/forwarder.js";
import { HttpUplink } from "../../meter-agent/src/forward/httpUplink.js";
import { ReadingRecorder } from "../../meter-agent/src/readings/readingRecorder.js";
import { ReadingSigner } from "../../meter-agent/src/signing/readingSigner.js";
import { ReadingStore } from "../../meter-agent/src/store/readingStore.js";
import { deployGridMesh, intervalClock } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

/**
 * A meter agent's store-and-forward into the gateway's readings endpoint: the agent's real
 * forwarder and HTTP uplink, the gateway's real intake on its embedded database, meter activity
 * read from the real MeterRegistry.
 */
describe("meter agent → gateway readings endpoint", function () {
  let dir: string;
  let db: Database;
  let server: Server;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "gridmesh-gateway-uplink-"))));
  afterEach(async () => {
    server?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("delivers the agent's readings newest first; the gateway stores each once, after checking them", async function () {
    const gm = await deployGridMesh(ethers);
    const clock = intervalClock(networkHelpers);
    const t0 = await clock.openInterval(2n);
    const meter = await gm.activeMeter(gm.alice);
    const outsider = await gm.enrollMeter(gm.bob); // enrolled, never activated
    const ledger = (await gm.ledger.getAddress()) as Address;
    const chainId = (await ethers.provider.getNetwork()).chainId;

    const logger = createLogger({ level: "silent" });
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
    const activity = registryActivity((await gm.registry.getAddress()) as Address, ethers.provider);
    const intake = new ReadingIntake({ db, chainId, ledger, intervalSeconds: 60, activity });
    server = createServer((req, res) => void handleReadings(req, res, intake));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/readings`;

    async function agentStore(name: string, wallet: typeof meter, intervals: number) {
      const store = ReadingStore.open(join(dir, `${name}.db`), wallet.address as Address);
      const signer = new ReadingSigner(wallet, wallet.address as Address, { chainId, ledger });
      const recorder = new ReadingRecorder({ store, signer, intervalSeconds: 60, toleranceMs: 1000 });
      for (let i = 0; i <= intervals; i++) {
        const at = Number(clock.start(t0 + BigInt(i))) * 1000;
        await recorder.record({ importWh: 500n + 7n * BigInt(i), exportWh: 40n * BigInt(i), atMs: at });
      }
      return store;
    }
    const store = await agentStore("alice", meter, 6);
    const forwarder = new Forwarder({
      store,
      uplink: new HttpUplink({ url, batchSize: 4 }),
      log: pino({ level: "silent" }),
    });
    expect(await forwarder.sendOnce()).to.equal(4); // sequences 6, 5, 4, 3
    expect(await forwarder.sendOnce()).to.equal(2); // then 2, 1
    expect(forwarder.stats).to.include({ delivered: 6, duplicates: 0, rejected: 0 });
    const rows = await db.query<{ sequence: string; import_end_wh: string }>(
      "SELECT sequence::text, import_end_wh::text FROM readings ORDER BY sequence",
    );
    expect(rows.rows.map((r) => r.sequence)).to.deep.equal(["1", "2", "3", "4", "5", "6"]);
    expect(rows.rows[5]!.import_end_wh).to.equal("542");

    // The same readings again, as after an agent crash before it heard back: duplicates, harmless.
    const again = await agentStore("alice-again", meter, 6);
    const resend = new Forwarder({
      store: again,
      uplink: new HttpUplink({ url, batchSize: 10 }),
      log: pino({ level: "silent" }),
    });
    await resend.sendOnce();
    expect(resend.stats).to.include({ duplicates: 6, delivered: 0 });

    // A meter the registry never activated: refused, kept aside by the agent, nothing stored.
    const inactive = await agentStore("bob", outsider.meter, 1);
    const refused = new Forwarder({
      store: inactive,
      uplink: new HttpUplink({ url }),
      log: pino({ level: "silent" }),
    });
    await refused.sendOnce();
    expect(refused.stats.rejected).to.equal(1);
    expect(inactive.get(1n)?.expiredReason).to.match(/was not active throughout/);
    const count = await db.query<{ n: bigint }>("SELECT count(*)::bigint AS n FROM readings");
    expect(count.rows[0]!.n).to.equal(6n);
    for (const s of [store, again, inactive]) s.close();
  });
});
