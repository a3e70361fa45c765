import type { Logger } from "pino";
import type { z } from "zod";

import { METER_COMMAND_MAX_READINGS, signedReadingSchema, type Clock } from "@gridmesh/contracts";

import { agentReadingsPageSchema, agentStatusSchema, parseResult, type AgentStatus } from "./agentResults.js";
import { MeterProtocolError } from "./controllerErrors.js";
import type { ControllerStore } from "./controllerStore.js";
import type { MeterEndpoint, MeterLink } from "./meterLink.js";
import type { UsageFiles } from "./usageFiles.js";

export interface MeterPollingOptions {
  link: MeterLink;
  store: ControllerStore;
  usage: UsageFiles;
  clock: Clock;
  /** Readings asked for per page. */
  pageSize: number;
  logger: Logger;
}

export interface PollResult {
  status: AgentStatus;
  /** Readings written to usage files by this poll. */
  stored: number;
  /** This poll sent Initialize_meters' `aggregate`. */
  initialized: boolean;
}

/**
 * One `get` request of Query_meter_data (seed 000 §2.1.2) to one meter:
 *
 * 1. `status`: its states and battery charge go into Meter_States;
 * 2. once per controller run, Initialize_meters' `aggregate` (lossless) over its newest reading;
 * 3. `get_readings_since` the last stored sequence, page by page; each page is appended to the
 *    current hour's usage file and fsynced, recorded as stored, and only then acknowledged, so a
 *    reading the meter may forget is always on the controller's disk;
 * 4. Meter_Last_Update.
 *
 * Acknowledgements cover the contiguous range above the last one the meter confirmed, so an
 * acknowledgement lost to a failure is sent again by the next poll.
 */
export class MeterPolling {
  readonly #o: MeterPollingOptions;

  constructor(options: MeterPollingOptions) {
    this.#o = options;
  }

  async poll(endpoint: MeterEndpoint, initialize: boolean): Promise<PollResult> {
    const { store, clock, logger } = this.#o;
    const status = this.#expect(
      endpoint,
      "status",
      agentStatusSchema,
      await this.#o.link.send(endpoint, "status", {}),
    );
    store.recordReport(
      endpoint.meter,
      {
        isOn: status.isOn,
        sharingPower: status.sharingPower,
        aggregating: status.aggregating,
        reducingPowerDemand: status.reducingPowerDemand,
        batteryPercent: status.batteryStateOfCharge,
      },
      clock.now(),
    );
    const newest = status.lastReading?.reading.sequence;
    const { storedThrough } = store.meterState(endpoint.meter);
    if (newest !== undefined && newest < storedThrough) {
      logger.warn(
        { meter: endpoint.meter, newest: newest.toString(), storedThrough: storedThrough.toString() },
        "the meter's newest reading is below what the controller stored: was its store replaced?",
      );
    }

    let initialized = false;
    if (initialize && newest !== undefined) {
      await this.#o.link.send(endpoint, "aggregate", {
        fromSequence: newest.toString(),
        toSequence: newest.toString(),
        lossless: true,
      });
      store.setFlag(endpoint.meter, "aggregating", true);
      initialized = true;
    }

    await this.#acknowledge(endpoint);
    let stored = 0;
    for (;;) {
      const since = store.meterState(endpoint.meter).storedThrough;
      const page = this.#expect(
        endpoint,
        "get_readings_since",
        agentReadingsPageSchema,
        await this.#o.link.send(endpoint, "get_readings_since", {
          sequence: since.toString(),
          limit: this.#o.pageSize,
        }),
      );
      const last = this.#checkPage(endpoint, since, page.readings);
      if (last === undefined) break;
      await this.#o.usage.append(page.readings);
      const { acknowledgedThrough } = store.meterState(endpoint.meter);
      store.setSequences(endpoint.meter, last, acknowledgedThrough);
      stored += page.readings.length;
      await this.#acknowledge(endpoint);
      if (!page.more) break;
    }
    store.setLastUpdate(endpoint.meter, clock.now());
    return { status, stored, initialized };
  }

  /** Tells the meter the readings above its last acknowledged sequence are stored here. */
  async #acknowledge(endpoint: MeterEndpoint): Promise<void> {
    const { store } = this.#o;
    let { storedThrough, acknowledgedThrough } = store.meterState(endpoint.meter);
    while (acknowledgedThrough < storedThrough) {
      const through = min(storedThrough, acknowledgedThrough + BigInt(METER_COMMAND_MAX_READINGS));
      const sequences: string[] = [];
      for (let s = acknowledgedThrough + 1n; s <= through; s++) sequences.push(s.toString());
      await this.#o.link.send(endpoint, "acknowledge", { sequences });
      store.setSequences(endpoint.meter, storedThrough, through);
      ({ storedThrough, acknowledgedThrough } = store.meterState(endpoint.meter));
    }
  }

  /**
   * Readings are not verified here (the utility checks signatures) but a page must be readings of
   * this meter, above `since`, in order: anything else is not stored at all. Returns the last
   * sequence, or undefined for an empty page.
   */
  #checkPage(endpoint: MeterEndpoint, since: bigint, readings: readonly unknown[]): bigint | undefined {
    let previous = since;
    readings.forEach((item, i) => {
      const parsed = signedReadingSchema.safeParse(item);
      const fail = (problem: string) => {
        throw new MeterProtocolError(endpoint.meter, "get_readings_since", `reading ${i}: ${problem}`, {
          index: i,
        });
      };
      if (!parsed.success) {
        return fail(parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; "));
      }
      const { meter, sequence } = parsed.data.reading;
      if (meter.toLowerCase() !== endpoint.meter.toLowerCase()) return fail(`is a reading of meter ${meter}`);
      if (sequence <= previous) return fail(`sequence ${sequence} does not come after ${previous}`);
      previous = sequence;
    });
    return readings.length === 0 ? undefined : previous;
  }

  #expect<S extends z.ZodType>(
    endpoint: MeterEndpoint,
    command: string,
    schema: S,
    result: unknown,
  ): z.output<S> {
    const parsed = parseResult(schema, result);
    if (!parsed.ok)
      throw new MeterProtocolError(endpoint.meter, command, `unexpected result: ${parsed.problem}`);
    return parsed.value;
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
