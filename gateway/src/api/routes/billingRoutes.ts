import { z } from "zod";

import {
  BillingError,
  billsCsv,
  createBills,
  describeMissingData,
  listBillingRates,
  readBills,
  setBillingRates,
  type BillingRefusal,
} from "../../utility/billing/index.js";
import { ApiError, invalidRequest, issuesOf } from "../apiError.js";
import { accountQuery, createBillsBodySchema, monthParam, ratesBodySchema } from "../billingSchemas.js";
import { clockOf, defineRoute, matchPath, type Route } from "../route.js";

const STATUS_OF: Record<BillingRefusal, number> = {
  rates_locked: 409,
  out_of_order: 409,
  month_not_ended: 409,
  no_rates: 409,
  not_configured: 503,
  invalid_time_zone: 400,
  not_billed: 404,
};

/** Billing's refusals become the API's, with their message; anything else stays a 500. */
async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BillingError) throw new ApiError(STATUS_OF[error.refusal], error.message);
    throw error;
  }
}

const monthPath = z.strictObject({ month: monthParam });
const accountFilter = z.strictObject({ account: accountQuery });

const ratesRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/billing/rates",
  tag: "billing",
  operator: true,
  summary: "Every month's billing rates, oldest first",
  response: "BillingRatesList",
  handle: async ({ deps }) => ({ items: await listBillingRates(deps.db) }),
});

const setRatesRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/billing/rates",
  tag: "billing",
  operator: true,
  summary: "Set a month's rates (Set_billing_rates)",
  description:
    "Adds or replaces the month's peak and non-peak rates (token base units per kWh) and peak hours " +
    "[peakStartHour, peakEndHour) in timeZone (the configured billing zone when omitted). A billed " +
    "month's rates cannot change (409). The controllers get the current month's rates from the " +
    "utility's monthly Send_billing_rates.",
  body: ratesBodySchema,
  maxBodyBytes: 4096,
  response: "BillingRates",
  errors: [409, 413, 415, 503],
  async handle({ body, deps }) {
    const rates = await refusing(() => setBillingRates({ db: deps.db, clock: clockOf(deps), rates: body }));
    deps.logger.info({ rates }, "operator set billing rates");
    return rates;
  },
});

const createBillsRoute = defineRoute({
  method: "POST",
  path: "/v1/operator/billing/months/{month}/bills",
  tag: "billing",
  operator: true,
  summary: "Bill a month (Create_bills), or answer with its run when it is billed already",
  description:
    "Bills every customer account for the month's usage once the month has ended, months in order. " +
    "While data is missing (hours in the failed-request queue or not received, P2P deliveries not " +
    "settled) it refuses with 409 saying what is missing, unless `force` is given with a `reason`, " +
    "which the run and its bills record.",
  params: monthPath,
  body: createBillsBodySchema,
  maxBodyBytes: 4096,
  response: "BillingRunResult",
  errors: [409, 413, 415, 503],
  async handle({ params, body, deps }) {
    const result = await refusing(() =>
      createBills({
        db: deps.db,
        clock: clockOf(deps),
        logger: deps.logger,
        month: params.month,
        force: body.force ? { reason: body.reason! } : undefined,
      }),
    );
    if (result.status === "incomplete") {
      throw new ApiError(
        409,
        `${params.month} cannot be billed while data is missing: ${describeMissingData(result.missing)}; ` +
          "force it with a reason to bill anyway",
      );
    }
    return result;
  },
});

const billsRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/billing/months/{month}/bills",
  tag: "billing",
  operator: true,
  summary: "A billed month's bills with their lines, as JSON",
  params: monthPath,
  query: accountFilter,
  response: "BilledMonth",
  errors: [404],
  handle: ({ params, query, deps }) =>
    refusing(() => readBills(deps.db, { month: params.month, accountNumber: query.account })),
});

const billsCsvPath = "/v1/operator/billing/months/{month}/bills.csv";

const billsCsvRoute = defineRoute({
  method: "GET",
  path: billsCsvPath,
  tag: "billing",
  operator: true,
  summary: "A billed month's bills as CSV, one row per bill line",
  description: "Answers text/csv (a download named bills-<month>.csv), not JSON.",
  params: monthPath,
  query: accountFilter,
  response: "BillsCsv",
  responseType: "text/csv",
  errors: [404],
  // The router has checked the path and query already; `respond` gets the raw request, so they
  // are parsed again here, which cannot fail.
  async respond(req, res, deps) {
    const url = new URL(req.url ?? "/", "http://gateway");
    const params = monthPath.safeParse(matchPath(billsCsvPath, url.pathname));
    const query = accountFilter.safeParse(Object.fromEntries(url.searchParams));
    if (!params.success) throw invalidRequest(issuesOf("path", params.error));
    if (!query.success) throw invalidRequest(issuesOf("query", query.error));
    const { month } = params.data;
    const billed = await refusing(() => readBills(deps.db, { month, accountNumber: query.data.account }));
    res
      .writeHead(200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="bills-${month}.csv"`,
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      })
      .end(billsCsv(billed));
  },
});

/** The billing endpoints (issue 7): operator only, since bills name customers' accounts. */
export const billingRoutes: readonly Route[] = [
  ratesRoute,
  setRatesRoute,
  createBillsRoute,
  billsRoute,
  billsCsvRoute,
];
