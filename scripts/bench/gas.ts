/**
 * `npm run bench:gas`: gas per fill of one interval's whole spot cycle — clearing, the sellers'
 * signed readings and settlement — at 10, 100 and 500 fills among 100 accounts (50 sellers and 50
 * buyers, each with its own active meter), beside a naive baseline that moves the money of each
 * fill in a transaction of its own (a direct ERC-20 transfer from buyer to seller).
 *
 * Order placement is not counted: every order is placed once by its owner in any design.
 */
import type { MeterReading } from "@gridmesh/contracts";
import { type ContractTransactionResponse, Wallet } from "ethers";
import { network } from "hardhat";

import {
  type Account,
  deployGridMesh,
  intervalClock,
  SETTLEMENT_DELAY_SECONDS,
  usd,
} from "../../test/helpers/gridmesh.js";

// GRIDMESH_BENCH_FILLS=10,50 runs other sizes (the smoke test uses a small one).
const FILL_COUNTS = (process.env.GRIDMESH_BENCH_FILLS ?? "10,100,500").split(",").map(Number);
const SELLERS = 50;
const BUYERS = 50;
const WH_PER_FILL = 100n;
const PRICE = 150_000n;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt.gasUsed;
}

async function measure(fillCount: number) {
  const connection = await network.create();
  const { ethers, networkHelpers } = connection;
  const clock = intervalClock(networkHelpers);
  const g = await deployGridMesh(ethers);

  const makeAccounts = async (n: number) => {
    const accounts: Account[] = [];
    for (let i = 0; i < n; i++) {
      const wallet = Wallet.createRandom(ethers.provider);
      await networkHelpers.setBalance(wallet.address, 10n ** 20n);
      accounts.push(wallet);
    }
    return accounts;
  };
  const sellers = await makeAccounts(SELLERS);
  const buyers = await makeAccounts(BUYERS);
  const sellerMeters = await Promise.all(sellers.map((s) => g.activeMeter(s)));
  const buyerMeters = await Promise.all(buyers.map((b) => g.activeMeter(b)));

  // Each offer i sells to fillsPerOffer consecutive bids; fills come out sorted by offer id.
  const fillsPerOffer = Math.ceil(fillCount / SELLERS);
  const pairs: [number, number][] = [];
  for (let i = 0; pairs.length < fillCount; i++) {
    for (let k = 0; k < fillsPerOffer && pairs.length < fillCount; k++) pairs.push([i, (i + k) % BUYERS]);
  }
  const offerWh = new Map<number, bigint>();
  const bidWh = new Map<number, bigint>();
  for (const [s, b] of pairs) {
    offerWh.set(s, (offerWh.get(s) ?? 0n) + WH_PER_FILL);
    bidWh.set(b, (bidWh.get(b) ?? 0n) + WH_PER_FILL);
  }

  const exportRegister = new Map<number, bigint>();
  /** One interval's whole cycle for the same book shape; returns the gas of each phase. */
  async function cycle(sequence: bigint) {
    // Far enough ahead that the hundreds of set-up transactions (one second each) stay before the gate.
    const t = await clock.openInterval(1_000n);
    const offerIds = new Map<number, bigint>();
    const bidIds = new Map<number, bigint>();
    for (const [s, wh] of [...offerWh].sort(([a], [b]) => a - b)) {
      await g.fund(sellers[s]!, usd(100n));
      offerIds.set(s, await g.market.nextOrderId());
      await g.market.connect(sellers[s]).placeOffer(sellerMeters[s]!.address, t, wh, PRICE - 10_000n);
    }
    for (const [b, wh] of bidWh) {
      await g.fund(buyers[b]!, usd(100n));
      bidIds.set(b, await g.market.nextOrderId());
      await g.market.connect(buyers[b]).placeBid(buyerMeters[b]!.address, t, wh, PRICE + 10_000n);
    }
    const fills = pairs.map(([s, b]) => ({
      offerId: offerIds.get(s)!,
      bidId: bidIds.get(b)!,
      wh: WH_PER_FILL,
    }));

    await clock.to(clock.gateClosure(t));
    const clearing = await gasOf(g.market.connect(g.matcher).submitClearing(t, PRICE, fills, true));

    // Each meter reports for the first time in a while: the ledger accepts the reading once the
    // previous, skipped interval is past its deadline, and before this interval's own.
    await clock.to(clock.start(t) + SETTLEMENT_DELAY_SECONDS);
    const readings: MeterReading[] = [];
    const signatures: string[] = [];
    for (const [s, wh] of offerWh) {
      // Every fifth seller falls 10% short, so settlement pays penalties too.
      const exported = s % 5 === 0 ? (wh * 9n) / 10n : wh;
      const start = exportRegister.get(s) ?? 1_000_000n;
      exportRegister.set(s, start + exported);
      const reading: MeterReading = {
        meter: sellerMeters[s]!.address as `0x${string}`,
        interval: t,
        sequence,
        importStartWh: 0n,
        importEndWh: 0n,
        exportStartWh: start,
        exportEndWh: start + exported,
        timestamp: clock.end(t),
      };
      readings.push(reading);
      signatures.push(await g.signReading(sellerMeters[s]!, reading));
    }
    const readingsGas = await gasOf(g.ledger.recordReadings(readings, signatures));
    const settlement = await gasOf(g.market.settleBatch(t, 0, fills));
    return { clearing, readings: readingsGas, settlement };
  }

  // The first interval touches every account's balance and record for the first time (zero to
  // non-zero storage, the worst case); the second shows the steady state.
  const first = await cycle(1n);
  const steady = await cycle(2n);

  // Naive baseline: one transaction per fill moving the buyer's money straight to the seller.
  let naiveGas = 0n;
  for (const [s, b] of pairs) {
    naiveGas += await gasOf(
      g.token.connect(buyers[b]).transfer(sellers[s]!.address, (WH_PER_FILL * PRICE) / 1000n),
    );
  }

  await connection.close();
  return { fillCount, sellers: offerWh.size, buyers: bidWh.size, first, steady, naiveGas };
}

const rows = [];
for (const n of FILL_COUNTS) rows.push(await measure(n));

const per = (gas: bigint, n: number) => (Number(gas) / n).toFixed(0);
type Phases = { clearing: bigint; readings: bigint; settlement: bigint };
const allIn = (p: Phases) => p.clearing + p.readings + p.settlement;
const lines = [
  "| fills | sellers / buyers | interval | clearing | readings | settlement | all-in per fill | naive per fill |",
  "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows.flatMap((r) =>
    (
      [
        ["first", r.first],
        ["steady", r.steady],
      ] as const
    ).map(
      ([label, p]) =>
        `| ${r.fillCount} | ${r.sellers} / ${r.buyers} | ${label} | ${p.clearing} | ${p.readings} | ${p.settlement} | ${per(allIn(p), r.fillCount)} | ${per(r.naiveGas, r.fillCount)} |`,
    ),
  ),
];
console.log(
  "Gas of one interval's spot cycle (clearing + sellers' readings + settlement), per phase in total:\n",
);
console.log(lines.join("\n"));
const worst = rows.at(-1)!;
console.log(
  `\nAt ${worst.fillCount} fills: ${per(allIn(worst.first), worst.fillCount)} gas per fill all-in in a first interval, ` +
    `${per(allIn(worst.steady), worst.fillCount)} in the steady state (target ≤ 50,000).`,
);
