import type { Logger } from "../../../common/logger.js";
import { createDatabase, migrate, type Database } from "../../../store/index.js";

/** An in-memory store with every migration. */
export async function createSupplyDatabase(logger: Logger): Promise<Database> {
  const db = await createDatabase({ database: { kind: "memory" }, logger });
  await migrate(db, { logger });
  return db;
}

/** Controllers of each location, as the utility's fleet would register them. */
export async function insertControllers(
  db: Database,
  controllers: readonly { id: string; location: "residential" | "apartment" | "emergency" }[],
): Promise<void> {
  for (const c of controllers) {
    await db.query("INSERT INTO microgrid_controllers (controller_id, location, url) VALUES ($1, $2, $3)", [
      c.id,
      c.location,
      `http://127.0.0.1:1/${c.id}`,
    ]);
  }
}
