/** Readiness by probing, never by sleeping a fixed time. */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called between attempts; throw from it to give up early (e.g. the process died). */
  check?: () => Promise<void>;
}

/**
 * Polls `probe` until it returns a value other than undefined. On timeout the error names what was
 * awaited and the probe's last error, if any.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await options.check?.();
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

export interface HttpsGetOptions {
  /** CA that issued the server's certificate: the only one trusted. */
  caFile: string;
  /** Client certificate and key, for endpoints that require one. */
  client?: { certFile: string; keyFile: string };
  timeoutMs?: number;
}

/** GET over TLS; resolves with status and body, rejects on connection errors. */
export function httpsGet(url: string, options: HttpsGetOptions): Promise<{ status: number; body: string }> {
  const tls = {
    ca: readFileSync(options.caFile),
    ...(options.client && {
      cert: readFileSync(options.client.certFile),
      key: readFileSync(options.client.keyFile),
    }),
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: options.timeoutMs ?? 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** True once a TCP connection to host:port succeeds. */
export function tcpOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}
