/**
 * Billing (seed 000 §2.2.4): monthly time-of-use rates, Create_bills with P2P netting and the
 * base-bill rules, Send_billing_rates to the controllers, the bills' JSON and CSV exports, and the
 * current month's statement so far (a draft computed by the same code, stored nowhere).
 */
export { BillingError, type BillingRefusal } from "./billingError.js";
export { monthSchema, nextMonth } from "./billingMonth.js";
export {
  billingRatesInputSchema,
  listBillingRates,
  readBillingRates,
  setBillingRates,
  type BillingRates,
  type BillingRatesInput,
} from "./billingRates.js";
export { configureBilling, readBillingSettings, type BillingSettings } from "./billingSettings.js";
export { billsCsv, statementCsv } from "./billsCsv.js";
export { createBills, readBillingRun, type BillingRun, type CreateBillsResult } from "./createBills.js";
export { createDueBills } from "./createDueBills.js";
export { describeMissingData, type MissingBillingData } from "./missingBillingData.js";
export {
  BASE_BILL_RULE_NOTE,
  computeMonthToDate,
  type MonthToDateStatement,
  type StatementBill,
} from "./monthToDate.js";
export {
  baseBillRules,
  billLineKinds,
  readBills,
  type Bill,
  type BilledMonth,
  type BillLine,
} from "./readBills.js";
export { sendBillingRates, type SendBillingRatesResult } from "./sendBillingRates.js";
