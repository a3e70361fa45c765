import { z } from "zod";

import { readingReceiptsSchema, signedReadingBatchSchema, signedReadingSchema } from "@gridmesh/contracts";

import { identityComponentSchemas } from "./identitySchemas.js";
import { batteryComponentSchemas } from "./batterySchemas.js";
import { billingComponentSchemas } from "./billingSchemas.js";
import { supplyComponentSchemas } from "./supplySchemas.js";
import { utilityComponentSchemas } from "./utilitySchemas.js";
import { count, lowerAddress as address, page, timestamp } from "./schemaParts.js";

/**
 * The API's schemas: parameters the handlers parse with, and the JSON they answer with. The
 * OpenAPI document is generated from these same objects, so it cannot drift from the code.
 */

// --- parameters --------------------------------------------------------------------------------

// Intervals, sequences and meters travel exactly as in signed readings: one definition of each.
const readingFields = signedReadingSchema.shape.reading.shape;

/** A uint64 as a decimal string (interval, sequence), parsed to bigint. */
export const uint64Param = readingFields.interval;

/** An address in any case (checksummed too), lower-cased as the store keeps it. */
export const addressParam = readingFields.meter.transform((a) => a.toLowerCase());

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export const limitParam = z
  .string()
  .regex(/^[1-9][0-9]{0,3}$/, `must be an integer from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .refine((n) => n <= MAX_LIMIT, `must be an integer from 1 to ${MAX_LIMIT}`)
  .optional()
  .describe(`rows per page, 1 to ${MAX_LIMIT}; default ${DEFAULT_LIMIT}`);

export const orderSide = z.enum(["offer", "bid"]);
export const orderStatus = z.enum(["open", "cancelled", "matched", "settled", "released"]);
export const clearingStatus = z.enum(["computed", "submitting", "finalized", "empty", "failed"]);
export const batchStatus = z.enum(["pending", "submitted", "confirmed"]);
export const settlementStatus = z.enum(["pending", "submitted", "settled", "failed"]);
export const ledgerStatus = z.enum(["pending", "recorded", "rejected"]);
export const deviceStatus = z.enum(["enrolled", "active", "deactivated"]);

// --- responses ---------------------------------------------------------------------------------

/** Every uint (uint64, uint256, watt-hours, block numbers) as a decimal string: JSON numbers stop at 2^53. */
const uint = z.string().regex(/^(0|[1-9][0-9]*)$/);
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/);
/** Counts and positions: small, never negative, plain JSON numbers. */

export const errorSchema = z.strictObject({
  error: z.string(),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});

export const healthSchema = z.strictObject({
  ok: z.boolean(),
  engine: z.enum(["pglite", "postgres"]),
  schemaVersion: count.nullable(),
});

export const deploymentSchema = z
  .strictObject({
    chainId: count,
    contracts: z.strictObject({
      energyMarket: address,
      deliveryLedger: address,
      meterRegistry: address,
      forwardMarket: address.nullable(),
      optionMarket: address.nullable(),
    }),
    market: z.strictObject({
      intervalSeconds: uint,
      gateClosureSeconds: uint,
      settlementDelaySeconds: uint,
    }),
  })
  .describe("the chain and contracts this gateway serves, and the market's clock as the contracts define it");

export const orderSchema = z.strictObject({
  orderId: uint,
  interval: uint,
  side: orderSide,
  owner: address,
  meter: address,
  maxWh: uint,
  filledWh: uint,
  settledWh: uint.describe("of the filled watt-hours, those settled against readings"),
  deliveredWh: uint.describe("of the settled watt-hours, those the seller's meter delivered"),
  releasedAmount: uint.nullable().describe("what the order's release paid back, once released"),
  limitPrice: uint.describe("token base units per kWh: the offer's minimum or the bid's maximum"),
  penaltyPerKwh: uint.nullable().describe("offers only: what the seller forfeits per kWh not delivered"),
  deposit: uint.describe("the bid's escrow or the offer's collateral, token base units"),
  status: orderStatus,
  placedBlock: uint,
  placedTx: bytes32,
  updatedAt: timestamp,
});
export const orderPageSchema = page(orderSchema);

export const depthLevelSchema = z.strictObject({
  price: uint,
  wh: uint.describe("watt-hours offered (or bid) at exactly this price"),
  cumulativeWh: uint.describe(
    "watt-hours at this price or better: upward through offers, downward through bids",
  ),
});

export const bookSchema = z.strictObject({
  interval: uint,
  orders: z.array(orderSchema),
  nextCursor: z.string().nullable(),
  depth: z
    .strictObject({
      offers: z.array(depthLevelSchema).describe("supply curve: offers by ascending price"),
      bids: z.array(depthLevelSchema).describe("demand curve: bids by descending price"),
    })
    .describe("depth of the orders not cancelled; not paginated"),
});

export const settlementSchema = z.strictObject({
  interval: uint,
  batch: count,
  status: settlementStatus,
  txHash: bytes32.nullable(),
  attempts: count,
  lastError: z.string().nullable(),
  updatedAt: timestamp,
});
export const settlementPageSchema = page(settlementSchema);

export const fillSchema = z.strictObject({ position: count, offerId: uint, bidId: uint, wh: uint });

const batchFields = {
  batch: count,
  fillsHash: bytes32.nullable(),
  submitTx: bytes32.nullable(),
  status: batchStatus,
  fillCount: count,
  settlement: settlementSchema
    .nullable()
    .describe("null until the batch is confirmed and queued for settlement"),
};
export const clearingBatchSchema = z.strictObject(batchFields);
export const clearingBatchDetailSchema = z.strictObject({ ...batchFields, fills: z.array(fillSchema) });

const clearingFields = {
  interval: uint,
  price: uint,
  volumeWh: uint,
  batchCount: count,
  status: clearingStatus,
  lastError: z.string().nullable(),
  finalizeTx: bytes32.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const clearingSummarySchema = z
  .strictObject({ ...clearingFields, batches: z.array(clearingBatchSchema) })
  .describe("a clearing in a list: its batches without their fills, which may number thousands");
export const clearingSchema = z.strictObject({
  ...clearingFields,
  batches: z.array(clearingBatchDetailSchema),
});
export const clearingPageSchema = page(clearingSummarySchema);

const party = z.strictObject({ orderId: uint, owner: address.nullable(), meter: address.nullable() });
export const tradeSchema = z.strictObject({
  interval: uint,
  batch: count,
  position: count,
  price: uint.describe("the interval's uniform clearing price, token base units per kWh"),
  wh: uint,
  seller: party.describe("the offer; owner and meter are null while the indexer has not seen it"),
  buyer: party.describe("the bid; owner and meter are null while the indexer has not seen it"),
  batchStatus,
  settlementStatus: settlementStatus.nullable(),
  settlementTx: bytes32.nullable(),
});
export const tradePageSchema = page(tradeSchema);

export const storedReadingSchema = z.strictObject({
  reading: signedReadingSchema.shape.reading.describe(
    "the reading exactly as signed, in the shared wire form",
  ),
  signature: signedReadingSchema.shape.signature,
  ledgerStatus,
  ledgerError: z.string().nullable(),
  recordedTx: bytes32.nullable(),
  receivedAt: timestamp,
});
export const storedReadingPageSchema = page(storedReadingSchema);

export const deviceSchema = z.strictObject({
  meter: address,
  owner: address,
  deviceId: bytes32,
  status: deviceStatus,
  updatedAt: timestamp,
});
export const devicePageSchema = page(deviceSchema);

export const operatorStatusSchema = z
  .unknown()
  .describe("the gateway's loop status, as the service reports it");
export const clearingRetrySchema = z.strictObject({ interval: uint, deletedBatches: count });
export const readingRetrySchema = z.strictObject({
  meter: address,
  sequence: uint,
  ledgerStatus: z.literal("pending"),
});

export const openApiDocumentSchema = z
  .looseObject({ openapi: z.literal("3.1.0"), paths: z.record(z.string(), z.unknown()) })
  .describe("this document");

/** Named schemas of the OpenAPI document's components, by the name they appear under. */
export const componentSchemas = {
  Error: errorSchema,
  Health: healthSchema,
  Deployment: deploymentSchema,
  Order: orderSchema,
  OrderPage: orderPageSchema,
  DepthLevel: depthLevelSchema,
  Book: bookSchema,
  Fill: fillSchema,
  Settlement: settlementSchema,
  SettlementPage: settlementPageSchema,
  ClearingBatch: clearingBatchSchema,
  ClearingBatchDetail: clearingBatchDetailSchema,
  ClearingSummary: clearingSummarySchema,
  Clearing: clearingSchema,
  ClearingPage: clearingPageSchema,
  Trade: tradeSchema,
  TradePage: tradePageSchema,
  StoredReading: storedReadingSchema,
  StoredReadingPage: storedReadingPageSchema,
  Device: deviceSchema,
  DevicePage: devicePageSchema,
  SignedReading: signedReadingSchema,
  SignedReadingBatch: signedReadingBatchSchema,
  ReadingReceipts: readingReceiptsSchema,
  OperatorStatus: operatorStatusSchema,
  ClearingRetry: clearingRetrySchema,
  ReadingRetry: readingRetrySchema,
  ...identityComponentSchemas,
  ...utilityComponentSchemas,
  ...billingComponentSchemas,
  ...supplyComponentSchemas,
  ...batteryComponentSchemas,
  OpenApiDocument: openApiDocumentSchema,
} as const;
