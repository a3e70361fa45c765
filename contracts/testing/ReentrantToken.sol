// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A malicious payment token for reentrancy tests: once armed, its next transfer or
/// transferFrom calls `victim` with `callData` from inside the token call, records whether that
/// reentrant call succeeded and what it returned, and optionally bubbles its revert.
contract ReentrantToken is ERC20 {
    address public victim;
    bytes public callData;
    bool public bubbleRevert;
    bool public armed;

    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryResult;

    constructor() ERC20("Reentrant Token", "REENTER") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer call `victim_` with `callData_`; a refused call reverts the
    /// transfer too when `bubbleRevert_`, and is only recorded otherwise.
    function arm(address victim_, bytes calldata callData_, bool bubbleRevert_) external {
        victim = victim_;
        callData = callData_;
        bubbleRevert = bubbleRevert_;
        armed = true;
        reentered = false;
        reentrySucceeded = false;
        delete reentryResult;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (!armed || from == address(0) || to == address(0)) return;
        armed = false;
        reentered = true;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = victim.call(callData);
        reentrySucceeded = ok;
        reentryResult = result;
        if (!ok && bubbleRevert) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
