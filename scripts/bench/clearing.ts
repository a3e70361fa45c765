/**
 * `npm run bench:clearing`: how long computeClearing takes for one interval of 1,000 to 1,000,000
 * open orders (target: 100,000 in under a second).
 *
 * The books are deliberately hard: half offers, half bids, prices overlapping widely so most of
 * the book crosses, and owners drawn from a pool a quarter the size of the book, so most owners
 * are on both sides and self-trade prevention is in play. Drawing the book is not timed.
 */
import { type ClearingBid, type ClearingOffer, computeClearing } from "@gridmesh/contracts";

// GRIDMESH_BENCH_ORDERS=1000,5000 runs other sizes.
const ORDER_COUNTS = (process.env.GRIDMESH_BENCH_ORDERS ?? "1000,10000,100000,1000000")
  .split(",")
  .map(Number);

/** A fixed-seed xorshift32, so every run clears the same books. */
function random(seed: number) {
  let state = seed >>> 0;
  return (lo: number, hi: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return lo + (state % (hi - lo + 1));
  };
}

function drawBook(orders: number) {
  const int = random(orders);
  // One string per owner, as an indexer holding the addresses it decoded would pass them.
  const owners = Array.from(
    { length: Math.max(2, Math.floor(orders / 4)) },
    (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as const,
  );
  const offers: ClearingOffer[] = [];
  const bids: ClearingBid[] = [];
  for (let id = 1; id <= orders; id++) {
    const owner = owners[int(0, owners.length - 1)]!;
    const wh = BigInt(int(1, 5_000));
    // Token base units per kWh at 6 decimals: offers ask $0.08–0.22, bids pay up to $0.10–0.26.
    if (int(0, 1) === 0)
      offers.push({ id: BigInt(id), owner, minPricePerKwh: BigInt(int(80_000, 220_000)), wh });
    else bids.push({ id: BigInt(id), owner, maxPricePerKwh: BigInt(int(100_000, 260_000)), wh });
  }
  return { offers, bids };
}

// Warm the JIT up so the smallest size is not mostly compilation.
computeClearing(drawBook(20_000));

const rows = [["orders", "time (ms)", "fills", "traded (kWh)", "price"]];
for (const orders of ORDER_COUNTS) {
  const book = drawBook(orders);
  const started = performance.now();
  const result = computeClearing(book);
  const ms = performance.now() - started;
  rows.push([
    orders.toLocaleString("en"),
    ms.toFixed(0),
    result.fills.length.toLocaleString("en"),
    (result.volumeWh / 1000n).toLocaleString("en"),
    result.price.toString(),
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
console.log(`computeClearing, one interval, Node ${process.version}`);
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join("  "));
