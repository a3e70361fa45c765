import type { ServerResponse } from "node:http";

import { z } from "zod";

import {
  BillingError,
  billsCsv,
  computeMonthToDate,
  createBills,
  describeMissingData,
  listBillingRates,
  readBills,
  setBillingRates,
  statementCsv,
  type BillingRefusal,
} from "../../utility/billing/index.js";
import { ApiError, invalidRequest, issuesOf } from "../apiError.js";
import { accountQuery, createBillsBodySchema, monthParam, ratesBodySchema } from "../billingSchemas.js";
import { clockOf, defineRoute, matchPath, type ApiDependencies, type Route } from "../route.js";

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

/** A month's bills (or a statement) as a CSV download, never cached or sniffed as anything else. */
function sendBillsCsv(res: ServerResponse, filename: string, csv: string): void {
  res
    .writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    })
    .end(csv);
}

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
    sendBillsCsv(res, `bills-${month}.csv`, billsCsv(billed));
  },
});

/** The customer accounts whose meters the wallet owns (the registry's owner of each meter). */
async function accountsOf(deps: ApiDependencies, owner: string): Promise<string[]> {
  const { rows } = await deps.db.query<{ account_number: string }>(
    `SELECT DISTINCT sm.account_number FROM smart_meters sm JOIN devices d ON d.meter = sm.meter
     WHERE d.owner = $1 ORDER BY sm.account_number`,
    [owner],
  );
  return rows.map((r) => r.account_number);
}

/**
 * One billed month of those of the given accounts billed in it, in account order. The run's figures
 * are narrowed to these bills: a customer sees their own total and their controllers' gaps, not the
 * whole utility's.
 */
async function billedMonthOf(deps: ApiDependencies, month: string, accounts: readonly string[]) {
  const billed = await readBills(deps.db, { month, accountNumbers: accounts });
  const controllers = new Set(billed.bills.map((b) => b.controllerId));
  return {
    ...billed,
    accounts: billed.bills.length,
    totalDue: billed.bills.reduce((sum, b) => sum + BigInt(b.totalDue), 0n).toString(),
    missing: billed.missing.filter((m) => "controllerId" in m && controllers.has(m.controllerId)),
  };
}

async function billedMonthsOf(deps: ApiDependencies, accounts: readonly string[]): Promise<string[]> {
  if (accounts.length === 0) return [];
  const { rows } = await deps.db.query<{ month: string }>(
    "SELECT DISTINCT month FROM bills WHERE account_number = ANY($1) ORDER BY month DESC LIMIT 24",
    [accounts],
  );
  return rows.map((r) => r.month);
}

const customerBillsRoute = defineRoute({
  method: "GET",
  path: "/v1/customer/bills",
  tag: "billing",
  customer: true,
  summary: "The signed-in wallet's own bills, latest month first (up to two years)",
  description:
    "Bills of every customer account with a meter the wallet owns in the registry, with their lines " +
    "(usage at the time-of-use rates, export credit, P2P purchases and sales). Seed 002's " +
    '"download personal usage"; the CSV form is /v1/customer/months/{month}/bills.csv.',
  response: "CustomerBills",
  errors: [503],
  async handle({ deps, customer }) {
    const accounts = await accountsOf(deps, customer!);
    const months = await billedMonthsOf(deps, accounts);
    return {
      account: customer!,
      accounts,
      months: await Promise.all(months.map((m) => billedMonthOf(deps, m, accounts))),
    };
  },
});

const customerCsvPath = "/v1/customer/months/{month}/bills.csv";

const customerBillsCsvRoute = defineRoute({
  method: "GET",
  path: customerCsvPath,
  tag: "billing",
  customer: true,
  summary: "The signed-in wallet's bills for one month as CSV, one row per bill line",
  description: "Answers text/csv (a download named bills-<month>.csv), not JSON.",
  params: monthPath,
  response: "BillsCsv",
  responseType: "text/csv",
  errors: [404, 503],
  async respond(req, res, deps, customer) {
    const url = new URL(req.url ?? "/", "http://gateway");
    const params = monthPath.safeParse(matchPath(customerCsvPath, url.pathname));
    if (!params.success) throw invalidRequest(issuesOf("path", params.error));
    const { month } = params.data;
    const accounts = await accountsOf(deps, customer!);
    // A month not billed at all is, to the customer, a month without a bill of theirs.
    const billed = await billedMonthOf(deps, month, accounts).catch((e: unknown) => {
      if (e instanceof BillingError && e.refusal === "not_billed") return undefined;
      throw e;
    });
    if (billed === undefined || billed.bills.length === 0) {
      throw new ApiError(404, `you have no bill for ${month}`);
    }
    sendBillsCsv(res, `bills-${month}.csv`, billsCsv(billed));
  },
});

