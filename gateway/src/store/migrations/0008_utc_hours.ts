import type { Migration } from "../migrate.js";

/**
 * Hours of usage_hours and failed_requests are named by their start in UTC. 0005 checked them with
 * date_trunc('hour', hour), which truncates in the session's time zone: on a server whose zone is
 * offset by half an hour (India, parts of Australia) every whole UTC hour would be refused. The
 * check now truncates in UTC whatever the session says.
 */
export const utcHoursMigration: Migration = {
  version: 8,
  name: "utc_hours",
  sql: `
ALTER TABLE usage_hours DROP CONSTRAINT usage_hours_hour_check,
  ADD CONSTRAINT usage_hours_hour_check CHECK (date_trunc('hour', hour, 'UTC') = hour);
ALTER TABLE failed_requests DROP CONSTRAINT failed_requests_hour_check,
  ADD CONSTRAINT failed_requests_hour_check CHECK (date_trunc('hour', hour, 'UTC') = hour);
`,
};
