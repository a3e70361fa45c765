import type { Logger } from "pino";

import type { Clock } from "@gridmesh/contracts";

import { MeterRefusedError } from "./controllerErrors.js";
import type { ControllerStore } from "./controllerStore.js";
import type { MeterEndpoint, MeterLink } from "./meterLink.js";
import type { ForwardedCommand, MeterOutbox } from "./meterOutbox.js";

export interface OutboxDeliveryOptions {
  link: MeterLink;
  store: ControllerStore;
  outbox: MeterOutbox;
  clock: Clock;
  logger: Logger;
}

/**
 * Sends one meter the commands waiting for it, oldest first, until none is left. A refusal is
 * recorded and logged and delivery goes on with the next command (retrying it could never
 * succeed); any other failure stops here with the command still pending, to be retried in order.
 * Returns how many commands the meter took.
 */
export async function deliverOutbox(
  options: OutboxDeliveryOptions,
  endpoint: MeterEndpoint,
): Promise<number> {
  const { link, store, outbox, clock, logger } = options;
  let delivered = 0;
  for (let entry = outbox.next(endpoint.meter); entry !== undefined; entry = outbox.next(endpoint.meter)) {
    const { command } = entry;
    try {
      await link.send(endpoint, command.command, command.params);
    } catch (error) {
      if (error instanceof MeterRefusedError) {
        outbox.refused(entry.id, error.message, clock.now());
        logger.error(
          { meter: endpoint.meter, command: command.command, params: command.params, err: error },
          "the meter refused a command; it is recorded and not sent again",
        );
        continue;
      }
      outbox.attemptFailed(entry.id, error instanceof Error ? error.message : String(error));
      throw error;
    }
    store.transaction(() => {
      outbox.delivered(entry.id, clock.now());
      applyToMeterState(store, endpoint.meter, command);
    });
    delivered++;
  }
  return delivered;
}

/** What Meter_States shows once the meter took `command`. */
function applyToMeterState(store: ControllerStore, meter: string, command: ForwardedCommand): void {
  switch (command.command) {
    case "share_power_on":
    case "share_power_off":
      return store.setFlag(meter, "sharingPower", command.command === "share_power_on");
    case "reduce_power_demand_on":
    case "reduce_power_demand_off":
      return store.setFlag(meter, "reducingPowerDemand", command.command === "reduce_power_demand_on");
    case "set_data_interval":
    case "put_billing_rates":
      return;
  }
}
