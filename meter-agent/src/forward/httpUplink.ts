import { readingReceiptsSchema, signedReadingToJson, type SignedReading } from "@gridmesh/contracts";

import { type DeliveryOutcome, type Uplink, UplinkError } from "./uplink.js";

export interface HttpUplinkOptions {
  /** The store tracks deliveries under this name. Default "gateway". */
  name?: string;
  /** The gateway's readings endpoint, e.g. `http://gateway:8080/v1/readings`. */
  url: string;
  timeoutMs?: number;
  batchSize?: number;
}

/**
 * POSTs batches of signed readings to the gateway. The signature is the reading's credential, so the
 * request needs no other; the gateway answers one receipt per reading, in order.
 */
export class HttpUplink implements Uplink {
  readonly name: string;
  readonly order = "newest-first";
  readonly batchSize: number;
  readonly #url: string;
  readonly #timeoutMs: number;

  constructor(options: HttpUplinkOptions) {
    this.name = options.name ?? "gateway";
    this.#url = new URL(options.url).toString();
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.batchSize = options.batchSize ?? 100;
  }

  async submit(batch: readonly SignedReading[]): Promise<DeliveryOutcome[]> {
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ readings: batch.map(signedReadingToJson) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new UplinkError(`gateway ${this.#url} unreachable: ${describe(cause)}`, {
        retryable: true,
        cause,
      });
    }
    const text = await response.text().catch(() => "");
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new UplinkError(`gateway ${this.#url} answered ${response.status}: ${text.slice(0, 200)}`, {
        retryable: true,
      });
    }
    if (!response.ok) {
      // The whole request was refused: a bug on one side, not something waiting fixes quickly.
      throw new UplinkError(
        `gateway ${this.#url} refused the batch with ${response.status}: ${text.slice(0, 500)}`,
      );
    }
    let receipts;
    try {
      receipts = readingReceiptsSchema.parse(JSON.parse(text));
    } catch (cause) {
      throw new UplinkError(`gateway ${this.#url} sent receipts that do not parse`, { cause });
    }
    if (receipts.results.length !== batch.length) {
      throw new UplinkError(
        `gateway ${this.#url} sent ${receipts.results.length} receipts for ${batch.length} readings`,
      );
    }
    return receipts.results.map((r, i): DeliveryOutcome => {
      const sequence = batch[i]!.reading.sequence;
      if (r.sequence !== sequence.toString()) {
        throw new UplinkError(
          `gateway ${this.#url} receipt ${i} is for sequence ${r.sequence}, not ${sequence}`,
        );
      }
      if (r.status === "rejected") return { sequence, status: "rejected", reason: r.error };
      return { sequence, status: r.status === "stored" ? "delivered" : "duplicate" };
    });
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
    return `${e.message}${cause}`;
  }
  return String(e);
}
