export { createDatabase, type CreateDatabaseParameters, type DatabaseTarget } from "./createDatabase.js";
export { type Database, type QueryResult, type Queryable, type Row, sqlStateOf } from "./database.js";
export { migrate, type MigrateParameters, type MigrateReturnType, type Migration } from "./migrate.js";
