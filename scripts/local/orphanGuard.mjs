// Kills the local system's processes if the process that started them dies without stopping them
// (SIGKILL, a crash past its handlers). It reads "+ <pid> <group>" and "- <pid>" lines on stdin; the
// kernel closes that pipe when the parent dies however it dies, and the guard then signals what is
// still registered: SIGTERM so each can clean up after itself (its pseudo-terminals, its database),
// SIGKILL for whatever is left after the grace period. An orderly stop unregisters everything first.
import { createInterface } from "node:readline";
import { setTimeout } from "node:timers";

const GRACE_MS = Number(process.env.GRIDMESH_GUARD_GRACE_MS ?? 5000);
/** pid → whether it leads a process group of its own (then the whole group is signalled). */
const watched = new Map();

const signal = (pid, group, sig) => {
  try {
    process.kill(group ? -pid : pid, sig);
    return true;
  } catch {
    return false; // gone already
  }
};

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const [op, pid, group] = line.trim().split(/\s+/);
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 1) return;
    if (op === "+") watched.set(n, group === "1");
    else if (op === "-") watched.delete(n);
  })
  .on("close", () => {
    if (watched.size === 0) process.exit(0);
    for (const [pid, group] of watched) signal(pid, group, "SIGTERM");
    setTimeout(() => {
      for (const [pid, group] of watched) signal(pid, group, "SIGKILL");
      process.exit(0);
    }, GRACE_MS);
  });
