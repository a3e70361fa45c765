import { spawn } from "node:child_process";

export interface PtyPairOptions {
  /** The socat binary. Default `socat` on the PATH. */
  socat?: string;
  /** How long socat may take to set up. Default 5,000 ms. */
  timeoutMs?: number;
}

/** Two pseudo-terminals joined back to back: bytes written to one are read from the other. */
export interface PtyPair {
  readonly paths: readonly [string, string];
  /** Stops socat; safe to call twice and after socat has already gone. */
  close(): Promise<void>;
}

/**
 * Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and reads the two /dev/pts paths from its
 * log. Ready once socat says it entered its transfer loop, so both ends can be opened at once.
 * socat is also killed if this process exits without closing it, so none is left behind.
 */
export function openPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const { socat = "socat", timeoutMs = 5000 } = options;
  const child = spawn(socat, ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), 1000);
        await exited;
        clearTimeout(force);
      }
    })();
    return closing;
  };

  return new Promise<PtyPair>((resolve, reject) => {
    let log = "";
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close().then(() => reject(new Error(`${message}${log ? `; socat said:\n${log.trim()}` : ""}`)));
    };
    const timer = setTimeout(() => fail(`socat did not set up a pty pair within ${timeoutMs} ms`), timeoutMs);
    child.once("error", (error: NodeJS.ErrnoException) =>
      fail(
        error.code === "ENOENT"
          ? `${socat} not found (install socat)`
          : `cannot start socat: ${error.message}`,
      ),
    );
    child.once("exit", (code, signal) => fail(`socat exited early (${signal ?? `code ${code}`})`));
    child.stderr.setEncoding("utf8");
    // Keep reading after setup too, or a full pipe would block socat.
    child.stderr.on("data", (text: string) => {
      if (settled) return;
      log += text;
      const paths = [...log.matchAll(/PTY is (\/\S+)/g)].map((m) => m[1]!);
      if (paths.length >= 2 && log.includes("starting data transfer loop")) {
        settled = true;
        clearTimeout(timer);
        resolve({ paths: [paths[0]!, paths[1]!], close });
      }
    });
  });
}
