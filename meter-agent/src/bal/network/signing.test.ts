import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { NonceCache } from "./nonceCache.js";
import { sharedSecret } from "./sharedSecret.js";
import {
  authHeaders,
  requestSignature,
  responseSignature,
  signatureMatches,
  signRequest,
} from "./signing.js";

const key = sharedSecret("a-test-secret-of-at-least-32-chars", "test");
const otherKey = sharedSecret("another-test-secret-of-32-or-more", "test");

describe("request signatures", () => {
  const request = {
    keyId: "home-2",
    method: "PUT",
    path: "/batteries/H/current",
    timestamp: 1_700_000_000_000,
    nonce: "AAAAAAAAAAAAAAAAAAAAAA",
    body: '{"current":5}',
  };

  it("change with every signed field and with the key", () => {
    const base = requestSignature(key, request).toString("hex");
    const variants = [
      { keyId: "home-3" },
      { method: "GET" },
      { path: "/batteries/O1/current" },
      { timestamp: request.timestamp + 1 },
      { nonce: "AAAAAAAAAAAAAAAAAAAAAB" },
      { body: '{"current":50}' },
    ];
    for (const change of variants) {
      assert.notEqual(
        requestSignature(key, { ...request, ...change }).toString("hex"),
        base,
        JSON.stringify(change),
      );
    }
    assert.notEqual(requestSignature(otherKey, request).toString("hex"), base);
  });

  it("cannot stand in for a response signature", () => {
    const asResponse = responseSignature(key, { nonce: request.nonce, status: 200, body: request.body });
    assert.ok(!signatureMatches(asResponse, requestSignature(key, request).toString("hex")));
  });

  it("signRequest uses a fresh nonce each time and a whole-millisecond timestamp", () => {
    const a = signRequest("k", key, { method: "GET", path: "/batteries", body: "" }, () => 1.5);
    const b = signRequest("k", key, { method: "GET", path: "/batteries", body: "" }, () => 1.5);
    assert.notEqual(a[authHeaders.nonce], b[authHeaders.nonce]);
    assert.equal(a[authHeaders.timestamp], "1");
  });

  it("match only a signature of the same length and value", () => {
    const expected = requestSignature(key, request);
    assert.ok(signatureMatches(expected, expected.toString("hex")));
    assert.ok(!signatureMatches(expected, expected.toString("hex").slice(2)));
    assert.ok(!signatureMatches(expected, "00".repeat(32)));
  });

  it("refuse short secrets without naming them", () => {
    assert.throws(
      () => sharedSecret("hunter2", 'key "k"'),
      (error: Error) => {
        assert.match(error.message, /key "k": the shared secret has 7 characters, at least 32/);
        assert.ok(!error.message.includes("hunter2"));
        return true;
      },
    );
  });
});

describe("NonceCache", () => {
  it("refuses a nonce it holds, per key", () => {
    const cache = new NonceCache(10, 1000);
    assert.equal(cache.claim("k", "n1", 500, 0), "fresh");
    assert.equal(cache.claim("k", "n1", 500, 100), "replayed");
    assert.equal(cache.claim("j", "n1", 500, 100), "fresh");
  });

  it("forgets a nonce once its timestamp has left the window", () => {
    const cache = new NonceCache(10, 1000);
    cache.claim("k", "n1", 500, 0);
    assert.equal(cache.claim("k", "n1", 1500, 500), "fresh");
  });

  it("stays within its size, refusing rather than forgetting live nonces", () => {
    const cache = new NonceCache(3, 1_000_000);
    for (const n of ["a", "b", "c"]) assert.equal(cache.claim("k", n, 100, 0), "fresh");
    assert.equal(cache.claim("k", "d", 100, 50), "full");
    assert.equal(cache.claim("k", "a", 100, 50), "replayed");
    assert.equal(cache.size, 3);
    // Once they expire there is room again.
    assert.equal(cache.claim("k", "d", 200, 100), "fresh");
    assert.equal(cache.size, 1);
  });
});
