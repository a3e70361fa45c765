import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Runs the README's `npm start`, detached in its own process group as a terminal job would be.
 * GRIDMESH_SKIP_INSTALL keeps the bootstrap from reinstalling node_modules under this test run.
 */
function startLocalSystem(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn("npm", ["start", "--silent", "--", ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GRIDMESH_SKIP_INSTALL: "1",
      // Our Node first, as the bootstrap would arrange it.
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm start (scripts/start.ts)", function () {
  this.timeout(180_000);
  const children: ChildProcess[] = [];

  afterEach(function () {
    for (const child of children.splice(0)) {
      if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
    }
  });

  it("serves JSON-RPC with the contracts deployed at the printed addresses and stops on Ctrl-C", async function () {
    const port = await freePort();
    const gatewayPort = await freePort();
    const dataDir = await mkdtemp(path.join(tmpdir(), "gridmesh-start-"));
    const { child, output } = startLocalSystem([
      "--port",
      String(port),
      "--gateway-port",
      String(gatewayPort),
      "--interval",
      "30",
      "--data-dir",
      dataDir,
    ]);
    children.push(child);
    const exited = once(child, "exit");

    const address = await waitFor(
      "the printed TestDollar address",
      () => /TestDollar\s+(0x[0-9a-fA-F]{40})/.exec(output())?.[1],
      150_000,
    );
    expect(output()).to.contain(`http://127.0.0.1:${port}`);

    const url = `http://127.0.0.1:${port}`;
    expect(await rpc(url, "eth_chainId", [])).to.equal("0x7a69");
    const code = (await rpc(url, "eth_getCode", [address, "latest"])) as string;
    expect(code.length, "deployed bytecode").to.be.greaterThan(1_000);
    // decimals() == 6 proves it is the token and not some other contract.
    const decimals = await rpc(url, "eth_call", [{ to: address, data: "0x313ce567" }, "latest"]);
    expect(BigInt(decimals as string)).to.equal(6n);

    // The gateway runs against that chain: healthy, on the embedded database, timed by the contracts.
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    expect(output()).to.contain(`Gateway API       ${gateway}`);
    const health = (await (await fetch(`${gateway}/v1/health`)).json()) as { ok: boolean; engine: string };
    expect(health).to.include({ ok: true, engine: "pglite" });
    const status = await fetch(`${gateway}/v1/clearings`);
    expect(status.status).to.equal(200);
    // Secure ID runs embedded, with the three verifier organisations able to attest.
    const verifiers = JSON.stringify(await (await fetch(`${gateway}/v1/identity/verifiers`)).json());
    for (const msp of ["Verifier1MSP", "Verifier2MSP", "Verifier3MSP"]) expect(verifiers).to.contain(msp);

    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-child.pid!, "SIGINT");
    const [exitCode, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal === "SIGINT" || exitCode === 0, `exit ${exitCode} ${signal}\n${output()}`).to.equal(true);
    expect(output()).to.contain("SIGINT received, stopping");
    await waitFor(
      "every process of the group to end",
      () => (groupAlive(child.pid!) ? undefined : true),
      10_000,
    );
    for (const freed of [port, gatewayPort]) {
      const probe: Server = createServer();
      probe.listen(freed, "127.0.0.1");
      await once(probe, "listening");
      probe.close();
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses to start on a port that is taken, with a clear message", async function () {
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const port = (blocker.address() as { port: number }).port;
    try {
      const { child, output } = startLocalSystem(["--port", String(port)]);
      children.push(child);
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).to.equal(1);
      expect(output()).to.contain(`127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("refuses an invalid port", async function () {
    const { child, output } = startLocalSystem(["--port", "70000"]);
    children.push(child);
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).to.equal(1);
    expect(output()).to.match(/--port: .*65535/);
  });
});
