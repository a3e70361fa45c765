import { ApiError } from "../apiError.js";
import { defineRoute } from "../route.js";

export const healthRoute = defineRoute({
  method: "GET",
  path: "/v1/health",
  tag: "service",
  summary: "Whether the gateway can reach its database, which engine it is and its schema version",
  response: "Health",
  errors: [503],
  async handle({ deps }) {
    try {
      const { rows } = await deps.db.query<{ version: number | null }>(
        "SELECT max(version) AS version FROM schema_migrations",
      );
      return { ok: true, engine: deps.db.engine, schemaVersion: rows[0]?.version ?? null };
    } catch (error) {
      deps.logger.warn({ err: error }, "health check could not reach the database");
      throw new ApiError(503, `database (${deps.db.engine}) is unavailable`);
    }
  },
});
