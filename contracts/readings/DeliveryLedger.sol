// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";
import {MeterReading, MeterReadingHash} from "./MeterReading.sol";

/// @title DeliveryLedger
/// @notice Who owed how much energy in each interval and how much each meter really exported.
/// Signed meter readings are accepted from anyone (the signature proves their origin) after
/// checking the signature, that the meter was active over the whole interval, that the interval
/// has ended, and continuity with the meter's previous reading. Markets (OBLIGATION_ROLE) record
/// delivery obligations before an interval starts; every product settles against the same ledger,
/// so one kWh exported is never counted as delivered twice.
///
/// Readings are taken in interval order. A meter may skip intervals (its agent was offline and
/// lost them), but only once every skipped interval's settlement deadline has passed: until then
/// nobody — a relay replaying a later reading early, say — can make an interval unrecordable and
/// so have it settled as no delivery.
contract DeliveryLedger is AccessControl, EIP712 {
    using MeterReadingHash for MeterReading;

    /// @notice Contracts that may record delivery obligations (the markets).
    bytes32 public constant OBLIGATION_ROLE = keccak256("OBLIGATION_ROLE");
    /// @notice The EIP-712 type hash of MeterReading, for clients to check their definition against.
    bytes32 public constant READING_TYPEHASH = MeterReadingHash.TYPEHASH;
    /// @notice How far a reading's timestamp may be ahead of the chain's clock.
    uint64 public constant MAX_CLOCK_SKEW = 300;

    error DeliveryLedgerZeroAddress();
    error DeliveryLedgerInvalidInterval(uint256 intervalSeconds);
    error DeliveryLedgerInvalidSettlementDelay();
    error DeliveryLedgerLengthMismatch(uint256 readings, uint256 signatures);
    error DeliveryLedgerInvalidSignature(address meter, address signer);
    error DeliveryLedgerIntervalNotEnded(uint64 interval, uint256 endsAt);
    error DeliveryLedgerTimestampOutOfRange(uint64 timestamp, uint256 earliest, uint256 latest);
    error DeliveryLedgerRegistersDecrease(address meter, uint64 interval);
    error DeliveryLedgerReadingAlreadyRecorded(address meter, uint64 interval);
    error DeliveryLedgerReadingOutOfOrder(address meter, uint64 interval, uint64 lastInterval);
    error DeliveryLedgerSequenceNotIncreasing(address meter, uint64 sequence, uint64 lastSequence);
    error DeliveryLedgerDiscontinuous(
        address meter,
        uint64 interval,
        uint64 expectedImportWh,
        uint64 expectedExportWh
    );
    error DeliveryLedgerObligationTooLate(address meter, uint64 interval, uint256 startsAt);
    error DeliveryLedgerNotActiveDuringInterval(address meter, uint64 interval);
    error DeliveryLedgerGapNotFinal(address meter, uint64 missingInterval, uint256 deadline);
    error DeliveryLedgerReadingTooLate(address meter, uint64 interval, uint256 deadline);

    event ReadingRecorded(
        address indexed meter,
        uint64 indexed interval,
        uint64 sequence,
        uint64 importedWh,
        uint64 exportedWh,
        uint64 importEndWh,
        uint64 exportEndWh
    );
    event ObligationAdded(address indexed meter, uint64 indexed interval, address indexed market, uint64 wh);

    /// @dev Where the meter's registers stood at the end of its latest recorded reading.
    struct MeterState {
        uint64 lastInterval;
        uint64 lastSequence;
        uint64 importWh;
        uint64 exportWh;
    }

    struct Delivery {
        uint64 importedWh;
        uint64 exportedWh;
        uint64 obligationWh;
        bool recorded;
    }

    IMeterRegistry public immutable registry;
    uint64 public immutable intervalSeconds;
    /// @notice How long after an interval ends its readings may still arrive; after that a missing
    /// reading counts as no delivery, and the meter may skip the interval.
    uint64 public immutable settlementDelaySeconds;

    mapping(address meter => MeterState) private _state;
    mapping(address meter => mapping(uint64 interval => Delivery)) private _deliveries;

    /// @param admin receives DEFAULT_ADMIN_ROLE, which grants OBLIGATION_ROLE to markets.
    /// @param registry_ the meter registry deciding which meters are active.
    /// @param intervalSeconds_ the trading interval length every GridMesh contract shares.
    /// @param settlementDelaySeconds_ the readings deadline after an interval's end.
    constructor(
        address admin,
        IMeterRegistry registry_,
        uint64 intervalSeconds_,
        uint64 settlementDelaySeconds_
    ) EIP712("GridMesh DeliveryLedger", "1") {
        if (admin == address(0) || address(registry_) == address(0)) revert DeliveryLedgerZeroAddress();
        if (intervalSeconds_ == 0) revert DeliveryLedgerInvalidInterval(intervalSeconds_);
        // Without a window for readings, the gap rule could not protect any interval.
        if (settlementDelaySeconds_ == 0) revert DeliveryLedgerInvalidSettlementDelay();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        registry = registry_;
        intervalSeconds = intervalSeconds_;
        settlementDelaySeconds = settlementDelaySeconds_;
    }

    /// @notice Records one signed reading. Anyone may relay it.
    /// @dev Requirements: see {recordReadings}. Emits {ReadingRecorded}.
    function recordReading(MeterReading calldata reading, bytes calldata signature) external {
        _record(reading, signature);
    }

    /// @notice Records signed readings in order; all or nothing.
    /// @dev Requirements for each reading: `signature` is the meter key's EIP-712 signature of the
    /// reading; the meter was active from before the interval started until at least its end; the
    /// interval has ended and its readings deadline (settlementDelaySeconds later) has not come; the timestamp lies between the interval's end and MAX_CLOCK_SKEW past the
    /// chain's clock; registers do not decrease; the interval is later than the meter's last recorded
    /// one (or, for its first reading, the first one starting after its activation), with a higher
    /// sequence number; a reading for the interval right after the last one starts exactly where that
    /// one ended; skipping intervals is allowed only after the last skipped one's deadline, and
    /// registers must not have gone backwards across the gap. Emits {ReadingRecorded} for each.
    function recordReadings(MeterReading[] calldata readings, bytes[] calldata signatures) external {
        if (readings.length != signatures.length) {
            revert DeliveryLedgerLengthMismatch(readings.length, signatures.length);
        }
        for (uint256 i = 0; i < readings.length; i++) _record(readings[i], signatures[i]);
    }

    /// @notice Adds `wh` to what `meter` owes in `interval`.
    /// @dev Requirements: caller has OBLIGATION_ROLE; the interval has not started, so that the
    /// share of a shortfall each obligation bears is fixed before any energy flows. Emits {ObligationAdded}.
    function addObligation(address meter, uint64 interval, uint64 wh) external onlyRole(OBLIGATION_ROLE) {
        uint256 startsAt = uint256(interval) * intervalSeconds;
        if (block.timestamp >= startsAt) revert DeliveryLedgerObligationTooLate(meter, interval, startsAt);
        _deliveries[meter][interval].obligationWh += wh;
        emit ObligationAdded(meter, interval, msg.sender, wh);
    }

    /// @notice What `meter` owed and delivered in `interval`.
    /// @return recorded whether its reading for the interval has been recorded.
    /// @return exportedWh energy exported (zero when not recorded).
    /// @return importedWh energy imported (zero when not recorded).
    /// @return obligationWh energy owed under every product together.
    function delivery(
        address meter,
        uint64 interval
    ) external view returns (bool recorded, uint64 exportedWh, uint64 importedWh, uint64 obligationWh) {
        Delivery storage d = _deliveries[meter][interval];
        return (d.recorded, d.exportedWh, d.importedWh, d.obligationWh);
    }

    /// @notice The meter's latest recorded reading: its interval, sequence and end registers.
    function meterState(
        address meter
    ) external view returns (uint64 lastInterval, uint64 lastSequence, uint64 importWh, uint64 exportWh) {
        MeterState storage s = _state[meter];
        return (s.lastInterval, s.lastSequence, s.importWh, s.exportWh);
    }

    /// @notice The EIP-712 digest a meter signs for `reading`.
    function readingDigest(MeterReading calldata reading) external view returns (bytes32) {
        return _hashTypedDataV4(reading.hash());
    }

    /// @dev A deactivation after the interval ended does not void the meter's reading for it, but a
    /// meter that was not active for all of it cannot report on it.
    function _requireActiveDuring(
        address meter,
        uint64 interval,
        uint256 startsAt,
        uint256 endsAt
    ) private view {
        (uint40 activeSince, uint40 deactivatedAt) = registry.activePeriod(meter);
        bool activeAtStart = activeSince != 0 && activeSince <= startsAt;
        bool activeAtEnd = deactivatedAt == 0 || deactivatedAt >= endsAt;
        if (!activeAtStart || !activeAtEnd) revert DeliveryLedgerNotActiveDuringInterval(meter, interval);
    }

    function _requireSignedByMeter(MeterReading calldata r, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(
            _hashTypedDataV4(r.hash()),
            signature
        );
        if (err != ECDSA.RecoverError.NoError || signer != r.meter) {
            revert DeliveryLedgerInvalidSignature(r.meter, signer);
        }
    }

    /// @dev Order, gaps, continuity and sequence against the meter's previous reading.
    function _requireContinuous(MeterReading calldata r, MeterState storage s) private view {
        // The interval this reading should cover unless intervals are skipped.
        uint64 next;
        if (s.lastSequence == 0) {
            (uint40 activeSince, ) = registry.activePeriod(r.meter);
            next = uint64((uint256(activeSince) + intervalSeconds - 1) / intervalSeconds);
        } else {
            if (r.interval <= s.lastInterval) {
                revert DeliveryLedgerReadingOutOfOrder(r.meter, r.interval, s.lastInterval);
            }
            next = s.lastInterval + 1;
        }
        if (r.interval > next) {
            // Every skipped interval must be past its deadline, the last one included; otherwise a
            // relay could void the still-recordable ones by recording a later reading first.
            uint256 deadline = uint256(r.interval) * intervalSeconds + settlementDelaySeconds;
            if (block.timestamp < deadline)
                revert DeliveryLedgerGapNotFinal(r.meter, r.interval - 1, deadline);
        }
        if (s.lastSequence != 0) {
            if (r.interval == next) {
                if (r.importStartWh != s.importWh || r.exportStartWh != s.exportWh) {
                    revert DeliveryLedgerDiscontinuous(r.meter, r.interval, s.importWh, s.exportWh);
                }
            } else if (r.importStartWh < s.importWh || r.exportStartWh < s.exportWh) {
                revert DeliveryLedgerRegistersDecrease(r.meter, r.interval);
            }
        }
        if (r.sequence <= s.lastSequence) {
            revert DeliveryLedgerSequenceNotIncreasing(r.meter, r.sequence, s.lastSequence);
        }
    }

    function _record(MeterReading calldata r, bytes calldata signature) private {
        _requireSignedByMeter(r, signature);

        uint256 startsAt = uint256(r.interval) * intervalSeconds;
        uint256 endsAt = startsAt + intervalSeconds;
        if (block.timestamp < endsAt) revert DeliveryLedgerIntervalNotEnded(r.interval, endsAt);
        // Settlement may already have counted a reading missing at the deadline as no delivery;
        // accepting it later would make the outcome depend on who settles when.
        if (block.timestamp >= endsAt + settlementDelaySeconds) {
            revert DeliveryLedgerReadingTooLate(r.meter, r.interval, endsAt + settlementDelaySeconds);
        }
        _requireActiveDuring(r.meter, r.interval, startsAt, endsAt);
        if (r.timestamp < endsAt || r.timestamp > block.timestamp + MAX_CLOCK_SKEW) {
            revert DeliveryLedgerTimestampOutOfRange(r.timestamp, endsAt, block.timestamp + MAX_CLOCK_SKEW);
        }
        if (r.importEndWh < r.importStartWh || r.exportEndWh < r.exportStartWh) {
            revert DeliveryLedgerRegistersDecrease(r.meter, r.interval);
        }
        if (_deliveries[r.meter][r.interval].recorded)
            revert DeliveryLedgerReadingAlreadyRecorded(r.meter, r.interval);

        MeterState storage s = _state[r.meter];
        _requireContinuous(r, s);

        s.lastInterval = r.interval;
        s.lastSequence = r.sequence;
        s.importWh = r.importEndWh;
        s.exportWh = r.exportEndWh;
        Delivery storage d = _deliveries[r.meter][r.interval];
        // unchecked: both differences were checked non-negative above.
        unchecked {
            d.importedWh = r.importEndWh - r.importStartWh;
            d.exportedWh = r.exportEndWh - r.exportStartWh;
        }
        d.recorded = true;
        emit ReadingRecorded(
            r.meter,
            r.interval,
            r.sequence,
            d.importedWh,
            d.exportedWh,
            r.importEndWh,
            r.exportEndWh
        );
    }
}
