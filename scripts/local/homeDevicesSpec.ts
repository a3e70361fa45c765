import { z } from "zod";

const watts = z.number().nonnegative().finite();

/** What the home devices process is given (homeDevicesMain.ts), checked where it enters. */
export const homeDevicesSpecSchema = z.strictObject({
  clock: z.strictObject({ originMs: z.number().int(), speed: z.number().positive() }),
  utcOffsetHours: z.number().min(-12).max(14),
  /** Wall-clock ms between two steps of the batteries' inverters. */
  tickMs: z.number().int().min(20).max(5_000),
  homes: z.array(
    z.strictObject({
      name: z.string().min(1),
      seed: z.number().int(),
      solarPeakW: watts,
      baseLoadW: watts,
      morningPeakW: watts,
      eveningPeakW: watts,
      startImportWh: watts,
      startExportWh: watts,
      battery: z
        .strictObject({
          capacityAh: z.number().positive(),
          stateOfCharge: z.number().min(0).max(1),
          cells: z.number().int().min(1).max(32),
          nominalV: z.number().positive(),
          maxChargeA: watts,
          maxDischargeA: watts,
          inverterW: watts,
        })
        .optional(),
    }),
  ),
});

export type HomeDevicesSpec = z.input<typeof homeDevicesSpecSchema>;
export type HomeDevicesSpecParsed = z.output<typeof homeDevicesSpecSchema>;

/** What the agents are told: where each home's meter and BMS answer. */
export interface HomeDeviceLines {
  name: string;
  meter: string;
  bms: string | undefined;
}
