export { batchFills } from "./batchFills.js";
export { type ClearingBid, ClearingInputError, type ClearingOffer } from "./book.js";
export {
  computeClearing,
  type ComputeClearingParameters,
  type ComputeClearingReturnType,
} from "./computeClearing.js";
export type { ClearingFill } from "./pairFills.js";
