import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** The agent's structured logger: JSON lines to stdout (journald keeps them), secrets censored. */
export function createAgentLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "meter-agent" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["passphrase", "*.passphrase", "privateKey", "*.privateKey", "secret", "*.secret"],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination(1),
  );
}
