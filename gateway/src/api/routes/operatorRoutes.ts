import { z } from "zod";

import { ApiError } from "../apiError.js";
import { defineRoute } from "../route.js";
import { addressParam, uint64Param } from "../schemas.js";

export const operatorStatusRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/status",
  tag: "operator",
  operator: true,
  summary: "The gateway's loops: what each did last and whether it is healthy",
  response: "OperatorStatus",
  handle: ({ deps }) => deps.status(),
});

export const retryClearingRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/clearings/{interval}/retry",
  tag: "operator",
  operator: true,
  summary: "Forget a failed clearing so that the submitter computes and submits it again",
  description:
    "Deletes the clearing with its batches, fills and settlements; only a failed clearing qualifies.",
  params: z.strictObject({ interval: uint64Param }),
  response: "ClearingRetry",
  errors: [404, 409],
  async handle({ params, deps }) {
    const interval = params.interval.toString();
    // Deleting only when failed, in one statement, leaves no window for the submitter to race.
    const deleted = await deps.db.query<{ batch_count: number }>(
      "DELETE FROM clearings WHERE interval_index = $1 AND status = 'failed' RETURNING batch_count",
      [interval],
    );
    if (deleted.rows[0] === undefined) {
      const { rows } = await deps.db.query<{ status: string }>(
        "SELECT status FROM clearings WHERE interval_index = $1",
        [interval],
      );
      if (rows[0] === undefined) throw new ApiError(404, `no clearing for interval ${interval}`);
      throw new ApiError(
        409,
        `clearing of interval ${interval} is ${rows[0].status}; only a failed one can be retried`,
      );
    }
    deps.logger.info({ interval }, "operator deleted a failed clearing for the submitter to redo");
    return { interval, deletedBatches: deleted.rows[0].batch_count };
  },
});

export const retryReadingRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/readings/retry",
  tag: "operator",
  operator: true,
  summary: "Queue a reading the DeliveryLedger rejected for relaying again",
  description: "Sets a rejected reading back to pending and clears its ledger error.",
  body: z.strictObject({ meter: addressParam, sequence: uint64Param }),
  maxBodyBytes: 4096,
  response: "ReadingRetry",
  errors: [404, 409, 413, 415],
  async handle({ body, deps }) {
    const sequence = body.sequence.toString();
    const updated = await deps.db.query(
      `UPDATE readings SET ledger_status = 'pending', ledger_error = NULL
       WHERE meter = $1 AND sequence = $2 AND ledger_status = 'rejected'`,
      [body.meter, sequence],
    );
    if (updated.rowCount === 0) {
      const { rows } = await deps.db.query<{ ledger_status: string }>(
        "SELECT ledger_status FROM readings WHERE meter = $1 AND sequence = $2",
        [body.meter, sequence],
      );
      const which = `reading ${sequence} of meter ${body.meter}`;
      if (rows[0] === undefined) throw new ApiError(404, `no ${which}`);
      throw new ApiError(409, `${which} is ${rows[0].ledger_status}; only a rejected one can be retried`);
    }
    deps.logger.info({ meter: body.meter, sequence }, "operator queued a rejected reading again");
    return { meter: body.meter, sequence, ledgerStatus: "pending" };
  },
});
