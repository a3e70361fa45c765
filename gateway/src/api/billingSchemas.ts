import { z } from "zod";

import {
  baseBillRules,
  billingRatesInputSchema,
  billLineKinds,
  monthSchema,
} from "../utility/billing/index.js";
import { count, lowerAddress, timestamp } from "./schemaParts.js";

/**
 * The billing endpoints' schemas (seed 000 §2.2.4): monthly rates, Create_bills, and the bills'
 * JSON and CSV exports. Money is token base units and energy watt-hours, as decimal strings.
 */

// --- parameters and bodies ----------------------------------------------------------------------

export const monthParam = monthSchema;

export const accountQuery = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be an account number")
  .optional()
  .describe("one account's bill; every account's when omitted");

export const ratesBodySchema = billingRatesInputSchema;

export const createBillsBodySchema = z
  .strictObject({
    force: z
      .boolean()
      .default(false)
      .describe("bill although data is missing (failed or missing hours, unsettled P2P deliveries)"),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .describe("why the operator forces it; required with force"),
  })
  .refine((b) => !b.force || b.reason !== undefined, { path: ["reason"], message: "is required with force" });

// --- responses ---------------------------------------------------------------------------------

const uint = z.string().regex(/^(0|[1-9][0-9]*)$/);
const signed = z.string().regex(/^-?(0|[1-9][0-9]*)$/);

export const billingRatesSchema = z.strictObject({
  month: monthSchema,
  peakRate: uint.describe("token base units per kWh imported in peak hours"),
  offPeakRate: uint.describe("token base units per kWh imported outside peak hours, and per kWh exported"),
  peakStartHour: z.int().min(0).max(23),
  peakEndHour: z.int().min(1).max(24).describe("peak hours are [peakStartHour, peakEndHour) each day"),
  timeZone: z.string().describe("IANA zone of the peak hours and of the month"),
  setAt: timestamp,
});
export const billingRatesListSchema = z.strictObject({ items: z.array(billingRatesSchema) });

export const missingBillingDataSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("failed_requests"),
    controllerId: z.string(),
    hours: count,
    first: timestamp,
    last: timestamp,
  }),
  z.strictObject({
    kind: z.literal("missing_hours"),
    controllerId: z.string(),
    hours: count,
    first: timestamp,
    last: timestamp,
  }),
  z.strictObject({
    kind: z.literal("unsettled_p2p"),
    deliveries: count,
    firstInterval: uint,
    lastInterval: uint,
  }),
]);

const runFields = {
  month: monthSchema,
  periodStart: timestamp,
  periodEnd: timestamp,
  accounts: count,
  totalDue: uint.describe("sum of the bills' amounts due"),
  forced: z.boolean(),
  forceReason: z.string().nullable(),
  missing: z.array(missingBillingDataSchema).describe("what was missing when the run was forced"),
  createdAt: timestamp,
};

export const billingRunResultSchema = z.strictObject({
  status: z
    .enum(["created", "already_billed"])
    .describe("already_billed: the month was billed before, unchanged"),
  run: z.strictObject(runFields),
});

export const billLineSchema = z.strictObject({
  position: count,
  kind: z.enum(billLineKinds),
  description: z.string(),
  energyWh: uint.nullable(),
  ratePerKwh: uint.nullable(),
  amount: signed.describe("what the line adds to the bill: credits negative, P2P lines 0"),
  onchainAmount: uint.nullable().describe("P2P lines: paid (purchases) or received (sales) on chain"),
});

/** What a bill and a month-to-date statement both count (watt-hours). */
const usageFields = {
  importWh: uint,
  exportWh: uint,
  p2pBoughtWh: uint,
  p2pSoldWh: uint,
  billedImportWh: uint.describe("import less P2P purchases, per meter and interval, not below 0"),
  creditedExportWh: uint.describe("export less P2P sales, per meter and interval, not below 0"),
};

export const billSchema = z.strictObject({
  month: monthSchema,
  accountNumber: z.string(),
  controllerId: z.string(),
  baseBill: uint,
  nextBaseBill: uint,
  baseBillRule: z.enum(baseBillRules),
  ...usageFields,
  subtotal: signed.describe("base bill + charges - credits"),
  totalDue: uint.describe("the subtotal, or 0 when it is negative"),
  forced: z.boolean(),
  createdAt: timestamp,
  lines: z.array(billLineSchema),
});

