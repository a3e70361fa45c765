import { privatePostgresDatabases } from "../store/testing/postgresServer.js";
import { defineUtilitySuite } from "./testing/utilitySuite.js";

// The same suite on a PostgreSQL server: one private server, a fresh database per test.
defineUtilitySuite({ engine: "postgres", ...privatePostgresDatabases("utility") });
