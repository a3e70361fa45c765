/**
 * The gateway's JSON bodies, typed from the gateway's own zod schemas (its one definition of the
 * API): a type-only import, so nothing of the gateway reaches the browser bundle.
 */
import type { z } from "zod";

import type * as battery from "../../../gateway/src/api/batterySchemas.js";
import type * as billing from "../../../gateway/src/api/billingSchemas.js";
import type * as identity from "../../../gateway/src/api/identitySchemas.js";
import type * as api from "../../../gateway/src/api/schemas.js";

export type Order = z.infer<typeof api.orderSchema>;
export type Book = z.infer<typeof api.bookSchema>;
export type DepthLevel = z.infer<typeof api.depthLevelSchema>;
export type ClearingSummary = z.infer<typeof api.clearingSummarySchema>;
export type Clearing = z.infer<typeof api.clearingSchema>;
export type Trade = z.infer<typeof api.tradeSchema>;
export type Settlement = z.infer<typeof api.settlementSchema>;
export type StoredReading = z.infer<typeof api.storedReadingSchema>;
export type Device = z.infer<typeof api.deviceSchema>;
export type Page<T> = { items: T[]; nextCursor: string | null };

export type IdentityStatus = z.infer<typeof identity.identityStatusSchema>;
export type ChaincodeEvent = z.infer<typeof identity.chaincodeEventSchema>;
export type CustomerBills = z.infer<typeof billing.customerBillsSchema>;
export type CustomerStatement = z.infer<typeof billing.customerStatementSchema>;
export type MonthToDateStatement = z.infer<typeof billing.monthToDateStatementSchema>;

export type BatteryState = z.infer<typeof battery.storedBatteryReportSchema>["batteries"][number];
export type StoredBatteryReport = z.infer<typeof battery.storedBatteryReportSchema>;
export type LatestBatteryReport = z.infer<typeof battery.latestBatteryReportSchema>;
