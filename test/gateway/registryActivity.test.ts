import type { Address } from "@gridmesh/contracts";
import { expect } from "chai";
import type { ContractRunner } from "ethers";
import { id } from "ethers";
import { network } from "hardhat";

import { registryActivity } from "../../gateway/src/relay/registryActivity.js";
import { deployGridMesh } from "../helpers/gridmesh.js";

const { ethers } = await network.create();

describe("gateway: meter activity from the MeterRegistry", function () {
  it("asks the chain once per meter while it is active, and never remembers an inactive answer", async function () {
    const gm = await deployGridMesh(ethers);
    const { meter, deviceId } = await gm.enrollMeter(gm.alice);
    let calls = 0;
    // The real provider, counting the eth_calls the activity check makes.
    const counting = new Proxy(ethers.provider, {
      get(target, prop, receiver) {
        if (prop === "call") {
          return (...args: unknown[]) => {
            calls++;
            return (target.call as (...a: unknown[]) => Promise<string>)(...args);
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }) as unknown as ContractRunner;
    let clock = 1_000_000;
    const activity = registryActivity((await gm.registry.getAddress()) as Address, counting, {
      cacheMs: 15_000,
      now: () => clock,
    });
    const far = 10n ** 12n;

    expect(await activity.activeThroughout(meter.address as Address, far, far + 60n)).to.equal(false);
    const verdict = id("verdict-activity");
    await gm.registry.activate(meter.address, verdict, await gm.attest(meter.address, deviceId, verdict));
    // Activated a moment ago: seen at once, not hidden behind the earlier answer.
    expect(await activity.activeThroughout(meter.address as Address, far, far + 60n)).to.equal(true);
    expect(calls).to.equal(2);

    for (let i = 0; i < 50; i++)
      await activity.activeThroughout(meter.address as Address, far + BigInt(i), far + 60n);
    expect(calls).to.equal(2);
    clock += 15_000;
    await activity.activeThroughout(meter.address as Address, far, far + 60n);
    expect(calls).to.equal(3);

    // Before its activation the meter was not active, cached or not.
    expect(await activity.activeThroughout(meter.address as Address, 0n, 60n)).to.equal(false);
  });
});
