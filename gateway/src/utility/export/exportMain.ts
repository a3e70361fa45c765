/**
 * `export-cidb`: writes the whole CIDB as NDJSON (exportAllData) to a file, or to stdout with
 * `--out -`. The database is the gateway's (GRIDMESH_DATABASE_URL, else the embedded store in
 * GRIDMESH_DATA_DIR, which must not be open in a running gateway: use its API export then).
 *
 *   node --import tsx gateway/src/utility/export/exportMain.ts --out cidb.ndjson
 *
 * A file is written beside its final name and renamed only once complete, so a failed export
 * never leaves a truncated file under the name asked for.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { parseArgs } from "node:util";

import { createLogger } from "../../common/logger.js";
import { gatewayEnvDefaults } from "../../config/config.js";
import { createDatabase, type DatabaseTarget } from "../../store/index.js";
import { exportAllData } from "./exportAllData.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string" } }, strict: true });
  if (values.out === undefined || values.out === "") {
    process.stderr.write("usage: export-cidb --out <file.ndjson | ->\n");
    process.exit(2);
  }
  const logger = createLogger({ level: "warn", destination: process.stderr });
  const url = process.env.GRIDMESH_DATABASE_URL;
  const database: DatabaseTarget =
    url === undefined || url === ""
      ? { kind: "embedded", dataDir: process.env.GRIDMESH_DATA_DIR ?? gatewayEnvDefaults.GRIDMESH_DATA_DIR }
      : { kind: "postgres", url };
  const db = await createDatabase({ database, logger });
  try {
    const toStdout = values.out === "-";
    const partial = `${values.out}.partial`;
    const stream = toStdout ? process.stdout : createWriteStream(partial, { flags: "w" });
    const write = async (chunk: string) => {
      if (!stream.write(chunk)) await once(stream, "drain");
    };
    try {
      const counts = await exportAllData(db, write, { now: Date.now() });
      if (!toStdout) {
        await new Promise<void>((resolve, reject) =>
          stream.end((e?: Error | null) => (e ? reject(e) : resolve())),
        );
        await rename(partial, values.out);
      }
      process.stderr.write(`${JSON.stringify({ msg: "CIDB exported", out: values.out, rows: counts })}\n`);
    } catch (error) {
      if (!toStdout) {
        stream.destroy();
        await rm(partial, { force: true });
      }
      throw error;
    }
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`export failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
