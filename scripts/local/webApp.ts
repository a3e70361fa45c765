import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { ManagedProcess } from "./managedProcess.js";

export const WEB_DIR = path.resolve(import.meta.dirname, "../../web");
const REPO_ROOT = path.dirname(WEB_DIR);
/** Configuration files whose change calls for a new build, beside the sources. */
const CONFIG_FILE =
  /^(next\.config\.[cm]?[jt]s|package\.json|tsconfig(\..+)?\.json|postcss\.config\.[cm]?[jt]s|tailwind\.config\.[cm]?[jt]s|\.env(\..+)?)$/;

/** Why the web app cannot be served, or undefined when it can. */
export async function webAppUnavailable(webDir = WEB_DIR): Promise<string | undefined> {
  let scripts: Record<string, string> | undefined;
  try {
    ({ scripts } = JSON.parse(await readFile(path.join(webDir, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    });
  } catch {
    return `${webDir} has no package.json`;
  }
  return scripts?.build === undefined ? "web/ has no build script yet" : undefined;
}

async function newestMtime(target: string): Promise<number> {
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(target, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".next") continue;
    newest = Math.max(newest, await newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

/**
 * Whether `web/.next/BUILD_ID` is missing or older than a file under web/src, web/app or a web
 * configuration file: then the app must be built before it is served.
 */
export async function webBuildStale(webDir = WEB_DIR): Promise<boolean> {
  const built = await stat(path.join(webDir, ".next", "BUILD_ID")).catch(() => undefined);
  if (built === undefined) return true;
  const configs = (await readdir(webDir)).filter((name) => CONFIG_FILE.test(name));
  const sources = await Promise.all(
    ["src", "app", ...configs].map((name) => newestMtime(path.join(webDir, name))),
  );
  return Math.max(...sources) > built.mtimeMs;
}

/** `npm run build -w web`, its output in `logFile`; `done` resolves when it succeeded. */
export function buildWebApp(logFile: string): { process: ManagedProcess; done: Promise<void> } {
  const build = new ManagedProcess({
    name: "web build",
    command: process.platform === "win32" ? "npm.cmd" : "npm",
    args: ["run", "build", "-w", "web"],
    cwd: REPO_ROOT,
    logFile,
    // npm runs the build in children of its own: a stop must reach them too.
    group: true,
  });
  const done = build.exited.then(({ code, signal }) => {
    if (code !== 0)
      throw new Error(`the web app's build failed (${code ?? signal}); see ${logFile}:\n${build.tail(2000)}`);
  });
  return { process: build, done };
}

export interface ServeWebAppParameters {
  host: string;
  port: number;
  gatewayUrl: string;
  rpcUrl: string;
  logFile: string;
}

/**
 * `next start -p <port> -H <host>` in web/ (what `npx next start` runs, without npx's extra
 * process), told the gateway's and the chain's URLs; ready once it answers HTTP.
 */
export function serveWebApp(p: ServeWebAppParameters): ManagedProcess<string> {
  const next = createRequire(path.join(WEB_DIR, "package.json")).resolve("next/dist/bin/next");
  const url = `http://${p.host.includes(":") ? `[${p.host}]` : p.host}:${p.port}`;
  return new ManagedProcess<string>({
    name: "web app",
    args: [next, "start", "-p", String(p.port), "-H", p.host],
    cwd: WEB_DIR,
    env: { GRIDMESH_GATEWAY_URL: p.gatewayUrl, GRIDMESH_RPC_URL: p.rpcUrl, NODE_ENV: "production" },
    logFile: p.logFile,
    // Next prints "✓ Ready in …" once it serves.
    ready: (line) => (/\bReady\b/.test(line) ? url : undefined),
    readyTimeoutMs: 120_000,
  });
}
