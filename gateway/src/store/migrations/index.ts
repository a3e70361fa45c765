import type { Migration } from "../migrate.js";
import { initialMigration } from "./0001_initial.js";
import { indexerMigration } from "./0002_indexer.js";
import { settlementMigration } from "./0003_settlement.js";
import { identityMigration } from "./0004_identity.js";
import { utilityMigration } from "./0005_utility.js";
import { billingMigration } from "./0006_billing.js";
import { supplyMigration } from "./0007_supply.js";
import { utcHoursMigration } from "./0008_utc_hours.js";
import { utilityLeaseMigration } from "./0009_utility_lease.js";
import { batteryReportsMigration } from "./0010_battery_reports.js";

/** Every migration, oldest first. Append only: an applied migration is never edited. */
export const migrations: readonly Migration[] = [
  initialMigration,
  indexerMigration,
  settlementMigration,
  identityMigration,
  utilityMigration,
  billingMigration,
  supplyMigration,
  utcHoursMigration,
  utilityLeaseMigration,
  batteryReportsMigration,
];
