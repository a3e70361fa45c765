import { spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection, createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import { NetworkLink } from "./networkLink.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs `body` (an ES module using `cutSocket`) in its own Node process; resolves to its exit. */
async function runAlone(body: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const source = `import { cutSocket } from ${JSON.stringify(path.join(here, "networkLink.ts"))};\n${body}`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe("NetworkLink (test helper)", function () {
  this.timeout(30_000);

  it("relays both ways, refuses connections while cut, and relays again on the same port", async () => {
    // The link resets its sockets when cut: the target's side may see ECONNRESET.
    const target = createServer((s) => s.on("error", () => undefined).pipe(s));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const link = new NetworkLink(`http://127.0.0.1:${(target.address() as { port: number }).port}`);
    const echo = async () => {
      const socket = createConnection({ host: "127.0.0.1", port: Number(new URL(link.url).port) });
      try {
        await once(socket, "connect");
        socket.write("ping");
        const [data] = (await once(socket, "data")) as [Buffer];
        return data.toString();
      } finally {
        socket.destroy();
      }
    };
    try {
      await link.up();
      const url = link.url;
      expect(await echo()).to.equal("ping");
      await link.down();
      const refused = await echo().catch((error: NodeJS.ErrnoException) => error.code);
      expect(refused).to.equal("ECONNREFUSED");
      await link.up();
      expect(link.url).to.equal(url);
      expect(await echo()).to.equal("ping");
    } finally {
      await link.down();
      target.close();
    }
  });

  it("cuts a socket whose shutdown is under way without keeping the process from exiting", async () => {
    // end() then an immediate reset is what a link cut while a peer half-closes does.
    const { code, output } = await runAlone(
      `import { createConnection, createServer } from "node:net";
       const server = createServer((s) => s.on("error", () => {}));
       await new Promise((r) => server.listen(0, "127.0.0.1", r));
       const socket = createConnection({ host: "127.0.0.1", port: server.address().port });
       socket.on("error", (e) => console.log("socket error", e.code));
       await new Promise((r) => socket.once("connect", r));
       socket.end();
       cutSocket(socket);
       server.close();`,
      10_000,
    );
    expect(code, `the process should end by itself:\n${output}`).to.equal(0);
  });
});
