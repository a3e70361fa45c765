import { privatePostgresDatabases } from "../../store/testing/postgresServer.js";
import { defineMonthToDateSuite } from "./testing/monthToDateSuite.js";

// The same suite on a PostgreSQL server: one private server, a fresh database per test.
defineMonthToDateSuite({ engine: "postgres", ...privatePostgresDatabases("month_to_date") });
