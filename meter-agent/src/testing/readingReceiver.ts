import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { signedReadingBatchSchema, type ReadingReceipt, type SignedReading } from "@gridmesh/contracts";

import { type ReadingDomain, recoverReadingSigner } from "../signing/readingSigner.js";

/**
 * A stand-in for the gateway's readings endpoint, for tests until the gateway exists: checks each
 * signature, stores each (meter, sequence) once and answers "duplicate" after, and can be cut off
 * (connections refused) and restored on the same port to simulate an uplink outage.
 */
export class ReadingReceiver {
  /** Stored readings by `${meter}:${sequence}`. */
  readonly stored = new Map<string, SignedReading>();
  /** Every reading that arrived again, with whether it was identical to the stored one. */
  readonly duplicates: { key: string; identical: boolean }[] = [];
  readonly rejected: string[] = [];
  #server: Server | undefined;
  #port = 0;

  constructor(readonly domain: ReadingDomain) {}

  get url(): string {
    return `http://127.0.0.1:${this.#port}/v1/readings`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        };
        if (req.method !== "POST" || req.url !== "/v1/readings") return reply(404, { error: "not found" });
        let batch;
        try {
          batch = signedReadingBatchSchema.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (e) {
          return reply(400, { error: (e as Error).message });
        }
        const results: ReadingReceipt[] = batch.readings.map((signed) => this.#take(signed));
        reply(200, { results });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops accepting connections (the uplink is cut) and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #take(signed: SignedReading): ReadingReceipt {
    const { reading } = signed;
    const sequence = reading.sequence.toString();
    if (recoverReadingSigner(signed, this.domain).toLowerCase() !== reading.meter.toLowerCase()) {
      this.rejected.push(sequence);
      return { sequence, status: "rejected", error: "signature is not the meter's" };
    }
    const key = `${reading.meter.toLowerCase()}:${sequence}`;
    const before = this.stored.get(key);
    if (before !== undefined) {
      this.duplicates.push({ key, identical: before.signature === signed.signature });
      return { sequence, status: "duplicate" };
    }
    this.stored.set(key, signed);
    return { sequence, status: "stored" };
  }
}
