/**
 * Eastron SDM input registers (function 0x04), each an IEEE-754 float32 in two registers, high word
 * first, bytes big-endian. Addresses are on the wire (manual register 30001 = 0x0000).
 *
 * The SDM120 is single phase. On the three-phase SDM630, 0x0000/0x0006/0x000C are phase 1 only, so
 * its current and power come from the system totals (sum of line currents, total system power);
 * voltage stays phase 1 line-to-neutral. Import and export energy are adjacent on both, which lets
 * the driver read them in one request, so they are a consistent pair.
 */
export const sdmRegisters = {
  SDM120: {
    voltage: 0x0000,
    current: 0x0006,
    activePower: 0x000c,
    importEnergy: 0x0048,
    exportEnergy: 0x004a,
  },
  SDM630: {
    voltage: 0x0000,
    current: 0x0030,
    activePower: 0x0034,
    importEnergy: 0x0048,
    exportEnergy: 0x004a,
  },
} as const;

export type SdmModel = keyof typeof sdmRegisters;
