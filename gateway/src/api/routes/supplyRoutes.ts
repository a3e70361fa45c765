import type { Route } from "../route.js";

/** The supply endpoints (issue 7). */
export const supplyRoutes: readonly Route[] = [];
