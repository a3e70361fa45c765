import { expect } from "chai";
import { type Contract, NonceManager } from "ethers";
import { network } from "hardhat";

import { ContractRevertError, TransactionSender } from "../../gateway/src/chain/transactionSender.js";
import { deployGridMesh } from "../helpers/gridmesh.js";

const { ethers, networkHelpers } = await network.create();

describe("gateway: TransactionSender", function () {
  it("refuses by the contract's custom error without sending, and survives a send the node rejected", async function () {
    const gm = await deployGridMesh(ethers);
    const nonces = new NonceManager(gm.matcher);
    const market = gm.market.connect(nonces) as unknown as Contract;
    const token = gm.token.connect(nonces) as unknown as Contract;
    const sender = new TransactionSender({ confirmations: 0, timeoutMs: 5_000 });

    // A refusal found by the static call: decoded, nothing sent.
    const before = await ethers.provider.getTransactionCount(gm.matcher.address);
    const refusal = await sender
      .send(market, "submitClearing", [1n, 1n, [], true], "submitClearing")
      .catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(ContractRevertError);
    expect((refusal as ContractRevertError).errorName).to.equal("EnergyMarketClearingClosed");
    expect(await ethers.provider.getTransactionCount(gm.matcher.address)).to.equal(before);

    // The static call passes but the node refuses the transaction (no funds for gas): the nonce
    // manager had counted it, so without a resync every later transaction would wait on a gap.
    const balance = await ethers.provider.getBalance(gm.matcher.address);
    await networkHelpers.setBalance(gm.matcher.address, 0n);
    const failed = await sender
      .send(token, "approve", [gm.alice.address, 1n], "approve")
      .catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(Error);
    await networkHelpers.setBalance(gm.matcher.address, balance);
    const receipt = await sender.send(token, "approve", [gm.alice.address, 2n], "approve");
    expect(receipt.status).to.equal(1);
    expect(await gm.token.allowance(gm.matcher.address, gm.alice.address)).to.equal(2n);
  });
});