export const billedMonthSchema = z.strictObject({
  ...runFields,
  timeZone: z.string(),
  rates: z.strictObject({
    peakRate: uint,
    offPeakRate: uint,
    peakStartHour: z.int(),
    peakEndHour: z.int(),
  }),
  bills: z.array(billSchema),
});

export const customerBillsSchema = z
  .strictObject({
    account: lowerAddress,
    accounts: z.array(z.string()).describe("the customer accounts with a meter this wallet owns"),
    months: z.array(billedMonthSchema).describe("latest first; each holds only this wallet's bills"),
  })
  .describe("a wallet's own bills");

export const statementBillSchema = z
  .strictObject({
    month: monthSchema,
    accountNumber: z.string(),
    controllerId: z.string(),
    baseBill: uint.describe("the base bill as it stands now; the whole month's bill charges it in full"),
    ...usageFields,
    subtotal: signed.describe("base bill + charges - credits so far, unadjusted: may be negative"),
    lines: z.array(billLineSchema).describe("a bill's lines, without the negative-bill adjustment"),
  })
  .describe("one account's bill so far");

export const monthToDateStatementSchema = z
  .strictObject({
    draft: z.literal(true).describe("always true: not a bill, computed on request and stored nowhere"),
    month: monthSchema,
    timeZone: z.string(),
    periodStart: timestamp.describe("the month's start; the statement covers [periodStart, asOf)"),
    asOf: timestamp.describe("end of the last hour of data the utility holds from the accounts' controllers"),
    monthEnd: timestamp.describe("when the month ends and can be billed"),
    rates: z.strictObject({
      peakRate: uint,
      offPeakRate: uint,
      peakStartHour: z.int(),
      peakEndHour: z.int(),
    }),
    baseBillRuleApplied: z
      .literal(false)
      .describe(
        "the ±25% base-bill rule needs the whole month's subtotal: a draft shows unadjusted figures, " +
          "no next base bill and no zeroing of a negative subtotal",
      ),
    note: z.string().describe("the same, in words for the customer"),
    unbilledEarlierMonth: monthSchema
      .nullable()
      .describe("an earlier month not billed yet, whose base-bill rule will change the base bill shown"),
    missing: z
      .array(missingBillingDataSchema)
      .describe("data of the period not in yet (hours, P2P settlements): the figures will change"),
    accounts: count,
    bills: z.array(statementBillSchema),
  })
  .describe("the current month's bill so far (a draft)");

export const customerStatementSchema = z
  .strictObject({
    account: lowerAddress,
    accounts: z.array(z.string()).describe("the customer accounts with a meter this wallet owns"),
    statement: monthToDateStatementSchema
      .nullable()
      .describe("null when no customer account has a meter this wallet owns"),
  })
  .describe("a wallet's own month-to-date statement");

export const billsCsvSchema = z
  .string()
  .describe(
    "served as text/csv: a header row, then one row per bill line (month, account_number, controller_id, " +
      "line, kind, description, energy_wh, rate_per_kwh, amount, onchain_amount, bill_total_due, " +
      "next_base_bill, forced)",
  );

export const statementCsvSchema = z
  .string()
  .describe(
    "served as text/csv: the bills' CSV columns plus draft and as_of; bill_total_due holds the unadjusted " +
      "subtotal so far (may be negative) and next_base_bill is empty",
  );

/** Response schemas of the billing endpoints, named as they appear in the OpenAPI document. */
export const billingComponentSchemas = {
  BillingRates: billingRatesSchema,
  BillingRatesList: billingRatesListSchema,
  MissingBillingData: missingBillingDataSchema,
  BillingRunResult: billingRunResultSchema,
  BillLine: billLineSchema,
  Bill: billSchema,
  BilledMonth: billedMonthSchema,
  CustomerBills: customerBillsSchema,
  BillsCsv: billsCsvSchema,
  StatementBill: statementBillSchema,
  MonthToDateStatement: monthToDateStatementSchema,
  CustomerStatement: customerStatementSchema,
  StatementCsv: statementCsvSchema,
} as const;
