import { createServer, type Server } from "node:net";

/**
 * `count` TCP ports free on loopback now, all different, for processes whose addresses must be known
 * before they start: a controller is configured with its agents' command URLs, the utility's fleet
 * with its controllers' links, and the utility restarts on the same port. The ports are held until
 * all are picked, so none is handed out twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP port was assigned");
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
