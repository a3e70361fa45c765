import type { Clock } from "@gridmesh/contracts";

export interface ChainClockOptions {
  rpcUrl: string;
  clock: Clock;
  /** Wall-clock ms between two blocks. */
  tickMs: number;
  /** A tick that failed for another reason than a block already past its time. */
  onError?: (error: Error) => void;
}

/**
 * Keeps the chain's time on the simulated clock. EDR (Hardhat 3.17) keeps an offset to the wall
 * clock, which `evm_mine <timestamp>` resets: a block is mined at the simulated second every tick,
 * and a transaction mined between two ticks gets the last tick's time plus the wall-clock time since,
 * so the chain trails simulated time by at most one tick and never runs ahead of it. Every tick
 * mines a block, which also moves the chain's "latest" time that the gateway and wallets read.
 */
export class ChainClock {
  readonly #o: ChainClockOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  #lastSecond = 0;
  #id = 0;
  ticks = 0;

  constructor(options: ChainClockOptions) {
    this.#o = options;
  }

  /** Mines the first block on the simulated clock, then keeps ticking. */
  async start(): Promise<void> {
    await this.tick();
    this.#schedule();
  }

  /** Mines a block at the simulated clock's second, unless the chain is already there. */
  async tick(): Promise<void> {
    const second = Math.floor(this.#o.clock.now() / 1000);
    if (second <= this.#lastSecond) return;
    try {
      await this.#rpc("evm_mine", [second]);
      this.#lastSecond = second;
      this.ticks++;
    } catch (error) {
      // A transaction mined in the same second got there first: the next tick is later.
      if (!/lower than the previous block|previous block's timestamp/i.test((error as Error).message))
        this.#o.onError?.(error as Error);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick().finally(() => this.#schedule());
    }, this.#o.tickMs);
  }

  async #rpc(method: string, params: unknown[]): Promise<unknown> {
    const response = await fetch(this.#o.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.#id, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { message: string } };
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }
}