const STATEMENT_DESCRIPTION =
  "The current month's bill so far, computed on request by the code that bills a closed month, over " +
  "[month start, asOf), asOf the end of the last hour of data the utility holds from the accounts' " +
  "controllers, and stored nowhere. A draft: the ±25% base-bill rule needs the whole month's subtotal, " +
  "so the figures are unadjusted (baseBillRuleApplied false; a negative subtotal is shown as it is). " +
  "409 while the month has no rates.";

/** The statement CSV's name says it is a draft and of which month. */
const statementFilename = (month: string) => `statement-${month}-draft.csv`;

const statementRoute = defineRoute({
  method: "GET",
  path: "/v1/operator/billing/statement",
  tag: "billing",
  operator: true,
  summary: "Every account's (or one account's) month-to-date statement, as JSON",
  description: STATEMENT_DESCRIPTION,
  query: accountFilter,
  response: "MonthToDateStatement",
  errors: [409, 503],
  handle: ({ query, deps }) =>
    refusing(() =>
      computeMonthToDate({
        db: deps.db,
        clock: clockOf(deps),
        accountNumbers: query.account === undefined ? undefined : [query.account],
      }),
    ),
});

const statementCsvPath = "/v1/operator/billing/statement.csv";

const statementCsvRoute = defineRoute({
  method: "GET",
  path: statementCsvPath,
  tag: "billing",
  operator: true,
  summary: "The month-to-date statement as CSV, one row per line, every row marked a draft",
  description: "Answers text/csv (a download named statement-<month>-draft.csv), not JSON.",
  query: accountFilter,
  response: "StatementCsv",
  responseType: "text/csv",
  errors: [409, 503],
  async respond(req, res, deps) {
    const url = new URL(req.url ?? "/", "http://gateway");
    const query = accountFilter.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) throw invalidRequest(issuesOf("query", query.error));
    const { account } = query.data;
    const statement = await refusing(() =>
      computeMonthToDate({
        db: deps.db,
        clock: clockOf(deps),
        accountNumbers: account === undefined ? undefined : [account],
      }),
    );
    sendBillsCsv(res, statementFilename(statement.month), statementCsv(statement));
  },
});

const customerStatementRoute = defineRoute({
  method: "GET",
  path: "/v1/customer/statement",
  tag: "billing",
  customer: true,
  summary: "The signed-in wallet's month-to-date statement: this month's bill so far (a draft)",
  description:
    `${STATEMENT_DESCRIPTION} Covers every customer account with a meter the wallet owns; statement is ` +
    "null when there is none. The CSV form is /v1/customer/statement.csv.",
  response: "CustomerStatement",
  errors: [409, 503],
  async handle({ deps, customer }) {
    const accounts = await accountsOf(deps, customer!);
    const statement =
      accounts.length === 0
        ? null
        : await refusing(() =>
            computeMonthToDate({ db: deps.db, clock: clockOf(deps), accountNumbers: accounts }),
          );
    return { account: customer!, accounts, statement };
  },
});

const customerStatementCsvRoute = defineRoute({
  method: "GET",
  path: "/v1/customer/statement.csv",
  tag: "billing",
  customer: true,
  summary: "The signed-in wallet's month-to-date statement as CSV, every row marked a draft",
  description: "Answers text/csv (a download named statement-<month>-draft.csv), not JSON.",
  response: "StatementCsv",
  responseType: "text/csv",
  errors: [404, 409, 503],
  async respond(_req, res, deps, customer) {
    const accounts = await accountsOf(deps, customer!);
    if (accounts.length === 0) {
      throw new ApiError(404, "none of your meters belongs to a customer account: there is no statement");
    }
    const statement = await refusing(() =>
      computeMonthToDate({ db: deps.db, clock: clockOf(deps), accountNumbers: accounts }),
    );
    sendBillsCsv(res, statementFilename(statement.month), statementCsv(statement));
  },
});

/**
 * The billing endpoints (issue 7): the operator's, for every account, and (issue 8) each
 * customer's own, behind a token signed in the customer's wallet; both with the current month's
 * statement so far.
 */
export const billingRoutes: readonly Route[] = [
  ratesRoute,
  setRatesRoute,
  createBillsRoute,
  billsRoute,
  billsCsvRoute,
  statementRoute,
  statementCsvRoute,
  customerBillsRoute,
  customerBillsCsvRoute,
  customerStatementRoute,
  customerStatementCsvRoute,
];
