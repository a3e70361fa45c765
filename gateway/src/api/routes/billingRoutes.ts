import type { Route } from "../route.js";

/** The billing endpoints (issue 7). */
export const billingRoutes: readonly Route[] = [];
