import type { Migration } from "../migrate.js";
import { initialMigration } from "./0001_initial.js";

/** Every migration, oldest first. Append only: an applied migration is never edited. */
export const migrations: readonly Migration[] = [initialMigration];
