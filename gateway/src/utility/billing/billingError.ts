import { GatewayError } from "../../common/errors.js";

/** Why billing refused to do what it was asked; the API answers each with its own status. */
export type BillingRefusal =
  /** A billed month's rates are part of its bills and cannot change. */
  | "rates_locked"
  /** Months are billed in order, since each bill's base bill comes from the previous month's. */
  | "out_of_order"
  /** Create_bills for a month that has not ended yet (on the utility's clock). */
  | "month_not_ended"
  | "no_rates"
  /** The service has not recorded the time zone and interval length billing needs. */
  | "not_configured"
  | "invalid_time_zone"
  | "not_billed";

/** Billing refused an operation; nothing was written. */
export class BillingError extends GatewayError {
  override readonly name = "BillingError";
  readonly refusal: BillingRefusal;

  constructor(refusal: BillingRefusal, message: string, details: Record<string, unknown> = {}) {
    super(message, { details: { refusal, ...details } });
    this.refusal = refusal;
  }
}
