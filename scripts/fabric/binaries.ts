/**
 * Fabric's binaries, built from Fabric's Go module at a pinned commit and cached outside the
 * repository (`<cache>/fabric/<commit>/`), with the Go module and build caches beside them so a
 * rebuild never downloads twice. Nothing of Fabric is committed here.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import type { FabricConfig } from "./config.js";
import { exec } from "./exec.js";

/**
 * Fabric v3.1.1. The module path has no /v3 suffix, so the release tag is not a valid module
 * version; Go names the tagged commit by this pseudo-version (based on v1.4.0-rc1, the newest valid
 * tag among its ancestors), which the module proxy serves.
 */
export const FABRIC_RELEASE = "3.1.1";
export const FABRIC_COMMIT = "435a7f1a780a128756fb2f72bf4cad164bf13fbb";
export const FABRIC_MODULE = "github.com/hyperledger/fabric";
export const FABRIC_MODULE_VERSION = "v1.4.0-rc1.0.20250510200036-435a7f1a780a";
/** go.sum hash of that module zip: the download is refused if the proxy ever serves other bytes. */
const FABRIC_MODULE_SUM = "h1:l9dE3iuE+mKj7K8Tcx904cF8zJpaNQONh3GNZdXnnyc=";

export const FABRIC_BINARIES = [
  "peer",
  "orderer",
  "configtxgen",
  "osnadmin",
  "cryptogen",
  "discover",
] as const;
export type FabricBinary = (typeof FABRIC_BINARIES)[number];

export interface FabricInstall {
  /** Absolute path of each binary. */
  bin: Record<FabricBinary, string>;
  /** The module's sampleconfig/ (core.yaml, orderer.yaml), read-only. */
  sampleConfig: string;
}

interface Stamp {
  commit: string;
  moduleVersion: string;
  goVersion: string;
  binaries: readonly string[];
}

function fabricCacheDir(cfg: FabricConfig): string {
  return path.join(cfg.cacheRoot, "fabric", FABRIC_COMMIT);
}

function goEnv(cacheDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPATH: path.join(cacheDir, "go"),
    GOMODCACHE: path.join(cacheDir, "go", "pkg", "mod"),
    GOCACHE: path.join(cacheDir, "go-build"),
    // Writable module cache, so `rm -rf` of the cache directory works without chmod.
    GOFLAGS: "-modcacherw",
    // Fail with a clear version error rather than trying to download another toolchain.
    GOTOOLCHAIN: "local",
    // Pure-Go static binaries: no C compiler needed, and nothing breaks when system libraries change.
    CGO_ENABLED: "0",
  };
}

function findGo(): string {
  const candidates = [
    process.env.GRIDMESH_GO,
    ...(process.env.PATH ?? "").split(path.delimiter).map((dir) => (dir ? path.join(dir, "go") : undefined)),
    "/usr/local/go/bin/go",
  ];
  const found = candidates.find((candidate) => candidate !== undefined && existsSync(candidate));
  if (!found) {
    throw new Error(
      "Go is needed to build Hyperledger Fabric (go.mod asks for Go 1.24.2 or newer) and was not found on PATH, " +
        "in /usr/local/go/bin or in $GRIDMESH_GO",
    );
  }
  return found;
}

function installFor(cacheDir: string, moduleDir: string): FabricInstall {
  const binDir = path.join(cacheDir, "bin");
  const bin = Object.fromEntries(FABRIC_BINARIES.map((name) => [name, path.join(binDir, name)])) as Record<
    FabricBinary,
    string
  >;
  return { bin, sampleConfig: path.join(moduleDir, "sampleconfig") };
}

function moduleDirOf(cacheDir: string): string {
  return path.join(cacheDir, "go", "pkg", "mod", `${FABRIC_MODULE}@${FABRIC_MODULE_VERSION}`);
}

