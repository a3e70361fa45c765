import { privatePostgresDatabases } from "../../store/testing/postgresServer.js";
import { defineSupplyManagerSuite } from "./testing/supplyManagerSuite.js";

defineSupplyManagerSuite({ engine: "PostgreSQL", ...privatePostgresDatabases("supply") });
