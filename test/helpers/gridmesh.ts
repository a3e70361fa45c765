/**
 * A GridMesh contract set on a fresh Hardhat network for tests: short intervals, three verifier
 * organisations (threshold 2), and helpers to enrol and activate meters and sign their readings
 * with the shared EIP-712 definitions from @gridmesh/contracts.
 */
import {
  type MeterReading,
  deliveryLedgerDomain,
  meterAttestationTypes,
  meterEnrollmentTypes,
  meterReadingTypes,
  meterRegistryDomain,
} from "@gridmesh/contracts";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { type BaseWallet, type Signer, type TypedDataField, Wallet, id } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

export const INTERVAL_SECONDS = 60n;
export const GATE_CLOSURE_SECONDS = 10n;
export const SETTLEMENT_DELAY_SECONDS = 120n;
export const PENALTY_PER_KWH = 50_000n;
export const usd = (n: bigint) => n * 10n ** 6n;

type Ethers = NetworkConnection["ethers"];
/** Any account that can send transactions: Hardhat's signers or plain wallets. */
export type Account = Signer & { address: string };

/** ethers wants mutable field arrays; our shared definitions are deeply readonly. */
const fields = (types: Record<string, readonly { name: string; type: string }[]>) =>
  types as unknown as Record<string, TypedDataField[]>;

