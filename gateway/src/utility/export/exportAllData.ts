import type { Database, Queryable } from "../../store/index.js";

/** The CIDB of seed 000 Table 3 and its bookkeeping (migration 0005), in dependency order. */
export const CIDB_TABLES = [
  "microgrid_controllers",
  "customer_accounts",
  "smart_meters",
  "meter_records",
  "rejected_records",
  "usage_hours",
  "failed_requests",
  "usage_statistics",
  "controller_commands",
] as const;

/**
 * Tables billing (0006) and supply (0007) add to the CIDB, in dependency order: exported when the
 * schema has them, so this module does not depend on those migrations having landed.
 */
export const OPTIONAL_CIDB_TABLES = [
  "billing_settings",
  "billing_rates",
  "billing_runs",
  "bills",
  "bill_lines",
  "supply_state",
  "supply_status_history",
  "supply_battery",
  "supply_battery_hours",
  "supply_purchases",
  "supply_routing",
] as const;

export type ExportLine =
  | {
      type: "header";
      format: "gridmesh-cidb";
      version: 1;
      exportedAt: string;
      engine: string;
      tables: string[];
    }
  | { type: "table"; table: string; columns: { name: string; type: string }[] }
  | { type: "row"; table: string; row: Record<string, unknown> }
  | { type: "end"; rows: Record<string, number> };

export interface ExportAllDataOptions {
  /** The utility's Clock time (ms), written in the header. */
  now: number;
  /** Rows per query (and per write). */
  pageSize?: number;
  /** Instead of the CIDB's tables (tests). */
  tables?: readonly string[];
}

type Column = { name: string; type: string; base: string };

/**
 * Seed 000's Export_all_data: the whole CIDB as NDJSON, table after table — a header line, then
 * per table a line naming its columns and one line per row, and an `end` line with the row counts
 * (a stream cut short has none). Values are exact: BIGINTs and NUMERICs as decimal strings,
 * signatures and other BYTEA as 0x hex, times as UTC ISO 8601 to the microsecond, JSONB as JSON.
 *
 * Rows are read a page at a time in primary-key order, so memory stays flat however large the
 * export. On PostgreSQL the whole export is one repeatable-read snapshot; the embedded engine has a
 * single connection that a long transaction would hold from every other task, so there each page
 * is read on its own (rows written meanwhile may or may not appear, none twice).
 */
export async function exportAllData(
  db: Database,
  write: (chunk: string) => Promise<void>,
  options: ExportAllDataOptions,
): Promise<Record<string, number>> {
  const run = async (q: Queryable) => {
    const tables = options.tables ?? (await presentTables(q));
    const line = (l: ExportLine) => `${JSON.stringify(l)}\n`;
    await write(
      line({
        type: "header",
        format: "gridmesh-cidb",
        version: 1,
        exportedAt: new Date(options.now).toISOString(),
        engine: db.engine,
        tables: [...tables],
      }),
    );
    const counts: Record<string, number> = {};
    for (const table of tables)
      counts[table] = await exportTable(q, table, write, options.pageSize ?? 5000, line);
    await write(line({ type: "end", rows: counts }));
    return counts;
  };
  if (db.engine !== "postgres") return run(db);
  return db.transaction(async (tx) => {
    await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    return run(tx);
  });
}

async function presentTables(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1::text[])",
    [OPTIONAL_CIDB_TABLES],
  );
  const optional = new Set(rows.map((r) => r.name));
  return [...CIDB_TABLES, ...OPTIONAL_CIDB_TABLES.filter((t) => optional.has(t))];
}

async function exportTable(
  q: Queryable,
  table: string,
  write: (chunk: string) => Promise<void>,
  pageSize: number,
  line: (l: ExportLine) => string,
): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`${table} is not a table name`);
  const { rows: columns } = await q.query<Column>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL) AS base
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table],
  );
  const { rows: key } = await q.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary
     ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [table],
  );
  if (key.length === 0) throw new Error(`table ${table} has no primary key to export it by`);
  await write(line({ type: "table", table, columns: columns.map(({ name, type }) => ({ name, type })) }));

  const select = columns.map((c) => `${valueOf(c)} AS ${ident(c.name)}`).join(", ");
  const keyColumns = key.map((k) => ident(k.name)).join(", ");
  const keyText = `ARRAY[${key.map((k) => `${ident(k.name)}::text`).join(", ")}] AS "__key"`;
  const after = `(${keyColumns}) > (${key.map((k, i) => `$${i + 2}::${k.type}`).join(", ")})`;
  let last: string[] | undefined;
  let count = 0;
  for (;;) {
    const { rows } = await q.query<Record<string, unknown> & { __key: string[] }>(
      `SELECT ${select}, ${keyText} FROM ${ident(table)} ${last === undefined ? "" : `WHERE ${after}`}
       ORDER BY ${keyColumns} LIMIT $1`,
      [pageSize, ...(last ?? [])],
    );
    if (rows.length === 0) break;
    let chunk = "";
    for (const { __key, ...row } of rows) {
      chunk += line({ type: "row", table, row });
      last = __key;
    }
    await write(chunk);
    count += rows.length;
    if (rows.length < pageSize) break;
  }
  return count;
}

/** The SQL that renders a column exactly in JSON: text for what a JS number or Date would round. */
function valueOf(c: Column): string {
  const col = ident(c.name);
  switch (c.base) {
    case "timestamp with time zone":
      return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    case "bytea":
      return `'0x' || encode(${col}, 'hex')`;
    case "bigint":
    case "numeric":
    case "date":
    case "timestamp without time zone":
      return `${col}::text`;
    default:
      return col;
  }
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
