import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** Where a configuration says a shared secret is kept; never the secret itself. */
export interface SecretSource {
  /** The name of an environment variable holding the secret. */
  readonly secretEnv?: string | undefined;
  /** A file holding the secret (a systemd credential, a mounted secret); one trailing newline is ignored. */
  readonly secretFile?: string | undefined;
}

/**
 * Reads a shared secret from its source. Synchronous: it runs once while a topology is built.
 * Errors say which source failed and how, never what it holds.
 */
export function readSecret(
  source: SecretSource,
  env: Readonly<Record<string, string | undefined>>,
  /** Relative `secretFile` paths start here (the topology file's folder). */
  baseDir: string = process.cwd(),
): string {
  if (source.secretFile !== undefined) {
    const path = resolve(baseDir, source.secretFile);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? "unreadable";
      throw new Error(`cannot read the secret file ${path}: ${code}`, { cause });
    }
    return text.replace(/\r?\n$/, "");
  }
  if (source.secretEnv !== undefined) {
    const secret = env[source.secretEnv];
    if (secret === undefined || secret === "") {
      throw new Error(`the environment variable ${source.secretEnv} holding the secret is not set`);
    }
    return secret;
  }
  throw new Error("no secret source: give secretEnv or secretFile");
}
