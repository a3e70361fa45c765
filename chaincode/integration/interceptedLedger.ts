import type {
  CloseableEvents,
  EvaluateOptions,
  EventsOptions,
  SecureIdLedger,
  SubmitOptions,
  SubmitResult,
} from "../src/client/secureIdLedger.js";

/**
 * What a test puts between a client and the real ledger: something to do around a transaction (stop a
 * peer once a request is open), or a misbehaving verifier's answer in place of its peer's.
 */
export interface Interceptors {
  afterSubmit?(fn: string, result: SubmitResult): Promise<void>;
  beforeSubmit?(fn: string, options: SubmitOptions): Promise<void>;
  evaluate?(
    fn: string,
    args: readonly string[],
    options: EvaluateOptions,
    real: () => Promise<Uint8Array>,
  ): Promise<Uint8Array>;
}

/** A SecureIdLedger that passes every call to `inner`, through the interceptors given. */
export class InterceptedLedger implements SecureIdLedger {
  constructor(
    readonly inner: SecureIdLedger,
    readonly interceptors: Interceptors,
  ) {}

  async submit(fn: string, args: readonly string[], options: SubmitOptions): Promise<SubmitResult> {
    await this.interceptors.beforeSubmit?.(fn, options);
    const result = await this.inner.submit(fn, args, options);
    await this.interceptors.afterSubmit?.(fn, result);
    return result;
  }

  evaluate(fn: string, args: readonly string[], options: EvaluateOptions): Promise<Uint8Array> {
    const real = () => this.inner.evaluate(fn, args, options);
    return this.interceptors.evaluate ? this.interceptors.evaluate(fn, args, options, real) : real();
  }

  events(options: EventsOptions): Promise<CloseableEvents> {
    return this.inner.events(options);
  }

  /** The inner ledger belongs to whoever made it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
