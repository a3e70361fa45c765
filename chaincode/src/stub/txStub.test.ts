import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MemoryBackend } from "./memoryBackend.js";
import { TxStub } from "./txStub.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

function stubOn(backend: MemoryBackend, peerMsp = "Verifier1MSP") {
  return new TxStub({
    backend,
    channel: "gridmesh",
    txId: "ab".repeat(32),
    timestamp: { seconds: 1_780_000_000, nanos: 5_000_000 },
    creator: { mspid: "UtilityMSP", idBytes: bytes("client") },
    peerMsp,
    fn: "Fn",
    args: ["a"],
    transient: new Map([["deposit", bytes("{}")]]),
  });
}

function committed(backend: MemoryBackend, key: string, value: string) {
  backend.commit({
    txId: `${key}-${value}`,
    timestamp: { seconds: 1, nanos: 0 },
    fn: "seed",
    creatorMsp: "UtilityMSP",
    writes: [{ key, value: bytes(value) }],
    privateWrites: [],
    event: null,
  });
}

describe("TxStub: a peer simulator's semantics", () => {
  it("does not return the transaction's own uncommitted writes, as Fabric does not", async () => {
    const backend = new MemoryBackend();
    committed(backend, "k", "old");
    const stub = stubOn(backend);
    await stub.putState("k", bytes("new"));
    await stub.putState("fresh", bytes("1"));
    assert.equal(text(await stub.getState("k")), "old");
    assert.equal((await stub.getState("fresh")).length, 0);
    await stub.deleteState("k");
    assert.equal(text(await stub.getState("k")), "old");
    assert.deepEqual(
      stub.writeSet().writes.map((w) => [w.key, w.value && text(w.value)]),
      [
        ["fresh", "1"],
        ["k", null],
      ],
    );
    assert.equal(text(backend.getState("k")!), "old", "nothing is committed by simulation");
  });

  it("keeps only the last event, as a transaction carries one", () => {
    const stub = stubOn(new MemoryBackend());
    stub.setEvent("First", bytes("1"));
    stub.setEvent("Second", bytes("2"));
    assert.equal(stub.writeSet().event?.name, "Second");
    assert.throws(() => stub.setEvent("", bytes("")), /non-empty/);
  });

  it("lets a peer read only its own organisation's implicit collection, but write any", async () => {
    const stub = stubOn(new MemoryBackend(), "Verifier1MSP");
    assert.equal((await stub.getPrivateData("_implicit_org_Verifier1MSP", "k")).length, 0);
    await assert.rejects(
      stub.getPrivateData("_implicit_org_Verifier2MSP", "k"),
      /peer of Verifier1MSP is not a member/,
    );
    await stub.putPrivateData("_implicit_org_Verifier2MSP", "k", bytes("v"));
    await assert.rejects(stub.putPrivateData("shards", "k", bytes("v")), /implicit collections only/);
    assert.deepEqual(
      stub.writeSet().privateWrites.map((w) => w.collection),
      ["_implicit_org_Verifier2MSP"],
    );
  });

  it("builds composite keys in fabric-shim's format and ranges over them", async () => {
    const backend = new MemoryBackend();
    const stub = stubOn(backend);
    const key = stub.createCompositeKey("identity", ["0xab", "x"]);
    assert.equal(key, "\x00identity\x000xab\x00x\x00");
    assert.deepEqual(stub.splitCompositeKey(key), { objectType: "identity", attributes: ["0xab", "x"] });
    assert.throws(() => stub.createCompositeKey("a", ["b\x00c"]), /U\+0000/);
    committed(backend, stub.createCompositeKey("org", ["B"]), "b");
    committed(backend, stub.createCompositeKey("org", ["A"]), "a");
    committed(backend, stub.createCompositeKey("other", ["A"]), "x");
    committed(backend, "plain", "p");
    const found: string[] = [];
    for await (const kv of stub.getStateByPartialCompositeKey("org", [])) found.push(text(kv.value));
    assert.deepEqual(found, ["a", "b"]);
    const plain: string[] = [];
    for await (const kv of stub.getStateByRange("", "")) plain.push(kv.key);
    assert.deepEqual(plain, ["plain"], "an open range skips composite keys, as the shim's does");
  });

  it("exposes the proposal: time, creator, transient data, arguments and the peer's MSP", () => {
    const stub = stubOn(new MemoryBackend());
    assert.equal(stub.getTxTimestamp().seconds.toNumber(), 1_780_000_000);
    assert.equal(stub.getDateTimestamp().toISOString(), "2026-05-28T20:26:40.005Z");
    assert.equal(stub.getCreator().mspid, "UtilityMSP");
    assert.equal(stub.getMspID(), "Verifier1MSP");
    assert.deepEqual(stub.getFunctionAndParameters(), { fcn: "Fn", params: ["a"] });
    assert.equal(text(stub.getTransient().get("deposit")!), "{}");
  });
});
