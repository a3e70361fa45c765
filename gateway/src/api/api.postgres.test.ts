import { privatePostgresDatabases } from "../store/testing/postgresServer.js";
import { defineApiSuite } from "./testing/apiSuite.js";

// The same suite on a PostgreSQL server: one private server, one database for the suite.
defineApiSuite({ engine: "postgres", ...privatePostgresDatabases("api") });
