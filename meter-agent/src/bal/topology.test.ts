import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

import { loadTopology } from "./buildTopology.js";
import { TopologyConfigError } from "./errors.js";
import { Topology } from "./topology.js";

const hour = 3_600_000;
const fixture = fileURLToPath(new URL("figureI21.topology.json", import.meta.url));

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

/**
 * Figure I.2.1: a homeowners' association aggregates A1 and A2 into H and rents unequal partitions
 * O1 and O2 of it; homeowner 2 aggregates O2 with their own battery C into O2'.
 */
function figureByHand(clock: () => number): Topology {
  const t = new Topology({ clock });
  t.makeBattery("A1", "simulated", {
    capacity: 100,
    stateOfCharge: 0.5,
    voltage: 51.2,
    maxChargeCurrent: 50,
    maxDischargeCurrent: 50,
  });
  t.makeBattery("A2", "simulated", {
    capacity: 50,
    stateOfCharge: 0.5,
    voltage: 51.2,
    maxChargeCurrent: 25,
    maxDischargeCurrent: 25,
  });
  t.makeAggregator("H", ["A1", "A2"]);
  t.makeSplitter(
    [
      { name: "O1", fraction: 0.6 },
      { name: "O2", fraction: 0.4 },
    ],
    "H",
    "proportional",
  );
  t.makeBattery("C", "simulated", {
    capacity: 40,
    stateOfCharge: 0.25,
    voltage: 51.2,
    maxChargeCurrent: 20,
    maxDischargeCurrent: 20,
  });
  t.makeAggregator("O2'", ["O2", "C"]);
  return t;
}

/** "Requests to discharge O2' were distributed across O2 and C, and requests from O2 and O1 were
 * merged at H then distributed to A1 and A2." */
async function exerciseFigure(t: Topology, time: { now: number }): Promise<void> {
  const status = (name: string) => t.get(name).getStatus();
  const h = await status("H");
  assert.equal(h.capacity, 150);
  assert.equal(h.stateOfCharge, 0.5);
  close(h.maxDischargeCurrent, 75);
  const [o1, o2] = [await status("O1"), await status("O2")];
  close(o1.capacity, 90);
  close(o1.maxDischargeCurrent, 45);
  close(o2.capacity, 60);
  close(o2.stateOfCharge, 0.5);
  const o2p = await status("O2'");
  close(o2p.capacity, 100);
  close(o2p.stateOfCharge, 0.4);
  // C, at 25 %, binds: 20 A over its 10 Ah sets the rate for the 40 Ah stored in all.
  close(o2p.maxDischargeCurrent, 40);
  close(o2p.expected.maxDischargeCurrent, 50);

  await t.get("O2'").setCurrent(20);
  close((await status("O2")).current, 15);
  close((await status("C")).current, 5);
  close((await status("A1")).current, 10);
  close((await status("A2")).current, 5);

  // O1 charging at 15 A cancels O2's discharge at H: A1 and A2 stop.
  await t.get("O1").setCurrent(-15);
  close((await status("H")).current, 0);
  close((await status("A1")).current, 0);
  close((await status("A2")).current, 0);

  time.now += hour;
  close((await status("O2")).stateOfCharge, 0.25);
  close((await status("C")).stateOfCharge, 0.125);
  close((await status("O2'")).stateOfCharge, 0.2);
  close((await status("O1")).stateOfCharge, 60 / 90);
  close((await status("H")).stateOfCharge, 0.5);
  close((await t.splitterOf("H").accounting()).virtualTransfer, 15);
}

describe("Topology", () => {
  it("composes Figure I.2.1 with makeBattery / makeAggregator / makeSplitter", async () => {
    const time = { now: 0 };
    const t = figureByHand(() => time.now);
    assert.deepEqual(t.names.toSorted(), ["A1", "A2", "C", "H", "O1", "O2", "O2'"]);
    await exerciseFigure(t, time);
  });

  it("composes Figure I.2.1 from a config file, entries in any order", async () => {
    const time = { now: 0 };
    const t = await loadTopology(fixture, { clock: () => time.now });
    await exerciseFigure(t, time);
  });

  it("refuses a name twice, a battery in two parents, and unknown members", () => {
    const t = figureByHand(() => 0);
    const fails = (f: () => unknown, message: RegExp) =>
      assert.throws(
        f,
        (error: unknown) => error instanceof TopologyConfigError && message.test(error.message),
      );
    fails(() => t.makeAggregator("H", ["C"]), /battery "H": name already in use/);
    fails(
      () => t.makeAggregator("X", ["A1"]),
      /aggregator "X": battery "A1" already belongs to aggregator "H"/,
    );
    fails(
      () => t.makeSplitter([{ name: "Q", fraction: 1 }], "H"),
      /splitter of "H": battery "H" already belongs to splitter of "H"/,
    );
    fails(() => t.makeAggregator("X", ["Z"]), /aggregator "X": no battery named "Z"/);
    fails(() => t.makeAggregator("X", ["O2'", "O2'"]), /aggregator "X": lists a member twice/);
    fails(() => t.get("Z"), /no battery named "Z"/);
    // A failed make leaves nothing claimed.
    t.makeAggregator("X", ["O2'"]);
  });

  it("plugs device drivers in by kind, and names a kind with no driver", async () => {
    const seen: unknown[] = [];
    const t = new Topology({
      clock: () => 5,
      drivers: {
        jbd: ({ interface: where }) => {
          seen.push(where);
          return {
            read: () => Promise.resolve({ voltage: 13.1, current: -2, charge: 30, capacity: 100 }),
            setCurrent: () => Promise.resolve(),
          };
        },
      },
    });
    const j = t.makeBattery("J", "jbd", {
      interface: { path: "/dev/ttyUSB0" },
      maxChargeCurrent: 10,
      maxDischargeCurrent: 20,
    });
    assert.deepEqual(seen, [{ path: "/dev/ttyUSB0" }]);
    const s = await j.getStatus();
    assert.equal(s.stateOfCharge, 0.3);
    assert.equal(s.current, -2);
    assert.throws(
      () =>
        t.makeBattery("K", "sonnen", { interface: "http://x", maxChargeCurrent: 1, maxDischargeCurrent: 1 }),
      /battery "K": no driver for kind "sonnen" \(known: simulated, jbd\)/,
    );
  });
});
