import type { Route } from "./route.js";
import { clearingRoute, clearingsRoute } from "./routes/clearingRoutes.js";
import { deviceRoute, devicesRoute } from "./routes/deviceRoutes.js";
import { deploymentRoute, healthRoute } from "./routes/healthRoutes.js";
import { identityRoutes } from "./routes/identityRoutes.js";
import { retryClearingRoute, retryReadingRoute, operatorStatusRoute } from "./routes/operatorRoutes.js";
import { bookRoute, ordersRoute } from "./routes/orderRoutes.js";
import { postReadingsRoute, readingsRoute } from "./routes/readingRoutes.js";
import { settlementsRoute, tradesRoute } from "./routes/tradeRoutes.js";
import { batteryRoutes } from "./routes/batteryRoutes.js";
import { billingRoutes } from "./routes/billingRoutes.js";
import { supplyRoutes } from "./routes/supplyRoutes.js";
import { utilityRoutes } from "./routes/utilityRoutes.js";

/** Every route but the document's own, in the order the document lists them. */
export const apiRoutes: readonly Route[] = [
  healthRoute,
  deploymentRoute,
  bookRoute,
  ordersRoute,
  clearingsRoute,
  clearingRoute,
  tradesRoute,
  settlementsRoute,
  readingsRoute,
  postReadingsRoute,
  devicesRoute,
  deviceRoute,
  ...batteryRoutes,
  ...identityRoutes,
  operatorStatusRoute,
  retryClearingRoute,
  retryReadingRoute,
  ...utilityRoutes,
  ...billingRoutes,
  ...supplyRoutes,
];
