/** Runs a short-lived command (a Fabric CLI, go, tar) and fails with what it printed. */
import { execFile } from "node:child_process";
import path from "node:path";

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const output = (stderr.trim() || stdout.trim()).split("\n").slice(-15).join("\n");
    super(`${command} failed (exit ${String(exitCode)})${output ? `:\n${output}` : ""}`);
    this.name = "CommandError";
  }
}

function describe(file: string, args: readonly string[]): string {
  return [path.basename(file), ...args].join(" ");
}

export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error) {
          const code =
            (error as NodeJS.ErrnoException & { code?: number | string }).code ?? error.signal ?? null;
          reject(new CommandError(describe(file, args), code, stdout, stderr || error.message));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
