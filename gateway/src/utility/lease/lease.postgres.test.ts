import { privatePostgresDatabases } from "../../store/testing/postgresServer.js";
import { defineLeaseSuite } from "./testing/leaseSuite.js";

// Where the lease matters: several utility processes on one PostgreSQL server.
defineLeaseSuite({ engine: "postgres", ...privatePostgresDatabases("lease") });
