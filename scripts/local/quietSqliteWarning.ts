/**
 * node:sqlite (the agents' store and the embedded Secure ID ledger, both loaded here) is stable in
 * practice; its experimental notice at every start would only teach users to ignore warnings. Imported
 * first, before any module that loads node:sqlite, as `gridmesh-agent` does.
 */
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).startsWith("SQLite is an experimental feature")) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
};
