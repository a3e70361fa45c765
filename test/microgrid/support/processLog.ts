import { waitFor, type ServiceProcess } from "../../helpers/serviceProcess.js";

/** One structured (pino) log line of a process. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** The JSON lines a process has printed so far (its kept output; other lines are skipped). */
export function logLines(service: ServiceProcess): LogLine[] {
  return parseLogLines(service.output());
}

/** The JSON lines of a process's output. */
export function parseLogLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split("\n")) {
    if (!text.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // A line cut by the output's bound, or not JSON: not a log line.
    }
  }
  return lines;
}

/** The log lines with message `msg`. */
export function logged(service: ServiceProcess, msg: string): LogLine[] {
  return logLines(service).filter((l) => l.msg === msg);
}

/** Waits until the process logs `msg` and returns that line; fails with its output when it exits first. */
export async function waitForLog(service: ServiceProcess, msg: string, timeoutMs = 60_000): Promise<LogLine> {
  let exited = false;
  void service.exited.then(() => (exited = true));
  return waitFor(
    `${service.name} to log "${msg}"`,
    () => {
      const line = logged(service, msg)[0];
      if (line !== undefined) return line;
      if (exited)
        throw new Error(`${service.name} exited before logging "${msg}":\n${service.output().slice(-4000)}`);
      return undefined;
    },
    timeoutMs,
    20,
  );
}
