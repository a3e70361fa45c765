/**
 * The chain indexer: the GridMesh contracts' events in chain_events, and read models built only
 * from them, kept through restarts and reorgs (see ChainIndexer).
 *
 * Read models (migration 0002; every one is rebuilt by `rebuildProjections` from chain_events):
 * - orders: the spot order book with status open → matched → settled, or cancelled, or released
 *   unfilled; filled, settled and delivered volume. `loadOrderBook` reads an interval's book.
 * - chain_clearings, chain_clearing_batches, chain_fills: each interval's clearing as the chain
 *   recorded it, batch by batch with its fills in submitted order and their settlement. The
 *   gateway's own submission records (clearings, clearing_batches, ...) are never touched.
 * - devices: meters with owner, device id and registry status.
 * - chain_readings, delivery_obligations: what the DeliveryLedger recorded; readings.recorded_tx
 *   mirrors chain_readings for the readings the intake stored.
 * - delivery_schedules, scheduled_deliveries: forwards and options, interval by interval.
 */
export {
  ChainIndexer,
  type ChainIndexerParameters,
  rebuildProjections,
  type Reorg,
  type SyncReport,
} from "./chainIndexer.js";
export { ChainIndexerError } from "./chainIndexerError.js";
export { readIndexedThrough } from "./checkpoint.js";
export type { IndexedContracts } from "./indexedContracts.js";
export { createIndexerProvider, type IndexerProvider } from "./indexerProvider.js";
export { loadOrderBook, type LoadOrderBookReturnType } from "./orderBook.js";
