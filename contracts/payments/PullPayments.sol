// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title PullPayments
/// @notice Every payout of a GridMesh market is credited to a balance its owner withdraws when it
/// wants (pull, not push), so that a failing or hostile recipient can never block a settlement.
/// Withdrawals are never paused.
abstract contract PullPayments is ReentrancyGuard {
    using SafeERC20 for IERC20;

    error PullPaymentsZeroAddress();
    error PullPaymentsZeroAmount();
    error PullPaymentsInsufficientBalance(address account, uint256 requested, uint256 available);

    /// @notice `account` withdrew `amount` of its balance to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice The ERC-20 every amount of this contract is denominated in.
    IERC20 public immutable token;

    mapping(address account => uint256) private _balances;

    constructor(IERC20 token_) {
        if (address(token_) == address(0)) revert PullPaymentsZeroAddress();
        token = token_;
    }

    /// @notice Withdraws `amount` of the caller's balance to `to`.
    /// @dev Works while paused: payouts stay withdrawable at any time. Requirements: `to` is not the
    /// zero address; 0 < `amount` ≤ the balance. Emits {Withdrawn}.
    function withdraw(address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert PullPaymentsZeroAddress();
        if (amount == 0) revert PullPaymentsZeroAmount();
        uint256 available = _balances[msg.sender];
        if (amount > available) revert PullPaymentsInsufficientBalance(msg.sender, amount, available);
        // unchecked: amount ≤ available was just checked.
        unchecked {
            _balances[msg.sender] = available - amount;
        }
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @notice `account`'s withdrawable balance.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @dev Credits are reported by the event of their cause (a settlement, a release), which keeps
    /// settlement at one event per fill.
    function _credit(address account, uint256 amount) internal {
        if (amount != 0) _balances[account] += amount;
    }
}
