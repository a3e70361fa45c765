import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { RequestStack } from "./requestStack.js";

const order = (stack: RequestStack) => stack.snapshot().map((r) => `${r.kind}:${r.meter}`);

void describe("RequestStack", () => {
  it("hands out the newest request first", () => {
    const stack = new RequestStack();
    for (const meter of ["a", "b", "c"]) stack.push("get", meter);
    assert.deepEqual(
      [stack.pop(0), stack.pop(0), stack.pop(0)].map((r) => r?.meter),
      ["c", "b", "a"],
    );
    assert.equal(stack.pop(0), undefined);
  });

  it("holds one request per meter and kind: asking again moves it to the top", () => {
    const stack = new RequestStack();
    stack.push("get", "a");
    stack.push("get", "b");
    stack.push("deliver", "a");
    stack.push("get", "a");
    assert.deepEqual(order(stack), ["get:a", "deliver:a", "get:b"]);
    assert.equal(stack.size, 3);
  });

  it("keeps a failed request's delay and failures when it is asked for again", () => {
    const stack = new RequestStack();
    stack.push("get", "a");
    const request = stack.pop(0)!;
    stack.pushFailed(request, 5_000);
    stack.push("get", "a", 0);
    const [entry] = stack.snapshot();
    assert.deepEqual(entry, { kind: "get", meter: "a", failures: 1, notBeforeMs: 5_000 });
    stack.pushFailed(stack.pop(5_000)!, 20_000);
    assert.equal(stack.snapshot()[0]!.failures, 2);
  });

  it("skips requests still waiting out their retry delay and those to busy meters", () => {
    const stack = new RequestStack();
    stack.push("get", "a");
    stack.push("get", "b");
    stack.pushFailed(stack.pop(0)!, 1_000); // b failed: back on top, not before 1 s
    stack.push("get", "c");
    assert.equal(stack.pop(500, (m) => m === "c")?.meter, "a", "c is busy and b waits: a goes");
    assert.equal(stack.pop(500)?.meter, "c");
    assert.equal(stack.pop(500), undefined, "b still waits");
    assert.equal(stack.nextReadyAt(), 1_000);
    assert.equal(stack.pop(999), undefined);
    assert.equal(stack.pop(1_000)?.meter, "b");
    assert.equal(stack.nextReadyAt(), undefined);
  });

  it("puts a failed request back on top, above requests pushed while it was in flight", () => {
    const stack = new RequestStack();
    stack.push("get", "a");
    const inFlight = stack.pop(0)!;
    stack.push("get", "b");
    stack.pushFailed(inFlight, 100);
    assert.deepEqual(order(stack), ["get:a", "get:b"]);
    assert.equal(stack.pop(50)?.meter, "b", "a waits for its retry delay; b goes first");
  });

  it("lets a meter's waiting requests go at once when it answers again", () => {
    const stack = new RequestStack();
    stack.push("deliver", "a");
    stack.pushFailed(stack.pop(0)!, 60_000);
    stack.push("deliver", "b");
    stack.pushFailed(stack.pop(0)!, 60_000);
    stack.meterAnswered("a");
    assert.deepEqual(stack.pop(1)?.meter, "a");
    assert.equal(stack.pop(1), undefined, "b still waits");
  });
});
