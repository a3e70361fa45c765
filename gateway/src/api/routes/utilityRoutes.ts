import type { Route } from "../route.js";

/** The utility endpoints (issue 7). */
export const utilityRoutes: readonly Route[] = [];
