/**
 * node:sqlite (the agents' store and the embedded Secure ID ledger, both loaded here) is stable in
 * practice; its experimental notice at every start would only teach users to ignore warnings. Node
 * prints warnings from a default "warning" listener, which this replaces with one that passes on every
 * other warning as Node would. Imported first, before anything loads node:sqlite.
 */
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && warning.message.startsWith("SQLite is an experimental"))
    return;
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
});
