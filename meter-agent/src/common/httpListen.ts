import type { Server } from "node:http";

/** Starts `server` on `host:port` (0 picks a free port); rejects if it cannot bind. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** `http://host:port` of a listening server (IPv6 hosts bracketed); throws naming `what` if not listening. */
export function serverOrigin(server: Server, what: string): string {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`the ${what} is not listening`);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
