import { PGlite } from "@electric-sql/pglite";
import { rmSync } from "node:fs";
const dir = "/tmp/exp/pgdata"; rmSync(dir, { recursive: true, force: true });
const db = await PGlite.create({ dataDir: dir });
await db.exec(`CREATE TABLE meter_records (meter_id INT NOT NULL, sequence BIGINT NOT NULL, start_time TIMESTAMPTZ NOT NULL, end_time TIMESTAMPTZ NOT NULL, import_wh BIGINT NOT NULL, export_wh BIGINT NOT NULL, signature BYTEA NOT NULL, PRIMARY KEY (meter_id, sequence))`);
let t = performance.now();
const M = Number(process.env.M ?? 1000);
for (let m = 0; m < M; m += 50) {
  await db.exec(`INSERT INTO meter_records SELECT m, s, timestamptz '2026-10-01 00:00Z' + s * interval '5 minutes', timestamptz '2026-10-01 00:05Z' + s * interval '5 minutes', (m*7+s*13)%500, (m*3+s*11)%300, decode(repeat('ab',65),'hex') FROM generate_series(${m}, ${m + 49}) m, generate_series(0, 8927) s`);
}
console.log("load", (performance.now() - t) / 1000);
t = performance.now();
const r = await db.query(`SELECT meter_id, sum(import_wh) FILTER (WHERE extract(hour FROM start_time AT TIME ZONE 'UTC') BETWEEN 17 AND 20) AS peak, sum(import_wh) FILTER (WHERE NOT extract(hour FROM start_time AT TIME ZONE 'UTC') BETWEEN 17 AND 20) AS off, sum(export_wh) FROM meter_records WHERE start_time >= '2026-10-01Z' AND start_time < '2026-11-01Z' GROUP BY meter_id`);
console.log("bill query", (performance.now() - t) / 1000, r.rows.length);
await db.close();
