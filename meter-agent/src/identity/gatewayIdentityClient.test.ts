import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";

import { GatewayIdentityClient } from "./gatewayIdentityClient.js";
import { GatewayIdentityError } from "./identityErrors.js";

/**
 * The client's handling of what comes back: the gateway's own reason on a refusal, a timeout, an
 * answer of the wrong shape, a base URL with a path prefix. (The real gateway is exercised end to end in
 * test/meter-agent/identity.test.ts.)
 */
describe("gateway identity client", () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  let reply: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      reply(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const deviceId = `0x${"ab".repeat(32)}`;
  const json = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

  it("reports a refusal with the gateway's reason and status, not retryable", async () => {
    reply = json(409, { error: `device ${deviceId} has no Keymaker seal yet: seal it before verification` });
    const error = await new GatewayIdentityClient({ url: base })
      .prepareVerification(deviceId)
      .catch((e: unknown) => e);
    assert.ok(error instanceof GatewayIdentityError);
    assert.equal(error.status, 409);
    assert.equal(error.retryable, false);
    assert.equal(
      error.message,
      `starting a verification of device ${deviceId}: gateway ${base} answered 409: device ${deviceId} has no ` +
        "Keymaker seal yet: seal it before verification",
    );
    assert.equal(seen.at(-1), `POST /v1/identity/devices/${deviceId}/verifications`);
  });

  it("gives up after its timeout, as a retryable failure", async () => {
    reply = () => undefined; // never answers
    const started = Date.now();
    await assert.rejects(
      new GatewayIdentityClient({ url: base, timeoutMs: 200 }).verifiers(),
      (e: Error) =>
        e instanceof GatewayIdentityError &&
        e.retryable &&
        e.status === undefined &&
        /did not answer: no answer within 200 ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 2_000);
  });

  it("refuses an answer that does not have the documented form, naming the field", async () => {
    reply = json(200, {
      deviceId: deviceId.toUpperCase(),
      meter: "0x12",
      ownerMsp: "UtilityMSP",
      status: "active",
    });
    await assert.rejects(
      new GatewayIdentityClient({ url: base }).provision({
        deviceId,
        publicKey: "cd".repeat(32),
        meter: `0x${"12".repeat(20)}`,
        attributesHash: "ef".repeat(32),
        signature: "01".repeat(64),
      }),
      /provisioning device .* unexpected form: deviceId: .*; meter: .*; txId: /,
    );
  });

  it("keeps a base URL's path prefix", async () => {
    reply = json(200, { ownerMsp: "UtilityMSP", ledger: "embedded", verifiers: [] });
    const client = new GatewayIdentityClient({ url: `${base}/utility` });
    assert.deepEqual(await client.verifiers(), { ownerMsp: "UtilityMSP", ledger: "embedded", verifiers: [] });
    assert.equal(seen.at(-1), "GET /utility/v1/identity/verifiers");
    assert.throws(() => new GatewayIdentityClient({ url: "ftp://gateway" }), /must be http\(s\)/);
  });
});
