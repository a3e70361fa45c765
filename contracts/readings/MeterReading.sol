// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A meter's signed statement of its registers over one trading interval (ARCHITECTURE §4).
/// The one definition of the reading type on-chain; the TypeScript twin is
/// `@gridmesh/contracts` `meterReadingTypes`, and a test keeps the two identical.
/// @param meter the meter's address, which must also be the signer.
/// @param interval index t = floor(unixSeconds / intervalSeconds) of the interval covered.
/// @param sequence per-meter counter, strictly increasing from one reading to the next.
/// @param importStartWh cumulative import register at the start of the interval, in Wh.
/// @param importEndWh cumulative import register at the end of the interval, in Wh.
/// @param exportStartWh cumulative export register at the start of the interval, in Wh.
/// @param exportEndWh cumulative export register at the end of the interval, in Wh.
/// @param timestamp when the meter took the end-of-interval reading, in unix seconds.
struct MeterReading {
    address meter;
    uint64 interval;
    uint64 sequence;
    uint64 importStartWh;
    uint64 importEndWh;
    uint64 exportStartWh;
    uint64 exportEndWh;
    uint64 timestamp;
}

library MeterReadingHash {
    bytes32 internal constant TYPEHASH = keccak256(
        "MeterReading(address meter,uint64 interval,uint64 sequence,uint64 importStartWh,uint64 importEndWh,uint64 exportStartWh,uint64 exportEndWh,uint64 timestamp)"
    );

    /// @dev The EIP-712 struct hash of `r`.
    function hash(MeterReading calldata r) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    TYPEHASH,
                    r.meter,
                    r.interval,
                    r.sequence,
                    r.importStartWh,
                    r.importEndWh,
                    r.exportStartWh,
                    r.exportEndWh,
                    r.timestamp
                )
            );
    }
}
