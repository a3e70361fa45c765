// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IMeterRegistry} from "../interfaces/IMeterRegistry.sol";

/// @title MeterRegistry
/// @notice Meters (one Ethereum key each), their owners, and the verifier organisations whose
/// attestations activate them. A meter is enrolled by its owner with the meter key's consent, and
/// becomes active only when `threshold` distinct verifiers have attested, over EIP-712, that the
/// Secure ID Keychecker verified its device identity (the verdict is a Fabric transaction).
contract MeterRegistry is IMeterRegistry, AccessControl, EIP712 {
    /// @notice The meter key's consent to be enrolled under `owner`.
    bytes32 public constant ENROLLMENT_TYPEHASH = keccak256(
        "MeterEnrollment(address meter,address owner,bytes32 deviceId)"
    );
    /// @notice A verifier's statement that Keychecker verdict `verdictTxId` verified `deviceId`, the
    /// device behind `meter`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "MeterAttestation(bytes32 deviceId,address meter,bytes32 verdictTxId)"
    );

    error MeterRegistryZeroAddress();
    error MeterRegistryAlreadyEnrolled(address meter, address owner);
    error MeterRegistryNotEnrolled(address meter);
    error MeterRegistryInvalidEnrollmentSignature(address meter, address signer);
    error MeterRegistryAlreadyActive(address meter);
    error MeterRegistryNotActive(address meter);
    error MeterRegistryVerdictAlreadyUsed(bytes32 verdictTxId);
    error MeterRegistryNotAVerifier(address signer);
    error MeterRegistrySignersNotAscending(address signer, address previous);
    error MeterRegistryTooFewAttestations(uint256 given, uint256 threshold);
    error MeterRegistryUnauthorized(address caller, address meter);
    error MeterRegistryInvalidThreshold(uint256 threshold, uint256 verifierCount);
    error MeterRegistryVerifierAlreadyAdded(address verifier);

    event MeterEnrolled(address indexed meter, address indexed owner, bytes32 indexed deviceId);
    event MeterActivated(address indexed meter, bytes32 indexed verdictTxId, address[] verifiers);
    event MeterDeactivated(address indexed meter, address indexed by);
    event VerifierAdded(address indexed verifier);
    event VerifierRemoved(address indexed verifier);
    event ThresholdChanged(uint256 threshold);

    /// @dev Owner, status and latest active period share one slot: that is what readings check.
    struct Meter {
        address owner;
        bool active;
        uint40 activeSince;
        uint40 deactivatedAt;
        bytes32 deviceId;
    }

    mapping(address meter => Meter) private _meters;
    mapping(address verifier => bool) private _isVerifier;
    mapping(bytes32 verdictTxId => bool) private _verdictUsed;
    uint32 private _verifierCount;
    uint32 private _threshold;

    /// @param admin receives DEFAULT_ADMIN_ROLE: manages verifiers and the threshold, may deactivate meters.
    /// @param verifiers the initial verifier organisations' signing addresses.
    /// @param threshold_ how many distinct verifiers must attest a meter (1 ≤ threshold ≤ verifiers).
    constructor(
        address admin,
        address[] memory verifiers,
        uint256 threshold_
    ) EIP712("GridMesh MeterRegistry", "1") {
        if (admin == address(0)) revert MeterRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < verifiers.length; i++) _addVerifier(verifiers[i]);
        _setThreshold(threshold_);
    }

    /// @notice Enrols `meter` under the caller, who becomes its owner. The meter stays inactive
    /// until verifiers attest it.
    /// @dev Requirements: `meter` not enrolled before; `meterSignature` is the meter key's EIP-712
    /// signature of MeterEnrollment(meter, caller, deviceId). Emits {MeterEnrolled}.
    function enroll(address meter, bytes32 deviceId, bytes calldata meterSignature) external {
        if (meter == address(0)) revert MeterRegistryZeroAddress();
        Meter storage m = _meters[meter];
        if (m.owner != address(0)) revert MeterRegistryAlreadyEnrolled(meter, m.owner);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(ENROLLMENT_TYPEHASH, meter, msg.sender, deviceId))
        );
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, meterSignature);
        if (err != ECDSA.RecoverError.NoError || signer != meter) {
            revert MeterRegistryInvalidEnrollmentSignature(meter, signer);
        }

        m.owner = msg.sender;
        m.deviceId = deviceId;
        emit MeterEnrolled(meter, msg.sender, deviceId);
    }

    /// @notice Activates `meter` with attestations of one Keychecker verdict. Anyone may submit them.
    /// @dev Requirements: `meter` enrolled and inactive; `verdictTxId` never used before; at least
    /// `threshold` signatures of MeterAttestation(deviceId, meter, verdictTxId), each by a current
    /// verifier, ordered by strictly ascending signer address (which rules out counting one verifier
    /// twice). Emits {MeterActivated}.
    function activate(address meter, bytes32 verdictTxId, bytes[] calldata signatures) external {
        Meter storage m = _meters[meter];
        if (m.owner == address(0)) revert MeterRegistryNotEnrolled(meter);
        if (m.active) revert MeterRegistryAlreadyActive(meter);
        if (_verdictUsed[verdictTxId]) revert MeterRegistryVerdictAlreadyUsed(verdictTxId);
        if (signatures.length < _threshold)
            revert MeterRegistryTooFewAttestations(signatures.length, _threshold);

        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, m.deviceId, meter, verdictTxId))
        );
        address[] memory signers = new address[](signatures.length);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError || !_isVerifier[signer])
                revert MeterRegistryNotAVerifier(signer);
            if (signer <= previous) revert MeterRegistrySignersNotAscending(signer, previous);
            signers[i] = signer;
            previous = signer;
        }

        _verdictUsed[verdictTxId] = true;
        m.active = true;
        m.activeSince = uint40(block.timestamp);
        m.deactivatedAt = 0;
        emit MeterActivated(meter, verdictTxId, signers);
    }

    /// @notice Deactivates `meter`: its readings and new orders are refused from now on. It can be
    /// activated again only with attestations of a new verdict.
    /// @dev Requirements: caller is the meter's owner or an admin; the meter is active. Emits {MeterDeactivated}.
    function deactivate(address meter) external {
        Meter storage m = _meters[meter];
        if (msg.sender != m.owner && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert MeterRegistryUnauthorized(msg.sender, meter);
        }
        if (!m.active) revert MeterRegistryNotActive(meter);
        m.active = false;
        m.deactivatedAt = uint40(block.timestamp);
        emit MeterDeactivated(meter, msg.sender);
    }

    /// @notice Adds a verifier organisation's signing address.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; not already a verifier. Emits {VerifierAdded}.
    function addVerifier(address verifier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addVerifier(verifier);
    }

    /// @notice Removes a verifier; attestations it signs no longer count. Active meters stay active.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `verifier` is one; the threshold stays
    /// reachable. Emits {VerifierRemoved}.
    function removeVerifier(address verifier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_isVerifier[verifier]) revert MeterRegistryNotAVerifier(verifier);
        if (_threshold > _verifierCount - 1)
            revert MeterRegistryInvalidThreshold(_threshold, _verifierCount - 1);
        _isVerifier[verifier] = false;
        _verifierCount -= 1;
        emit VerifierRemoved(verifier);
    }

    /// @notice Sets how many distinct verifiers must attest a meter.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; 1 ≤ threshold ≤ verifier count. Emits {ThresholdChanged}.
    function setThreshold(uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setThreshold(threshold_);
    }

    /// @inheritdoc IMeterRegistry
    function isActive(address meter) external view returns (bool) {
        return _meters[meter].active;
    }

    /// @inheritdoc IMeterRegistry
    function ownerOf(address meter) external view returns (address) {
        return _meters[meter].owner;
    }

    /// @inheritdoc IMeterRegistry
    function activePeriod(address meter) external view returns (uint40 activeSince, uint40 deactivatedAt) {
        Meter storage m = _meters[meter];
        return (m.activeSince, m.deactivatedAt);
    }

    /// @notice Everything the registry holds on `meter`.
    function meterInfo(address meter) external view returns (address owner, bytes32 deviceId, bool active) {
        Meter storage m = _meters[meter];
        return (m.owner, m.deviceId, m.active);
    }

    /// @notice Whether `account` is a verifier.
    function isVerifier(address account) external view returns (bool) {
        return _isVerifier[account];
    }

    /// @notice Whether Keychecker verdict `verdictTxId` has already activated a meter.
    function verdictUsed(bytes32 verdictTxId) external view returns (bool) {
        return _verdictUsed[verdictTxId];
    }

    /// @notice The attestation threshold and the number of verifiers.
    function verifierPolicy() external view returns (uint256 threshold, uint256 verifierCount) {
        return (_threshold, _verifierCount);
    }

    /// @notice The EIP-712 domain separator signatures for this registry are made under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _addVerifier(address verifier) private {
        if (verifier == address(0)) revert MeterRegistryZeroAddress();
        if (_isVerifier[verifier]) revert MeterRegistryVerifierAlreadyAdded(verifier);
        _isVerifier[verifier] = true;
        _verifierCount += 1;
        emit VerifierAdded(verifier);
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > _verifierCount) {
            revert MeterRegistryInvalidThreshold(threshold_, _verifierCount);
        }
        _threshold = uint32(threshold_);
        emit ThresholdChanged(threshold_);
    }
}
