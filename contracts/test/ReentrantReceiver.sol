// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ResourceExchangeBroker} from "../ResourceExchangeBroker.sol";

/// @title Test-only attacker for the REB's pull payments (never deployed outside tests)
/// @notice Becomes owed funds as a buyer (reserve, then the seller rejects or the buyer cancels)
/// or as a seller (publish + accept, then release or settle), then calls `withdraw` and, from its
/// `receive`, re-enters `withdraw` (or another function) while the first payment is in flight.
/// @dev Modes of `receive`:
///   0 Quiet      accept the payment, do nothing else;
///   1 Bubble     re-enter withdraw() and revert if the re-entry fails (so the outer transfer fails);
///   2 Swallow    re-enter withdraw() and record the failure, keep the payment;
///   3 Drain      re-enter withdraw() up to `maxDepth` times, keeping whatever comes back;
///   4 Reserve    re-enter reserve() with the money just received (a different function).
contract ReentrantReceiver {
    enum Mode { Quiet, Bubble, Swallow, Drain, Reserve }

    ResourceExchangeBroker public immutable reb;
    Mode public mode;
    uint256 public maxDepth;
    uint256 public depth;
    uint256 public receivedCount;
    uint256 public receivedTotal;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    bytes public lastReentryError;
    uint256 public reenterOfferId;
    uint256 public reenterHours;

    constructor(ResourceExchangeBroker reb_) {
        reb = reb_;
    }

    function setMode(Mode mode_, uint256 maxDepth_) external {
        mode = mode_;
        maxDepth = maxDepth_;
    }

    function setReenterReserve(uint256 offerId, uint256 hoursBooked) external {
        reenterOfferId = offerId;
        reenterHours = hoursBooked;
    }

    // ------------------------------------------------------------------ buyer side

    function reserve(uint256 offerId, uint256 hoursBooked, bytes32 buyerKey, bytes32 termsHash, bytes32 orderRef)
        external
        payable
        returns (uint256)
    {
        return reb.reserve{value: msg.value}(offerId, hoursBooked, buyerKey, termsHash, orderRef);
    }

    function cancel(uint256 reservationId) external {
        reb.cancel(reservationId);
    }

    function release(uint256 reservationId) external {
        reb.release(reservationId);
    }

    // ----------------------------------------------------------------- seller side

    function register(string calldata name) external {
        reb.registerProvider(name);
    }

    function publish(ResourceExchangeBroker.OfferSpec calldata spec) external returns (uint256) {
        return reb.publishOffer(spec);
    }

    function accept(uint256 reservationId, string calldata endpoint, bytes32 fingerprint) external {
        reb.accept(reservationId, endpoint, fingerprint);
    }

    // --------------------------------------------------------------------- attack

    /// @notice Pull what the REB owes this contract; reverts bubble up unchanged.
    function attack() external {
        depth = 0;
        reb.withdraw();
    }

    receive() external payable {
        receivedCount += 1;
        receivedTotal += msg.value;
        if (mode == Mode.Quiet) return;
        if (mode == Mode.Reserve) {
            reentryAttempts += 1;
            bytes32 terms = reb.getOffer(reenterOfferId).termsHash;
            try reb.reserve{value: msg.value}(reenterOfferId, reenterHours, bytes32(uint256(1)), terms, keccak256("reentry")) {
                reentrySuccesses += 1;
            } catch (bytes memory err) {
                lastReentryError = err;
            }
            return;
        }
        if (depth >= maxDepth) return;
        depth += 1;
        reentryAttempts += 1;
        if (mode == Mode.Bubble) {
            reb.withdraw(); // a revert here makes the REB's transfer fail
            reentrySuccesses += 1;
            return;
        }
        try reb.withdraw() {
            reentrySuccesses += 1;
        } catch (bytes memory err) {
            lastReentryError = err;
        }
    }
}
