// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ForwardMarket} from "../delivery/ForwardMarket.sol";
import {OptionMarket} from "../delivery/OptionMarket.sol";
import {EnergyMarket} from "../market/EnergyMarket.sol";
import {IndexOracle} from "../oracle/IndexOracle.sol";
import {Reputation} from "../market/Reputation.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MeterReading} from "../readings/MeterReading.sol";
import {MeterRegistry} from "../registry/MeterRegistry.sol";
import {TestBase} from "./Vm.sol";

/// @notice The market contract set of ignition/modules/core.ts for Solidity tests, and signing with
/// cheatcode keys: meters' enrolment consents and readings, verifiers' attestations.
abstract contract MarketFixture is TestBase {
    uint64 internal constant INTERVAL_SECONDS = 900;
    uint64 internal constant GATE_CLOSURE_SECONDS = 60;
    uint64 internal constant SETTLEMENT_DELAY_SECONDS = 3_600;
    uint64 internal constant PENALTY_PER_KWH = 50_000;

    /// @dev Three verifier organisations, two of which must attest a meter.
    uint256 internal constant VERIFIER_KEY_1 = 0xF1;
    uint256 internal constant VERIFIER_KEY_2 = 0xF2;
    uint256 internal constant VERIFIER_KEY_3 = 0xF3;

    /// @dev Deploys registry, ledger, reputation and market with the caller contract as admin, and
    /// grants the roles core.ts grants (the market records obligations and trades; `matcher` clears).
    function _deployCore(
        IERC20 token,
        address matcher
    )
        internal
        returns (MeterRegistry registry, DeliveryLedger ledger, Reputation reputation, EnergyMarket market)
    {
        address[] memory verifiers = new address[](3);
        verifiers[0] = vm.addr(VERIFIER_KEY_1);
        verifiers[1] = vm.addr(VERIFIER_KEY_2);
        verifiers[2] = vm.addr(VERIFIER_KEY_3);
        registry = new MeterRegistry(address(this), verifiers, 2);
        ledger = new DeliveryLedger(address(this), registry, INTERVAL_SECONDS, SETTLEMENT_DELAY_SECONDS);
        reputation = new Reputation(address(this));
        market = new EnergyMarket(
            address(this),
            token,
            ledger,
            reputation,
            GATE_CLOSURE_SECONDS,
            PENALTY_PER_KWH
        );
        ledger.grantRole(ledger.OBLIGATION_ROLE(), address(market));
        reputation.grantRole(reputation.RECORDER_ROLE(), address(market));
        market.grantRole(market.MATCHER_ROLE(), matcher);
    }

    /// @dev Deploys the index oracle and the forward and option markets on top of `_deployCore`'s
    /// contracts, granting them the ledger's and the reputation's roles as core.ts does.
    function _deployDeliveryMarkets(
        IERC20 token,
        DeliveryLedger ledger,
        Reputation reputation
    ) internal returns (IndexOracle oracle, ForwardMarket forwards, OptionMarket options) {
        oracle = new IndexOracle(address(this));
        forwards = new ForwardMarket(
            address(this),
            token,
            ledger,
            oracle,
            reputation,
            GATE_CLOSURE_SECONDS,
            PENALTY_PER_KWH
        );
        options = new OptionMarket(
            address(this),
            token,
            ledger,
            oracle,
            reputation,
            GATE_CLOSURE_SECONDS,
            PENALTY_PER_KWH
        );
        ledger.grantRole(ledger.OBLIGATION_ROLE(), address(forwards));
        ledger.grantRole(ledger.OBLIGATION_ROLE(), address(options));
        reputation.grantRole(reputation.RECORDER_ROLE(), address(forwards));
        reputation.grantRole(reputation.RECORDER_ROLE(), address(options));
    }

    /// @dev A 65-byte r ‖ s ‖ v signature of `digest` by `privateKey`.
    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _registryDigest(MeterRegistry registry, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", registry.domainSeparator(), structHash));
    }

    /// @dev Enrols the meter of key `meterKey` under `owner` with the meter's signed consent, and
    /// activates it with two verifiers' attestations of a fresh verdict.
    function _activeMeter(
        MeterRegistry registry,
        address owner,
        uint256 meterKey
    ) internal returns (address meter) {
        meter = vm.addr(meterKey);
        bytes32 deviceId = keccak256(abi.encode("device", meter));
        bytes32 consent = keccak256(abi.encode(registry.ENROLLMENT_TYPEHASH(), meter, owner, deviceId));
        bytes memory consentSignature = _sign(meterKey, _registryDigest(registry, consent));
        vm.prank(owner);
        registry.enroll(meter, deviceId, consentSignature);

        bytes32 verdictTxId = keccak256(abi.encode("verdict", meter));
        bytes32 attestation = keccak256(
            abi.encode(registry.ATTESTATION_TYPEHASH(), deviceId, meter, verdictTxId)
        );
        bytes32 digest = _registryDigest(registry, attestation);
        (uint256 lowKey, uint256 highKey) = vm.addr(VERIFIER_KEY_1) < vm.addr(VERIFIER_KEY_2)
            ? (VERIFIER_KEY_1, VERIFIER_KEY_2)
            : (VERIFIER_KEY_2, VERIFIER_KEY_1);
        bytes[] memory signatures = new bytes[](2);
        signatures[0] = _sign(lowKey, digest);
        signatures[1] = _sign(highKey, digest);
        registry.activate(meter, verdictTxId, signatures);
    }

    /// @dev The meter key's signature of `reading` under the ledger's EIP-712 domain.
    function _signReading(
        DeliveryLedger ledger,
        uint256 meterKey,
        MeterReading memory reading
    ) internal view returns (bytes memory) {
        return _sign(meterKey, ledger.readingDigest(reading));
    }
}
