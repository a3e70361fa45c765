import { privatePostgresDatabases } from "../../store/testing/postgresServer.js";
import { defineBillingSuite } from "./testing/billingSuite.js";

// The same suite on a PostgreSQL server: one private server, a fresh database per test.
defineBillingSuite({ engine: "postgres", ...privatePostgresDatabases("billing") });
