// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestDollar
/// @notice The payment token of local GridMesh chains: a 6-decimal stablecoin stand-in that anyone
/// can draw from a faucet, limited per address per day and in total per day. Real deployments use
/// an existing ERC-20 instead.
/// @dev Days are UTC days of the block timestamp (`block.timestamp / 1 days`).
contract TestDollar is ERC20, ERC20Permit, AccessControl {
    /// @notice A claim of zero tokens.
    error TestDollarZeroAmount();
    /// @notice The claim would take `account` past its limit for `day`.
    error TestDollarAccountLimitExceeded(address account, uint256 day, uint256 requested, uint256 remaining);
    /// @notice The claim would take the faucet past its total for `day`.
    error TestDollarDailyCapExceeded(uint256 day, uint256 requested, uint256 remaining);

    /// @notice `account` drew `amount` from the faucet on `day`.
    event FaucetClaimed(address indexed account, uint256 indexed day, uint256 amount);
    /// @notice The faucet's limits changed.
    event FaucetLimitsChanged(uint256 accountDailyLimit, uint256 dailyCap);

    uint256 private _accountDailyLimit;
    uint256 private _dailyCap;
    mapping(uint256 day => uint256 amount) private _claimedOnDay;
    mapping(address account => mapping(uint256 day => uint256 amount)) private _claimedByAccount;

    /// @param admin receives DEFAULT_ADMIN_ROLE, which may change the faucet's limits.
    /// @param accountDailyLimit_ the most one address may claim per day, in base units.
    /// @param dailyCap_ the most all addresses together may claim per day, in base units.
    constructor(
        address admin,
        uint256 accountDailyLimit_,
        uint256 dailyCap_
    ) ERC20("GridMesh Test Dollar", "gUSD") ERC20Permit("GridMesh Test Dollar") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setLimits(accountDailyLimit_, dailyCap_);
    }

    /// @notice Draws `amount` base units from the faucet to the caller.
    /// @dev Requirements: `amount` > 0, within the caller's remaining limit and the faucet's
    /// remaining cap for today. Emits {FaucetClaimed} and {Transfer}.
    function claim(uint256 amount) external {
        if (amount == 0) revert TestDollarZeroAmount();
        uint256 day = currentDay();
        uint256 accountRemaining = _remaining(_accountDailyLimit, _claimedByAccount[msg.sender][day]);
        if (amount > accountRemaining) {
            revert TestDollarAccountLimitExceeded(msg.sender, day, amount, accountRemaining);
        }
        uint256 capRemaining = _remaining(_dailyCap, _claimedOnDay[day]);
        if (amount > capRemaining) revert TestDollarDailyCapExceeded(day, amount, capRemaining);

        _claimedByAccount[msg.sender][day] += amount;
        _claimedOnDay[day] += amount;
        emit FaucetClaimed(msg.sender, day, amount);
        _mint(msg.sender, amount);
    }

    /// @notice Changes the faucet's limits; claims already made today still count against them.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits {FaucetLimitsChanged}.
    function setLimits(uint256 accountDailyLimit_, uint256 dailyCap_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLimits(accountDailyLimit_, dailyCap_);
    }

    /// @notice How much `account` can claim right now: the lesser of its own and the faucet's
    /// remaining allowance for today.
    function claimable(address account) external view returns (uint256) {
        uint256 day = currentDay();
        uint256 accountRemaining = _remaining(_accountDailyLimit, _claimedByAccount[account][day]);
        uint256 capRemaining = _remaining(_dailyCap, _claimedOnDay[day]);
        return accountRemaining < capRemaining ? accountRemaining : capRemaining;
    }

    /// @notice The faucet's limits: per address per day, and for all addresses per day.
    function limits() external view returns (uint256 accountDailyLimit, uint256 dailyCap) {
        return (_accountDailyLimit, _dailyCap);
    }

    /// @notice What `account` claimed on `day`.
    function claimedBy(address account, uint256 day) external view returns (uint256) {
        return _claimedByAccount[account][day];
    }

    /// @notice What all addresses together claimed on `day`.
    function claimedOn(uint256 day) external view returns (uint256) {
        return _claimedOnDay[day];
    }

    /// @notice The faucet's current day number.
    function currentDay() public view returns (uint256) {
        return block.timestamp / 1 days;
    }

    /// @notice Six decimals, like the stablecoins real deployments settle in.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _setLimits(uint256 accountDailyLimit_, uint256 dailyCap_) private {
        _accountDailyLimit = accountDailyLimit_;
        _dailyCap = dailyCap_;
        emit FaucetLimitsChanged(accountDailyLimit_, dailyCap_);
    }

    /// @dev Saturates at zero: lowering a limit below what was already claimed today leaves nothing.
    function _remaining(uint256 limit, uint256 used) private pure returns (uint256) {
        return used >= limit ? 0 : limit - used;
    }
}
