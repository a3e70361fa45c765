import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";

type Args = readonly unknown[];

const words: Record<string, (a: Args) => string> = {
  EnergyMarketGateClosed: (a) => `orders for interval ${String(a[0])} closed at its gate closure`,
  EnergyMarketMeterInactive: (a) => `meter ${String(a[0])} is not active in the registry`,
  EnergyMarketNotMeterOwner: (a) => `${String(a[0])} does not own meter ${String(a[1])}`,
  EnergyMarketNotOrderOwner: (a) => `order ${String(a[1])} is not yours to cancel`,
  EnergyMarketOrderClosed: (a) => `order ${String(a[0])} is no longer open`,
  EnergyMarketPriceOutOfRange: (a) =>
    `a price of ${String(a[0])} is not allowed (a bid needs a price above 0)`,
  EnergyMarketZeroAmount: () => "the amount must be above zero",
  EnergyMarketUnknownOrder: (a) => `there is no order ${String(a[0])}`,
  EnforcedPause: () => "the market is paused by its operator",
  ERC20InsufficientAllowance: (a) =>
    `the market may take ${String(a[1])} of your tokens but needs ${String(a[2])}: approve more first`,
  ERC20InsufficientBalance: (a) => `your token balance ${String(a[1])} is below the ${String(a[2])} needed`,
  MarketDelegationInvalid: () => "a delegate must be another address and the expiry in the future",
  MarketDelegationNotAuthorized: (a) => `${String(a[1])} holds no delegation from ${String(a[0])}`,
  PullPaymentsInsufficientBalance: (a) =>
    `you asked for ${String(a[1])} but only ${String(a[2])} is available`,
  ForwardMarketTooLate: () => "the forward's first interval has already closed for orders",
  ForwardMarketNotCounterparty: () => "this forward was proposed to someone else",
  ForwardMarketSelfAccept: () => "you cannot accept your own proposal",
  OptionMarketAlreadySold: () => "someone bought this option already",
  OptionMarketSelfPurchase: () => "you cannot buy the option you wrote",
  OptionMarketExerciseClosed: () => "the option's exercise deadline has passed",
  OptionMarketNotHolder: () => "only the option's holder may exercise it",
  TestDollarAccountLimitExceeded: (a) => `the faucet gives at most ${String(a[3])} more to you today`,
};

/**
 * Any wallet, transport or contract failure in words a person can act on: a contract's custom
 * error by what it means, a rejection in the wallet as such, anything else by viem's short message.
 */
export function describeError(error: unknown): string {
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof UserRejectedRequestError) !== null) {
      return "You rejected the request in your wallet; nothing was sent.";
    }
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName;
      if (name !== undefined) {
        const say = words[name];
        const args = reverted.data?.args ?? [];
        return `The contract refused: ${say !== undefined ? say(args) : `${name}(${args.map(String).join(", ")})`}.`;
      }
      if (reverted.reason !== undefined) return `The contract refused: ${reverted.reason}.`;
    }
    return error.shortMessage;
  }
  return error instanceof Error ? error.message : String(error);
}
