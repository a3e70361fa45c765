import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { canonicalJson, marshal, MarshalError, unmarshal } from "./marshal.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth so insertion order never changes the bytes", () => {
    const a = { b: 1, a: { z: [3, { y: true, x: null }], c: "é" } };
    const b = { a: { c: "é", z: [3, { x: null, y: true }] }, b: 1 };
    assert.equal(canonicalJson(a), '{"a":{"c":"é","z":[3,{"x":null,"y":true}]},"b":1}');
    assert.equal(canonicalJson(a), canonicalJson(b));
  });

  it("orders keys by code unit, not by locale", () => {
    assert.equal(canonicalJson({ b: 1, B: 2, a: 3, _: 4 }), '{"B":2,"_":4,"a":3,"b":1}');
  });

  it("drops undefined object fields but normalises -0", () => {
    assert.equal(canonicalJson({ a: undefined, b: -0 }), '{"b":0}');
  });

  it("refuses values JSON would silently change, naming where they are", () => {
    assert.throws(() => canonicalJson({ a: [1, Number.NaN] }), /\$\.a\[1\]: NaN is not representable/);
    assert.throws(() => canonicalJson({ n: 1n }), /\$\.n: values of type bigint cannot be stored/);
    assert.throws(
      () => canonicalJson({ d: new Date(0) }),
      /\$\.d: only plain objects can be stored, not Date/,
    );
    assert.throws(() => canonicalJson([undefined]), MarshalError);
  });
});

describe("marshal / unmarshal", () => {
  it("round-trips through UTF-8 bytes", () => {
    const value = { id: "meter-1", shards: [1, 2, 3], note: "Ω" };
    assert.deepEqual(unmarshal(marshal(value), "device"), value);
  });

  it("reports empty and malformed state with what was being read", () => {
    assert.throws(() => unmarshal(new Uint8Array(), "device meter-1"), /device meter-1: no data/);
    assert.throws(
      () => unmarshal(new Uint8Array([0x7b, 0xff]), "device meter-1"),
      /device meter-1: not valid UTF-8 JSON/,
    );
  });
});
