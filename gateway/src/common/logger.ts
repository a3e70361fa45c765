import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Field paths never written to logs, wherever they appear in a log record's context. Keys and
 * credentials must not reach log files even when a whole request or config object is logged.
 */
export const redactedPaths = [
  "privateKey",
  "*.privateKey",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "database.url",
] as const;

export interface CreateLoggerParameters {
  level: string;
  /** Defaults to stdout; tests pass a stream to read what was written. */
  destination?: DestinationStream;
}

/** The gateway's one structured logger: JSON lines, ISO timestamps, secrets censored. */
export function createLogger({ level, destination }: CreateLoggerParameters): Logger {
  return pino(
    {
      level,
      base: { service: "gateway" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...redactedPaths], censor: "[redacted]" },
    },
    destination ?? pino.destination(1),
  );
}
