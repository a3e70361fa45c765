#!/usr/bin/env node
// The agent's command line, runnable from any directory: TypeScript is loaded through tsx, the
// project's one toolchain, so there is no build step to forget on a Pi.
import { register } from "tsx/esm/api";

// node:sqlite is stable in practice and the store relies on it; its experimental notice on every
// start would only teach operators to ignore warnings.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith("SQLite is an experimental feature")) return;
  emitWarning(warning, ...rest);
};

register();
await import("../src/cli/main.ts");
