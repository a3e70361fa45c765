import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";

import { ConfigError } from "../../common/errors.js";
import { createLogger } from "../../common/logger.js";
import { createDatabase, migrate, type Database } from "../../store/index.js";
import { applyFleet } from "./applyFleet.js";
import { loadFleet, type Fleet } from "./fleetFile.js";

const logger = createLogger({ level: "silent" });
const METER_A = `0x${"aa".repeat(20)}`;
const METER_B = `0x${"BB".repeat(20)}`;
const NOW = Date.parse("2026-03-10T09:30:00Z");

describe("fleet file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gridmesh-fleet-"));
    writeFileSync(join(dir, "res-1.token"), "a-token-of-sixteen-or-more\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (fleet: unknown) => {
    const path = join(dir, "fleet.json");
    writeFileSync(path, JSON.stringify(fleet));
    return path;
  };
  const controller = (overrides: Record<string, unknown> = {}) => ({
    id: "res-1",
    location: "residential",
    url: "http://127.0.0.1:7001",
    tokenFile: "res-1.token",
    accounts: [{ accountNumber: "A-1", initialBaseBill: "25000000" }],
    meters: [{ address: METER_B, account: "A-1", function: "meter", direction: "import" }],
    ...overrides,
  });
  const problemsOf = async (path: string) => {
    const error = await loadFleet(path).then(
      () => assert.fail("loaded"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError);
    return error.problems;
  };

  it("loads a fleet: token files resolved beside it, addresses lower-cased, money as bigint", async () => {
    const fleet = await loadFleet(write({ controllers: [controller()] }));
    const c = fleet.controllers[0]!;
    assert.equal(c.tokenFile, join(dir, "res-1.token"));
    assert.equal(c.meters[0]!.address, METER_B.toLowerCase());
    assert.equal(c.accounts[0]!.initialBaseBill, 25_000_000n);
  });

  it("names every problem at once, with its place in the file", async () => {
    const problems = await problemsOf(
      write({
        controllers: [
          controller({ accounts: [{ accountNumber: "A-1", initialBaseBill: 25 }] }),
          controller({
            location: "castle",
            url: "ftp://x",
            accounts: [{ accountNumber: "A-1", initialBaseBill: "1" }],
            meters: [{ address: METER_B, account: "A-9", function: "meter", direction: "import" }],
          }),
        ],
      }),
    );
    const expected = [
      /controllers\.0\.accounts\.0\.initialBaseBill: /,
      /controllers\.1\.location: /,
      /controllers\.1\.url: must be an http\(s\) URL/,
    ];
    for (const re of expected)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in ${problems.join("\n")}`,
      );
    assert.ok(problems.every((p) => p.startsWith(`fleet file ${join(dir, "fleet.json")}: `)));
  });

  it("refuses duplicates across controllers and meters on another controller's account", async () => {
    const problems = await problemsOf(
      write({
        controllers: [
          controller(),
          controller({
            accounts: [{ accountNumber: "A-1", initialBaseBill: "1" }],
            meters: [
              { address: METER_B.toLowerCase(), account: "A-7", function: "meter", direction: "import" },
            ],
          }),
        ],
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.replace(/^fleet file [^:]+: /, "")),
      [
        "controllers.1.id: res-1 is listed twice",
        "controllers.1.accounts.0.accountNumber: A-1 is already an account of controller res-1",
        `controllers.1.meters.0.address: ${METER_B.toLowerCase()} is already a meter of controller res-1`,
        "controllers.1.meters.0.account: A-7 is not an account of controller res-1",
      ],
    );
  });

  it("refuses a missing or empty token file without showing its content", async () => {
    writeFileSync(join(dir, "short.token"), "secret\n");
    const problems = await problemsOf(
      write({
        controllers: [
          controller({ tokenFile: "short.token" }),
          controller({
            id: "res-2",
            tokenFile: "nowhere",
            accounts: [{ accountNumber: "B-1", initialBaseBill: "1" }],
            meters: [{ address: METER_A, account: "B-1", function: "meter", direction: "import" }],
          }),
        ],
      }),
    );
    assert.equal(problems.length, 2);
    assert.match(
      problems[0]!,
      /controller res-1: token file .*short\.token must hold one token of 16 or more/,
    );
    assert.match(problems[1]!, /controller res-2: token file .*nowhere cannot be read: ENOENT/);
    assert.ok(!problems.join().includes("secret"));
  });
});

describe("applyFleet", () => {
  let db: Database;
  before(async () => {
    db = await createDatabase({ database: { kind: "memory" }, logger });
    await migrate(db, { logger });
  });
  after(() => db.close());
  beforeEach(async () => {
    for (const t of ["smart_meters", "customer_accounts", "microgrid_controllers"])
      await db.query(`DELETE FROM ${t}`);
  });

  const fleet = (initialBaseBill = 25_000_000n, url = "http://127.0.0.1:7001"): Fleet => ({
    controllers: [
      {
        id: "res-1",
        location: "residential",
        url,
        tokenFile: "/dev/null",
        accounts: [
          { accountNumber: "A-1", initialBaseBill },
          { accountNumber: "A-2", initialBaseBill: 10n },
        ],
        meters: [
          {
            address: METER_A as `0x${string}`,
            account: "A-1",
            function: "meter_with_battery",
            direction: "bidirectional",
          },
          {
            address: METER_B.toLowerCase() as `0x${string}`,
            account: "A-2",
            function: "meter",
            direction: "import",
          },
        ],
      },
    ],
  });
  const account = async (n: string) =>
    (
      await db.query<{ initial_base_bill: string; base_bill: string }>(
        "SELECT initial_base_bill, base_bill FROM customer_accounts WHERE account_number = $1",
        [n],
      )
    ).rows[0];

  it("inserts what is new, changes what changed, and nothing on a second run", async () => {
    const first = await applyFleet(db, fleet(), { now: NOW });
    assert.deepEqual(
      [first.controllers, first.accounts, first.meters],
      [
        { inserted: 1, updated: 0 },
        { inserted: 2, updated: 0 },
        { inserted: 2, updated: 0 },
      ],
    );
    assert.deepEqual(await account("A-1"), { initial_base_bill: "25000000", base_bill: "25000000" });
    const { rows } = await db.query<{ created_at: Date }>("SELECT created_at FROM microgrid_controllers");
    assert.equal(rows[0]!.created_at.getTime(), NOW, "times come from the utility's clock");

    const again = await applyFleet(db, fleet(), { now: NOW + 1000 });
    assert.deepEqual(
      [again.controllers, again.accounts, again.meters],
      [
        { inserted: 0, updated: 0 },
        { inserted: 0, updated: 0 },
        { inserted: 0, updated: 0 },
      ],
    );
    const moved = await applyFleet(db, fleet(25_000_000n, "http://10.0.0.2:7001"), { now: NOW + 2000 });
    assert.deepEqual(moved.controllers, { inserted: 0, updated: 1 });
  });

  it("keeps a base bill billing adjusted, and lets a raised initial base bill lift only the cap", async () => {
    await applyFleet(db, fleet(), { now: NOW });
    await db.query("UPDATE customer_accounts SET base_bill = 18750000 WHERE account_number = 'A-1'");
    await applyFleet(db, fleet(30_000_000n), { now: NOW });
    assert.deepEqual(await account("A-1"), { initial_base_bill: "30000000", base_bill: "18750000" });
  });

  it("refuses to lower an initial base bill unless allowed, changing nothing; allowed, it clamps", async () => {
    await applyFleet(db, fleet(), { now: NOW });
    const lowered = fleet(20_000_000n, "http://10.0.0.9:7001");
    await assert.rejects(applyFleet(db, lowered, { now: NOW }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.problems[0]!, /^account A-1: initial base bill 25000000 would be lowered to 20000000/);
      return true;
    });
    const { rows } = await db.query<{ url: string }>("SELECT url FROM microgrid_controllers");
    assert.equal(rows[0]!.url, "http://127.0.0.1:7001", "the whole fleet was refused");

    await applyFleet(db, lowered, { now: NOW, allowLowerBaseBills: true });
    assert.deepEqual(await account("A-1"), { initial_base_bill: "20000000", base_bill: "20000000" });
  });

  it("keeps and reports what the fleet no longer lists", async () => {
    await applyFleet(db, fleet(), { now: NOW });
    const smaller = fleet();
    smaller.controllers[0]!.meters.pop();
    smaller.controllers[0]!.accounts.pop();
    const result = await applyFleet(db, smaller, { now: NOW });
    assert.deepEqual(result.notInFleet, {
      controllers: [],
      accounts: ["A-2"],
      meters: [METER_B.toLowerCase()],
    });
    const { rows } = await db.query("SELECT meter FROM smart_meters");
    assert.equal(rows.length, 2);
  });
});