export async function deployGridMesh(ethers: Ethers) {
  const signers = await ethers.getSigners();
  const signer = (i: number): HardhatEthersSigner => {
    const s = signers[i];
    if (!s) throw new Error(`the test network has no signer ${i}`);
    return s;
  };
  const [admin, matcher, alice, bob, carol, dave, eve] = [0, 1, 5, 6, 7, 8, 9].map(signer) as [
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
  ];
  const verifiers = [signer(2), signer(3), signer(4)];

  const token = await ethers.deployContract("TestDollar", [
    admin.address,
    usd(1_000_000n),
    usd(100_000_000n),
  ]);
  const registry = await ethers.deployContract("MeterRegistry", [
    admin.address,
    verifiers.map((v) => v.address),
    2n,
  ]);
  const ledger = await ethers.deployContract("DeliveryLedger", [
    admin.address,
    await registry.getAddress(),
    INTERVAL_SECONDS,
    SETTLEMENT_DELAY_SECONDS,
  ]);
  const reputation = await ethers.deployContract("Reputation", [admin.address]);
  const market = await ethers.deployContract("EnergyMarket", [
    admin.address,
    await token.getAddress(),
    await ledger.getAddress(),
    await reputation.getAddress(),
    GATE_CLOSURE_SECONDS,
    PENALTY_PER_KWH,
  ]);
  const oracle = await ethers.deployContract("IndexOracle", [admin.address]);
  const deliveryArgs = [
    admin.address,
    await token.getAddress(),
    await ledger.getAddress(),
    await oracle.getAddress(),
    await reputation.getAddress(),
    GATE_CLOSURE_SECONDS,
    PENALTY_PER_KWH,
  ] as const;
  const forwards = await ethers.deployContract("ForwardMarket", [...deliveryArgs]);
  const options = await ethers.deployContract("OptionMarket", [...deliveryArgs]);
  for (const product of [market, forwards, options]) {
    await ledger.connect(admin).grantRole(await ledger.OBLIGATION_ROLE(), await product.getAddress());
    await reputation.connect(admin).grantRole(await reputation.RECORDER_ROLE(), await product.getAddress());
  }
  await market.connect(admin).grantRole(await market.MATCHER_ROLE(), matcher.address);
  // The matcher account doubles as the index oracle in tests.
  await oracle.connect(admin).grantRole(await oracle.ORACLE_ROLE(), matcher.address);

  const chainId = (await ethers.provider.getNetwork()).chainId;
  const registryDomain = meterRegistryDomain(chainId, (await registry.getAddress()) as `0x${string}`);
  const ledgerDomain = deliveryLedgerDomain(chainId, (await ledger.getAddress()) as `0x${string}`);

  let verdicts = 0;

  /** Enrols a fresh meter key under `owner`; returns the meter wallet (never sends transactions). */
  async function enrollMeter(owner: Account, deviceId = id(`device-${owner.address}-${Math.random()}`)) {
    const meter = Wallet.createRandom();
    const consent = await meter.signTypedData(registryDomain, fields(meterEnrollmentTypes), {
      meter: meter.address,
      owner: owner.address,
      deviceId,
    });
    await registry.connect(owner).enroll(meter.address, deviceId, consent);
    return { meter, deviceId };
  }

  /** Attestation signatures by `by`, sorted by signer address as the registry requires. */
  async function attest(meter: string, deviceId: string, verdictTxId: string, by = verifiers.slice(0, 2)) {
    const signed = await Promise.all(
      by.map(async (v) => ({
        signer: v.address.toLowerCase(),
        sig: await v.signTypedData(registryDomain, fields(meterAttestationTypes), {
          deviceId,
          meter,
          verdictTxId,
        }),
      })),
    );
    return signed.sort((a, b) => (a.signer < b.signer ? -1 : 1)).map((s) => s.sig);
  }

  /** Enrols and activates a meter for `owner`. */
  async function activeMeter(owner: Account) {
    const { meter, deviceId } = await enrollMeter(owner);
    const verdictTxId = id(`verdict-${verdicts++}`);
    await registry.activate(meter.address, verdictTxId, await attest(meter.address, deviceId, verdictTxId));
    return meter;
  }

  async function signReading(meter: BaseWallet, reading: MeterReading) {
    return meter.signTypedData(ledgerDomain, fields(meterReadingTypes), reading);
  }

  /**
   * Records `meter`'s reading for interval `t` with the given export and import, after zero
   * readings for every interval between its last recorded one (or its first interval after
   * activation) and `t` that can still be recorded, so that the readings are continuous; intervals
   * past their readings deadline are skipped, as the ledger allows.
   */
  async function report(meter: BaseWallet, t: bigint, exportedWh: bigint, importedWh = 0n) {
    const [lastInterval, lastSequence, importWh, exportWh] = await ledger.meterState(meter.address);
    let next = lastInterval + 1n;
    if (lastSequence === 0n) {
      const [activeSince] = await registry.activePeriod(meter.address);
      next = (activeSince + INTERVAL_SECONDS - 1n) / INTERVAL_SECONDS;
    }
    if (t < next) throw new Error(`interval ${t} is before ${meter.address}'s next reading ${next}`);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1n;
    while (next < t && (next + 1n) * INTERVAL_SECONDS + SETTLEMENT_DELAY_SECONDS <= now) next++;
    const readings: MeterReading[] = [];
    let [sequence, imported, exported] = [lastSequence, importWh, exportWh];
    for (let i = next; i <= t; i++) {
      const [e, m] = i === t ? [exportedWh, importedWh] : [0n, 0n];
      readings.push({
        meter: meter.address as `0x${string}`,
        interval: i,
        sequence: ++sequence,
        importStartWh: imported,
        importEndWh: imported + m,
        exportStartWh: exported,
        exportEndWh: exported + e,
        timestamp: (i + 1n) * INTERVAL_SECONDS,
      });
      imported += m;
      exported += e;
    }
    const signatures = await Promise.all(readings.map((r) => signReading(meter, r)));
    await ledger.connect(eve).recordReadings(readings, signatures);
  }

  /** Gives `account` `amount` tokens from the faucet and approves every market for all of them. */
  async function fund(account: Account, amount: bigint) {
    await token.connect(account).claim(amount);
    for (const product of [market, forwards, options]) {
      await token.connect(account).approve(await product.getAddress(), amount);
    }
  }

  return {
    token,
    registry,
    ledger,
    reputation,
    market,
    oracle,
    forwards,
    options,
    admin,
    matcher,
    verifiers,
    alice,
    bob,
    carol,
    dave,
    eve,
    chainId,
    registryDomain,
    ledgerDomain,
    enrollMeter,
    attest,
    activeMeter,
    signReading,
    report,
    fund,
  };
}

/** Interval arithmetic against the chain's clock. */
export function intervalClock(networkHelpers: NetworkConnection["networkHelpers"]) {
  return {
    start: (t: bigint) => t * INTERVAL_SECONDS,
    end: (t: bigint) => (t + 1n) * INTERVAL_SECONDS,
    gateClosure: (t: bigint) => t * INTERVAL_SECONDS - GATE_CLOSURE_SECONDS,
    /** An interval comfortably in the future whose gate is open now. */
    async openInterval(ahead = 3n): Promise<bigint> {
      return BigInt(await networkHelpers.time.latest()) / INTERVAL_SECONDS + ahead;
    },
    async to(timestamp: bigint) {
      await networkHelpers.time.increaseTo(timestamp);
    },
  };
}
