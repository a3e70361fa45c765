import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP link between two processes on loopback that a test can cut and restore, standing for the
 * town's network between the utility and a microgrid controller. Cut, it refuses new connections
 * and resets the open ones, as a failed link looks to both ends; the port stays the same, so the
 * processes' configuration does not change across the outage.
 */
export class NetworkLink {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port) };
  }

  /** The link's own URL: what the other side is configured with. */
  get url(): string {
    if (this.#port === 0) throw new Error("the link has not been opened yet");
    return `http://127.0.0.1:${this.#port}`;
  }

  get isUp(): boolean {
    return this.#server !== undefined;
  }

  /** Opens (or restores) the link on its port; the first call picks a free one. */
  async up(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((client) => this.#relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the link has no TCP address");
    this.#port = address.port;
    this.#server = server;
  }

  /** Cuts the link: new connections are refused, open ones reset. */
  async down(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const socket of this.#sockets) cutSocket(socket);
    this.#sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #relay(client: Socket): void {
    const upstream = createConnection(this.#target);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    }
    // An error on either side tears down both, as a broken path would.
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once("error", fail);
    upstream.once("error", fail);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/**
 * Resets a socket as a failed link would. Node cannot reset one whose shutdown is under way (the
 * reset fails with EINVAL and its handle is never closed, so the process spins at exit instead of
 * ending): a socket already ended is destroyed instead.
 */
export function cutSocket(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
