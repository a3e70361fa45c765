import { ownerAccountOf } from "./devAccounts.js";
import { seededRandom } from "../../meter-agent/src/common/seededRandom.js";

/**
 * The town's local time is UTC+10 while bills follow the UTC calendar: the simulated day starts two
 * hours before a UTC month ends, which is then mid-morning in the town, so the market opens on
 * rising solar and the month's bills follow within minutes.
 */
export const TOWN_UTC_OFFSET_HOURS = 10;
/** A 16-cell LiFePO4 pack: the JBD simulator's cells sit at 3.0–3.4 V. */
export const BATTERY_CELLS = 16;
export const BATTERY_NOMINAL_V = 51.2;

export interface HomeBatterySpec {
  capacityAh: number;
  stateOfCharge: number;
  maxChargeA: number;
  maxDischargeA: number;
  /** What the home's inverter moves at most, either way. */
  inverterW: number;
  /**
   * A battery shared out (seed 004 partitioned batteries): the home runs on the first partition,
   * the others are shares it lends, e.g. to the microgrid. Fractions sum to 1.
   */
  partitions?: readonly { name: string; fraction: number }[];
}

/** The split of a shared battery: most for the household, a quarter lent to the microgrid. */
const SHARED_BATTERY = [
  { name: "household", fraction: 0.75 },
  { name: "microgrid-share", fraction: 0.25 },
] as const;

/** The limits an owner gives its meter agent for automatic trading (MarketDelegation). */
export interface TradingLimits {
  maxWhPerInterval: number;
  /** Token base units per kWh. */
  minSellPricePerKwh: bigint;
  maxBuyPricePerKwh: bigint;
}

export interface HomeSpec {
  /** 1-based. */
  index: number;
  name: string;
  /** Hardhat development account of the owner. */
  ownerAccount: number;
  /** The owner's customer account at the utility. */
  customerAccount: string;
  /** Token base units. */
  initialBaseBill: bigint;
  controller: string;
  solarPeakW: number;
  baseLoadW: number;
  morningPeakW: number;
  eveningPeakW: number;
  /** The meter's registers when the system starts. */
  startImportWh: number;
  startExportWh: number;
  battery: HomeBatterySpec | undefined;
  /** Undefined: the owner trades by hand (homes 1 and 2 always do: the browser tests place their orders). */
  trading: TradingLimits | undefined;
}

export const CONTROLLER_IDS = ["microgrid-east", "microgrid-west"] as const;

const round = (value: number, step: number) => Math.round(value / step) * step;

/**
 * Home `index` of the town. Home 1 is a prosumer with a large array and a battery (a seller), home 2
 * a household without solar (a buyer); the rest vary from the index: every fourth from 5 on and a
 * few others without solar, about half of the solar ones with a battery, and every other one from
 * home 3 on trading automatically.
 */
export function homeSpec(index: number, controllers: readonly string[] = CONTROLLER_IDS): HomeSpec {
  const random = seededRandom(index * 7919);
  const name = `home-${String(index).padStart(2, "0")}`;
  const base = {
    index,
    name,
    ownerAccount: ownerAccountOf(index),
    customerAccount: `ACC-${String(index).padStart(4, "0")}`,
    controller: controllers[(index - 1) % controllers.length]!,
    startImportWh: round(1_500_000 + random() * 3_000_000, 1),
    startExportWh: round(200_000 + random() * 1_500_000, 1),
  };
  if (index === 1)
    return {
      ...base,
      initialBaseBill: 80_000_000n,
      solarPeakW: 7_000,
      baseLoadW: 300,
      morningPeakW: 900,
      eveningPeakW: 1_600,
      battery: {
        capacityAh: 200,
        stateOfCharge: 0.6,
        maxChargeA: 60,
        maxDischargeA: 60,
        inverterW: 3_000,
        partitions: SHARED_BATTERY,
      },
      trading: undefined,
    };
  if (index === 2)
    return {
      ...base,
      initialBaseBill: 120_000_000n,
      solarPeakW: 0,
      baseLoadW: 700,
      morningPeakW: 1_500,
      eveningPeakW: 2_500,
      battery: undefined,
      trading: undefined,
    };
  // Every fourth home from 5 on is a flat without a roof of its own: the automatic traders among
  // them bid while their solar neighbours offer, so the market trades from the first interval.
  const hasSolar = index % 4 !== 1 && random() > 0.15;
  const hasBattery = hasSolar && random() > 0.4;
  const batteryAh = round(100 + random() * 200, 10);
  return {
    ...base,
    initialBaseBill: BigInt(round(60 + random() * 80, 5)) * 1_000_000n,
    solarPeakW: hasSolar ? round(2_500 + random() * 6_500, 100) : 0,
    baseLoadW: round((hasSolar ? 200 : 500) + random() * 600, 10),
    morningPeakW: round(600 + random() * 1_200, 50),
    eveningPeakW: round(1_000 + random() * 2_000, 50),
    battery: hasBattery
      ? {
          capacityAh: batteryAh,
          stateOfCharge: round(0.3 + random() * 0.6, 0.01),
          maxChargeA: round(batteryAh * 0.3, 1),
          maxDischargeA: round(batteryAh * 0.3, 1),
          inverterW: round(2_000 + random() * 3_000, 100),
          // Every third home shares its battery like home 1.
          ...(index % 3 === 1 && { partitions: SHARED_BATTERY }),
        }
      : undefined,
    trading:
      index % 2 === 1
        ? {
            maxWhPerInterval: round(1_000 + random() * 2_000, 100),
            minSellPricePerKwh: BigInt(round(60_000 + random() * 40_000, 1_000)),
            maxBuyPricePerKwh: BigInt(round(200_000 + random() * 100_000, 1_000)),
          }
        : undefined,
  };
}

export function townHomes(count: number): HomeSpec[] {
  const controllers = count < 4 ? CONTROLLER_IDS.slice(0, 1) : CONTROLLER_IDS;
  return Array.from({ length: count }, (_, i) => homeSpec(i + 1, controllers));
}