async function readStamp(file: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

/** The cached binaries if a complete build for the pinned commit is there, else undefined. */
export async function findFabricInstall(cfg: FabricConfig): Promise<FabricInstall | undefined> {
  const cacheDir = fabricCacheDir(cfg);
  const stamp = await readStamp(path.join(cacheDir, "bin", ".stamp.json"));
  const install = installFor(cacheDir, moduleDirOf(cacheDir));
  const complete =
    stamp?.commit === FABRIC_COMMIT &&
    FABRIC_BINARIES.every((name) => existsSync(install.bin[name])) &&
    existsSync(path.join(install.sampleConfig, "core.yaml"));
  return complete ? install : undefined;
}

/** Builds the binaries once (a few minutes on two cores) and returns them; later calls are instant. */
export async function ensureFabricBinaries(cfg: FabricConfig): Promise<FabricInstall> {
  const cached = await findFabricInstall(cfg);
  if (cached) return cached;

  const cacheDir = fabricCacheDir(cfg);
  const go = findGo();
  const env = goEnv(cacheDir);
  const goVersion = (await exec(go, ["env", "GOVERSION"], { env })).stdout.trim();
  cfg.log(
    `building Fabric ${FABRIC_RELEASE} (${FABRIC_COMMIT.slice(0, 12)}) with ${goVersion} into ${cacheDir}`,
  );
  await mkdir(cacheDir, { recursive: true });

  // `go install pkg@version` would also ask the proxy for the module's version list (to look for a
  // deprecation notice), which the proxy refuses for this module; building inside the downloaded
  // module needs only the pinned version and its go.sum.
  const download = JSON.parse(
    (
      await exec(go, ["mod", "download", "-json", `${FABRIC_MODULE}@${FABRIC_MODULE_VERSION}`], {
        env,
        cwd: cacheDir,
        timeoutMs: 15 * 60_000,
      })
    ).stdout,
  ) as { Dir?: string; Sum?: string; Error?: string };
  if (download.Error || !download.Dir) {
    throw new Error(
      `go mod download ${FABRIC_MODULE}@${FABRIC_MODULE_VERSION}: ${download.Error ?? "no Dir"}`,
    );
  }
  if (download.Sum !== FABRIC_MODULE_SUM) {
    throw new Error(
      `${FABRIC_MODULE}@${FABRIC_MODULE_VERSION} has hash ${String(download.Sum)}, expected ${FABRIC_MODULE_SUM}`,
    );
  }

  // Build into a staging directory and rename it, so an interrupted build never looks complete.
  const binDir = path.join(cacheDir, "bin");
  const staging = `${binDir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const metadata = `${FABRIC_MODULE}/common/metadata`;
  const ldflags = [
    `-X ${metadata}.Version=${FABRIC_RELEASE}`,
    `-X ${metadata}.CommitSHA=${FABRIC_COMMIT.slice(0, 9)}`,
  ];
  const started = Date.now();
  await exec(
    go,
    [
      "build",
      "-trimpath",
      "-ldflags",
      ldflags.join(" "),
      "-o",
      `${staging}${path.sep}`,
      ...FABRIC_BINARIES.map((name) => `./cmd/${name}`),
    ],
    { env, cwd: download.Dir, timeoutMs: 60 * 60_000 },
  );
  const stamp: Stamp = {
    commit: FABRIC_COMMIT,
    moduleVersion: FABRIC_MODULE_VERSION,
    goVersion,
    binaries: FABRIC_BINARIES,
  };
  await writeFile(path.join(staging, ".stamp.json"), `${JSON.stringify(stamp, null, 2)}\n`);
  await rm(binDir, { recursive: true, force: true });
  await rename(staging, binDir);
  cfg.log(`built ${FABRIC_BINARIES.join(", ")} in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const install = await findFabricInstall(cfg);
  if (!install)
    throw new Error(`Fabric build in ${cacheDir} finished but its binaries or sampleconfig are missing`);
  return install;
}
