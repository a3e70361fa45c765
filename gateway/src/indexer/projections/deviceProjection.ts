import { argOf } from "../chainEvent.js";
import { KEYS, keysParam, type Projection } from "./projection.js";

const metersIn = (param: string) => `ARRAY(SELECT k->>'meter' FROM jsonb_array_elements(${param}::jsonb) k)`;

/**
 * `devices`: each meter's owner, device id and registry status (enrolled, active, deactivated),
 * from MeterRegistry's events. Partitioned by meter.
 */
export const deviceProjection: Projection = {
  name: "devices",
  events: new Set(["MeterEnrolled", "MeterActivated", "MeterDeactivated"]),

  async apply(tx, event) {
    const meter = argOf(event, "meter");
    switch (event.name) {
      case "MeterEnrolled":
        await tx.query(
          `INSERT INTO devices (meter, owner, device_id, status) VALUES ($1, $2, $3, 'enrolled')
           ON CONFLICT (meter) DO UPDATE
             SET owner = EXCLUDED.owner, device_id = EXCLUDED.device_id, status = 'enrolled', updated_at = now()`,
          [meter, argOf(event, "owner"), argOf(event, "deviceId")],
        );
        return;
      case "MeterActivated":
      case "MeterDeactivated":
        await tx.query("UPDATE devices SET status = $2, updated_at = now() WHERE meter = $1", [
          meter,
          event.name === "MeterActivated" ? "active" : "deactivated",
        ]);
        return;
    }
  },

  partitionOf(_tx, event) {
    return Promise.resolve({ meter: argOf(event, "meter") });
  },

  async clear(tx, partitions) {
    if (partitions === "all") await tx.query("DELETE FROM devices");
    else await tx.query(`DELETE FROM devices WHERE meter = ANY(${metersIn("$1")})`, [keysParam(partitions)]);
  },

  partitionFilter: `e.args->>'meter' = ANY(${metersIn(KEYS)})`,
};
