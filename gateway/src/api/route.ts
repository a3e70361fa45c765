import type { IncomingMessage, ServerResponse } from "node:http";

import { z } from "zod";

import { realClock, type Clock } from "@gridmesh/contracts";

import type { MarketTiming } from "../chain/marketTiming.js";
import type { Logger } from "../common/logger.js";
import type { IdentityService } from "../identity/identityService.js";
import type { ReadingIntake } from "../relay/readingIntake.js";
import type { Database } from "../store/index.js";
import type { componentSchemas } from "./schemas.js";

/** What a client needs to talk to the same chain and contracts as the gateway (the web app reads it). */
export interface Deployment {
  chainId: bigint;
  contracts: {
    energyMarket: string;
    deliveryLedger: string;
    meterRegistry: string;
    forwardMarket?: string | undefined;
    optionMarket?: string | undefined;
  };
  market: MarketTiming;
}

export interface ApiDependencies {
  db: Database;
  /** The market's reading intake; absent in a utility-only process, where POST /v1/readings answers 503. */
  intake?: ReadingIntake | undefined;
  /** Secure ID; without it the identity endpoints answer 503 (the event log is read from the store). */
  identity?: IdentityService | undefined;
  /** SHA-256 (hex) of the operator's bearer token; without it the operator endpoints do not exist. */
  operatorTokenSha256?: string | undefined;
  /** Origins (scheme://host:port, or "*") whose browser pages may call the API; none by default. */
  corsOrigins?: readonly string[] | undefined;
  /** The service's loop status, served to operators. */
  status: () => Promise<unknown>;
  logger: Logger;
  /** The chain and contracts served; without it GET /v1/deployment answers 503 (a utility-only process). */
  deployment?: Deployment | undefined;
  /** The utility's time (simulated in demos and tests); the wall clock when absent. */
  clock?: Clock | undefined;
}

/** The clock routes read the time from: the configured one, else the wall clock. */
export const clockOf = (deps: ApiDependencies): Clock => deps.clock ?? realClock;

export type HttpMethod = "GET" | "POST";

const empty = z.strictObject({});
type Empty = typeof empty;

/** What a handler receives: every part of the request already parsed by the route's schemas. */
export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  deps: ApiDependencies;
  /** Customer routes: the wallet account the request proved it speaks for (lower-case). */
  customer: string | undefined;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: HttpMethod;
  /** Path template, e.g. `/v1/clearings/{interval}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Behind the operator's bearer token, and absent when none is configured. */
  operator?: boolean;
  /** Behind a token the customer's wallet signed (customerAccess.ts); serves that account only. */
  customer?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** Largest body accepted (413 beyond); routes with a body only. */
  maxBodyBytes?: number;
  /** Name of the success body's schema in `componentSchemas`. */
  response: keyof typeof componentSchemas;
  /** The success body's media type, for the document; `application/json` unless a route streams another. */
  responseType?: string;
  /** Error statuses this route may answer besides 400 and 500, for the document. */
  errors?: readonly number[];
  /** Returns the 200 body. Throw an ApiError to refuse. */
  handle?(input: RouteInput<P, Q, B>): Promise<unknown>;
  /** Instead of `handle`: writes the response itself after the router's checks (reads its own body). */
  respond?(
    req: IncomingMessage,
    res: ServerResponse,
    deps: ApiDependencies,
    customer: string | undefined,
  ): Promise<void>;
}

export type Route = RouteSpec<z.ZodType, z.ZodType, z.ZodType> & { params: z.ZodType; query: z.ZodType };

/** Types a route's handler by its schemas; a route without params or query takes none (strictly). */
export function defineRoute<
  P extends z.ZodType = Empty,
  Q extends z.ZodType = Empty,
  B extends z.ZodType = z.ZodNever,
>(spec: RouteSpec<P, Q, B>): Route {
  return { ...spec, params: spec.params ?? empty, query: spec.query ?? empty };
}

/**
 * Matches a request path against a template, segment by segment; returns the raw (decoded) path
 * parameters, or undefined when the path is not this template's.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const segment = got[i]!;
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      if (part !== segment) return undefined;
    } else {
      if (segment === "") return undefined;
      params[name] = safeDecode(segment);
    }
  }
  return params;
}

// A malformed escape is kept as written: the parameter's schema then refuses it by name.
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
