// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EnergyMarket} from "../market/EnergyMarket.sol";
import {Reputation} from "../market/Reputation.sol";
import {IndexOracle} from "../oracle/IndexOracle.sol";
import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MeterReading} from "../readings/MeterReading.sol";
import {MeterRegistry} from "../registry/MeterRegistry.sol";
import {MarketFixture} from "../testing/MarketFixture.sol";
import {TestDollar} from "../token/TestDollar.sol";
import {ForwardMarket} from "./ForwardMarket.sol";
import {OptionMarket} from "./OptionMarket.sol";
import {Pricing} from "./Pricing.sol";
import {ScheduledDelivery} from "./ScheduledDelivery.sol";

/// @dev Drives the forward and option markets through whole delivery contracts: four actors, each
/// owning one active meter, propose forwards (fixed or index-priced, selling or buying, to a named
/// counterparty or anyone) and accept or cancel them, write, buy, exercise, cancel and expire call
/// options; anyone commits the intervals before they start; the oracle posts index values on time,
/// late or never; time passes; the meters' signed readings come in on time with exports above or
/// below their obligations; intervals settle after their end, before or after their deadline; and
/// balances are withdrawn. Every action only makes calls that must succeed (it skips when their
/// preconditions do not hold), so any revert is a finding. Alongside, the handler keeps its own
/// model of every balance the markets credit, computed from the terms, readings and index values.
contract ScheduledDeliveryHandler is MarketFixture {
    uint256 internal constant ACTOR_COUNT = 4;
    uint256 internal constant FUNDS = 1e15;
    uint256 internal constant MAX_WH = 20_000;
    uint256 internal constant MAX_PRICE = 400_000;
    uint256 internal constant MAX_PREMIUM = 1_000_000;
    uint64 internal constant MAX_READINGS = 8;
    /// @dev The first meter key; meter i has key METER_KEY + i.
    uint256 internal constant METER_KEY = 0x5CED0;
    /// @dev The account holding the oracle's ORACLE_ROLE.
    address internal constant POSTER = address(uint160(0x0AC1E));
    bytes32 internal constant INDEX_A = keccak256("temperature");
    bytes32 internal constant INDEX_B = keccak256("wholesale");
    uint8 internal constant SETTLED = 2;

    /// @dev What `_find` looks for.
    enum Kind {
        Acceptable,
        Stale,
        Proposed,
        Buyable,
        Exercisable,
        Cancellable,
        Unsold,
        Expirable,
        Active,
        Settleable,
        Committable,
        Indexed
    }

    struct MeterTrack {
        uint64 lastInterval;
        uint64 sequence;
        uint64 importWh;
        uint64 exportWh;
    }

    /// @dev Call summary: how far a random sequence got.
    struct Calls {
        uint256 forwardsProposed;
        uint256 indexForwardsProposed;
        uint256 forwardsAccepted;
        uint256 proposalsCancelled;
        uint256 optionsWritten;
        uint256 optionsBought;
        uint256 optionsExercised;
        uint256 optionsCancelled;
        uint256 optionsExpired;
        uint256 intervalsCommitted;
        uint256 indexValuesPosted;
        uint256 lateIndexValues;
        uint256 readingsRecorded;
        uint256 shortReadings;
        uint256 intervalsSettled;
        uint256 intervalsVoided;
        uint256 shortIntervalsSettled;
        uint256 missingReadingsSettled;
        uint256 basePriceFallbacks;
        uint256 schedulesCompleted;
        uint256 withdrawals;
        uint256 penaltyChanges;
    }

    /// @dev The model's payouts of one schedule so far, and whether its seller fell short.
    struct Paid {
        uint256 toSeller;
        uint256 toBuyer;
        bool shortfall;
    }

    TestDollar public immutable token;
    DeliveryLedger public immutable ledger;
    IndexOracle public immutable oracle;
    ForwardMarket public immutable forwards;
    OptionMarket public immutable options;

    address[] internal _actors;
    address[] internal _meters;
    mapping(address meter => MeterTrack) internal _track;
    /// @dev The model: what each market owes each actor, and has paid out of each schedule.
    mapping(address market => mapping(address actor => uint256)) public expectedBalance;
    mapping(address market => mapping(uint256 id => Paid)) internal _paid;
    /// @dev The penalty each market's new contracts collateralise.
    mapping(address market => uint64) internal _penalty;
    /// @dev The latest interval of any window.
    uint64 public lastWindowInterval;
    /// @dev The first interval the meters, activated at deployment, can report on.
    uint64 internal immutable _firstInterval;

    Calls internal _calls;

    constructor(
        TestDollar token_,
        MeterRegistry registry,
        DeliveryLedger ledger_,
        IndexOracle oracle_,
        ForwardMarket forwards_,
        OptionMarket options_
    ) {
        token = token_;
        ledger = ledger_;
        oracle = oracle_;
        forwards = forwards_;
        options = options_;
        _penalty[address(forwards_)] = forwards_.penaltyPerKwh();
        _penalty[address(options_)] = options_.penaltyPerKwh();
        _firstInterval = uint64((block.timestamp + INTERVAL_SECONDS - 1) / INTERVAL_SECONDS);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            address actor = address(uint160(0x5AC7000 + i));
            _actors.push(actor);
            _meters.push(_activeMeter(registry, actor, METER_KEY + i));
            vm.startPrank(actor);
            token_.claim(FUNDS);
            token_.approve(address(forwards_), type(uint256).max);
            token_.approve(address(options_), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ------------------------------------------------------------ forwards

    /// @dev Actor `actorSeed % 4` proposes a forward on its meter, selling for even
    /// `actorSeed / 4`, to a named other actor or (one time in four) anyone, over 1–4 intervals
    /// starting 0–3 intervals after the first one still open; fixed-price for even `pricingSeed`,
    /// else following one of two indices (see `_pricing`).
    function proposeForward(
        uint256 actorSeed,
        uint256 counterpartySeed,
        uint256 startSeed,
        uint256 lengthSeed,
        uint256 wh,
        uint256 price,
        uint256 pricingSeed
    ) external {
        uint256 i = actorSeed % ACTOR_COUNT;
        uint256 c = counterpartySeed % ACTOR_COUNT;
        ForwardMarket.Terms memory terms;
        (terms.firstInterval, terms.lastInterval) = _window(startSeed, lengthSeed);
        terms.whPerInterval = uint48(_inRange(wh, 1, MAX_WH));
        terms.pricing = _pricing(price, pricingSeed);
        vm.prank(_actors[i]);
        uint256 id = forwards.propose(
            terms,
            (actorSeed / ACTOR_COUNT) % 2 == 0,
            _meters[i],
            c == 0 ? address(0) : _actors[(i + c) % ACTOR_COUNT]
        );
        _checkMargins(forwards, id, true);
        _calls.forwardsProposed++;
        if (terms.pricing.indexId != bytes32(0)) _calls.indexForwardsProposed++;
    }

    /// @dev Accepts an open proposal whose gate is still open: as its named counterparty, or as
    /// some actor other than the proposer.
    function acceptForward(uint256 idSeed, uint256 actorSeed) external {
        uint256 id = _find(forwards, idSeed, Kind.Acceptable);
        if (id == 0) return;
        address acceptor = forwards.counterpartyOf(id);
        if (acceptor == address(0)) {
            ScheduledDelivery.Schedule memory s = forwards.getSchedule(id);
            uint256 proposer = _actorIndex(s.seller == address(0) ? s.buyer : s.seller);
            acceptor = _actors[(proposer + 1 + (actorSeed % (ACTOR_COUNT - 1))) % ACTOR_COUNT];
        }
        vm.prank(acceptor);
        forwards.accept(id, _meterOf(acceptor));
        _checkMargins(forwards, id, false);
        _calls.forwardsAccepted++;
    }

    // ------------------------------------------------------------- options

    /// @dev Actor `actorSeed % 4` writes an option on its meter over a window as for forwards,
    /// exercisable until its first gate closure for odd `deadlineSeed >> 128`, else until
    /// `deadlineSeed` seconds from now, wrapped to that gate closure.
    function writeOption(
        uint256 actorSeed,
        uint256 startSeed,
        uint256 lengthSeed,
        uint256 wh,
        uint256 strike,
        uint256 premium,
        uint256 deadlineSeed
    ) external {
        uint256 i = actorSeed % ACTOR_COUNT;
        OptionMarket.OptionTerms memory terms;
        (terms.firstInterval, terms.lastInterval) = _window(startSeed, lengthSeed);
        terms.whPerInterval = uint48(_inRange(wh, 1, MAX_WH));
        terms.strikePerKwh = uint96(_inRange(strike, 1, MAX_PRICE));
        terms.premium = uint128(_inRange(premium, 0, MAX_PREMIUM));
        uint256 closes = _gateClosure(terms.firstInterval);
        terms.exerciseDeadline = uint64(
            (deadlineSeed >> 128) % 2 == 0
                ? block.timestamp + 1 + (deadlineSeed % (closes - block.timestamp))
                : closes
        );
        vm.prank(_actors[i]);
        uint256 id = options.write(terms, _meters[i]);
        _checkMargins(options, id, true);
        _calls.optionsWritten++;
    }

    /// @dev An actor other than the writer buys an unsold option before its exercise deadline.
    function buyOption(uint256 idSeed, uint256 actorSeed) external {
        uint256 id = _find(options, idSeed, Kind.Buyable);
        if (id == 0) return;
        address writer = options.getSchedule(id).seller;
        address buyer = _actors[(_actorIndex(writer) + 1 + (actorSeed % (ACTOR_COUNT - 1))) % ACTOR_COUNT];
        vm.prank(buyer);
        options.buy(id);
        expectedBalance[address(options)][writer] += options.getOption(id).premium;
        _calls.optionsBought++;
    }

    /// @dev The holder exercises before the deadline, with its own meter.
    function exerciseOption(uint256 idSeed) external {
        uint256 id = _find(options, idSeed, Kind.Exercisable);
        if (id == 0) return;
        address holder = options.getOption(id).holder;
        vm.prank(holder);
        options.exercise(id, _meterOf(holder));
        _checkMargins(options, id, false);
        _calls.optionsExercised++;
    }

    /// @dev Withdraws an open forward proposal (its proposer) or an unsold option (its writer):
    /// mostly one that can no longer be accepted or bought, one time in four any.
    function cancel(uint256 marketSeed, uint256 idSeed) external {
        bool any = idSeed % 4 == 0;
        if (marketSeed % 2 == 0) {
            uint256 id = _find(forwards, idSeed, any ? Kind.Proposed : Kind.Stale);
            if (id != 0) _cancelProposal(id);
            return;
        }
        uint256 optionId = _find(options, idSeed, any ? Kind.Cancellable : Kind.Unsold);
        if (optionId == 0) return;
        ScheduledDelivery.Schedule memory s = options.getSchedule(optionId);
        vm.prank(s.seller);
        options.cancel(optionId);
        expectedBalance[address(options)][s.seller] += s.sellerMargin;
        _calls.optionsCancelled++;
    }

    /// @dev Anyone lets an unexercised option past its deadline expire.
    function expireOption(uint256 idSeed, uint256 callerSeed) external {
        uint256 id = _find(options, idSeed, Kind.Expirable);
        if (id == 0) return;
        _expire(id, _actors[callerSeed % ACTOR_COUNT]);
    }

    // ------------------------------------------------------ delivery cycle

    /// @dev Anyone commits intervals that have not started: for `together % 4 == 0` one of an
    /// active schedule of one market (its next one for even `intervalSeed`) alone; otherwise, as a
    /// keeper would, every such interval of every active schedule of both markets, each interval in
    /// one call per market.
    function commitInterval(
        uint256 marketSeed,
        uint256 idSeed,
        uint256 intervalSeed,
        uint256 together
    ) external {
        address caller = _actors[intervalSeed % ACTOR_COUNT];
        if (together % 4 == 0) {
            ScheduledDelivery m = _market(marketSeed);
            uint256 id = _find(m, idSeed, Kind.Committable);
            if (id == 0) return;
            uint256[] memory ids = new uint256[](1);
            ids[0] = id;
            _commit(m, ids, _committableInterval(m, id, intervalSeed), caller);
            return;
        }
        for (uint64 t = _firstUnstarted(0); t <= lastWindowInterval; t++) {
            _commitAllOwing(forwards, t, caller);
            _commitAllOwing(options, t, caller);
        }
    }

    /// @dev The oracle posts a value in [-100, 100] for an interval of an index-priced forward's
    /// window (or, if there is none, a recent interval) — whenever this happens to run: before,
    /// during or after the interval, before or after its deadline.
    function postIndex(uint256 idSeed, uint256 intervalSeed, int256 value) external {
        uint256 id = _find(forwards, idSeed, Kind.Indexed);
        bytes32 indexId;
        uint64 t;
        if (id == 0) {
            indexId = idSeed % 2 == 0 ? INDEX_A : INDEX_B;
            t = uint64(block.timestamp / INTERVAL_SECONDS - 2 + (intervalSeed % 6));
        } else {
            ScheduledDelivery.Schedule memory s = forwards.getSchedule(id);
            indexId = s.pricing.indexId;
            t = s.firstInterval + uint64(intervalSeed % (s.lastInterval - s.firstInterval + 1));
        }
        (bool posted, , ) = oracle.valueAt(indexId, t);
        if (posted) return;
        vm.prank(POSTER);
        oracle.post(indexId, t, int128(value % 101));
        _calls.indexValuesPosted++;
        if (block.timestamp >= _deadlineOf(t)) _calls.lateIndexValues++;
    }

    /// @dev Moves time forward: a little, into the next gate closure window, to just after the end
    /// of the current interval (mostly) or the next one, or past the current interval's deadline.
    function warp(uint256 mode, uint256 secondsAhead) external {
        mode %= 8;
        uint256 next = (block.timestamp / INTERVAL_SECONDS + 1) * INTERVAL_SECONDS;
        uint256 target;
        if (mode == 0) {
            target = block.timestamp + _inRange(secondsAhead, 1, 300);
        } else if (mode == 1) {
            target = next - GATE_CLOSURE_SECONDS + (secondsAhead % GATE_CLOSURE_SECONDS);
            if (target <= block.timestamp) target += INTERVAL_SECONDS;
        } else {
            target = next + (secondsAhead % 300);
            if (mode == 6) target += INTERVAL_SECONDS;
            if (mode == 7) target += SETTLEMENT_DELAY_SECONDS;
        }
        vm.warp(target);
    }

    /// @dev Records a meter's signed readings (every meter's for odd `actorSeed / 4`), in interval
    /// order and continuing its registers, up to a recently ended interval, skipping only intervals
    /// whose deadline has passed. Each export equals, exceeds or falls short of the interval's
    /// obligation, or is zero.
    function recordReading(uint256 actorSeed, uint256 intervalSeed, uint256 mode, uint256 amount) external {
        if ((actorSeed / ACTOR_COUNT) % 2 == 0) {
            _recordReadings(actorSeed % ACTOR_COUNT, intervalSeed, mode, amount);
            return;
        }
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            uint256 seed = uint256(keccak256(abi.encode(mode, amount, i)));
            _recordReadings(i, intervalSeed, seed, seed >> 8);
        }
    }

    /// @dev Settles the ended intervals of an active schedule that can be settled now (all of
    /// them, or for odd `oneSeed` only the first), preferring a schedule that has some; for
    /// `oneSeed % 4` < 2 it first moves time to the end of the first unsettled interval if that
    /// interval is under way.
    function settle(uint256 marketSeed, uint256 idSeed, uint256 oneSeed) external {
        ScheduledDelivery m = _market(marketSeed);
        uint256 id = _find(m, idSeed, Kind.Settleable);
        if (id == 0) id = _find(m, idSeed, Kind.Active);
        if (id == 0) return;
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        for (uint64 t = s.firstInterval; t <= s.lastInterval; t++) {
            if (m.intervalState(id, t) == SETTLED) continue;
            if (oneSeed % 4 < 2 && block.timestamp >= _startOf(t) && block.timestamp < _startOf(t + 1)) {
                vm.warp(_startOf(t + 1) + (idSeed % 300));
            }
            break;
        }
        uint64[] memory intervals = new uint64[](s.lastInterval - s.firstInterval + 1);
        uint256 count = 0;
        for (uint64 t = s.firstInterval; t <= s.lastInterval; t++) {
            if (!_settleable(m, id, s, t)) continue;
            intervals[count++] = t;
            if (oneSeed % 2 == 1) break;
        }
        if (count == 0) return;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(intervals, count)
        }
        _settle(m, id, intervals);
    }

    /// @dev An actor withdraws part or all of its balance in one market, to itself or another actor.
    function withdraw(uint256 marketSeed, uint256 actorSeed, uint256 toSeed, uint256 amount) external {
        ScheduledDelivery m = _market(marketSeed);
        address actor = _actors[actorSeed % ACTOR_COUNT];
        uint256 available = m.balanceOf(actor);
        if (available == 0) return;
        _withdraw(m, actor, _actors[toSeed % ACTOR_COUNT], _inRange(amount, 1, available));
    }

    /// @dev Changes the penalty new contracts collateralise (existing ones keep theirs); odd values
    /// exercise rounding, zero a seller with nothing at stake.
    function setPenaltyPerKwh(uint256 marketSeed, uint256 penalty) external {
        ScheduledDelivery m = _market(marketSeed);
        uint64 p = uint64(_inRange(penalty, 0, 200_000));
        m.setPenaltyPerKwh(p);
        _penalty[address(m)] = p;
        _calls.penaltyChanges++;
    }

    /// @dev Ends the story: past every deadline, cancels every open proposal, expires every open
    /// option, settles every interval left and withdraws every balance. Afterwards both markets
    /// must hold nothing.
    function settleAndWithdrawEverything() external {
        uint256 end = _deadlineOf(lastWindowInterval);
        if (block.timestamp <= end) vm.warp(end + 1);
        for (uint256 id = 1; id < forwards.nextId(); id++) {
            ScheduledDelivery.Schedule memory s = forwards.getSchedule(id);
            if (s.status == ScheduledDelivery.Status.Proposed) _cancelProposal(id);
            else if (s.status == ScheduledDelivery.Status.Active) _settleRest(forwards, id);
        }
        for (uint256 id = 1; id < options.nextId(); id++) {
            ScheduledDelivery.Schedule memory s = options.getSchedule(id);
            if (s.status == ScheduledDelivery.Status.Proposed) _expire(id, _actors[id % ACTOR_COUNT]);
            else if (s.status == ScheduledDelivery.Status.Active) _settleRest(options, id);
        }
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            _withdrawAll(forwards, _actors[i]);
            _withdrawAll(options, _actors[i]);
        }
    }

    // --------------------------------------------------------------- views

    function calls() external view returns (Calls memory) {
        return _calls;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    /// @dev The model's payouts out of schedule `id` of `market` so far.
    function paid(address market, uint256 id) external view returns (Paid memory) {
        return _paid[market][id];
    }

    // ------------------------------------------------------------ internal

    function _market(uint256 seed) internal view returns (ScheduledDelivery) {
        return seed % 2 == 0 ? ScheduledDelivery(forwards) : ScheduledDelivery(options);
    }

    /// @dev A window of 1 + `lengthSeed % 4` intervals starting `startSeed % 4` intervals after
    /// the first interval whose gate is still open.
    function _window(uint256 startSeed, uint256 lengthSeed) internal returns (uint64 first, uint64 last) {
        first = uint64((block.timestamp + GATE_CLOSURE_SECONDS) / INTERVAL_SECONDS + 1 + (startSeed % 4));
        last = first + uint64(lengthSeed % 4);
        if (last > lastWindowInterval) lastWindowInterval = last;
    }

    /// @dev Fixed at `price` for even `seed`; otherwise `price` at an index reference of
    /// uint8(seed >> 40) % 41 − 20, a slope of uint16(seed >> 24) % 10001 − 5000 per index unit,
    /// floor and cap uint8(seed >> 8) % 101 % below and uint8(seed >> 16) % 101 % above it,
    /// following INDEX_A when bit 1 of `seed` is clear, else INDEX_B.
    function _pricing(uint256 price, uint256 seed) internal pure returns (Pricing memory p) {
        uint96 base = uint96(_inRange(price, 1, MAX_PRICE));
        if (seed % 2 == 0) return Pricing(base, 0, 0, base, base, bytes32(0));
        p.basePrice = base;
        p.slope = int96(int256(uint256(uint16(seed >> 24) % 10_001)) - 5_000);
        p.referenceValue = int128(int256(uint256(uint8(seed >> 40) % 41)) - 20);
        p.floor = uint96(base - (uint256(base) * (uint8(seed >> 8) % 101)) / 100);
        p.cap = uint96(base + (uint256(base) * (uint8(seed >> 16) % 101)) / 100);
        p.indexId = (seed >> 1) % 2 == 0 ? INDEX_A : INDEX_B;
    }

    /// @dev The margins a schedule just proposed, written, accepted or exercised must hold: the
    /// buyer every Wh at the cap, the seller the penalty (the market's when `created`) on every Wh,
    /// both rounded up.
    function _checkMargins(ScheduledDelivery m, uint256 id, bool created) internal view {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        uint256 totalWh = uint256(s.lastInterval - s.firstInterval + 1) * s.whPerInterval;
        if (created) assertEq(s.penaltyPerKwh, _penalty[address(m)], "schedule penalty is the market's");
        uint256 sellerMargin = (totalWh * s.penaltyPerKwh + 999) / 1000;
        uint256 buyerMargin = (totalWh * s.pricing.cap + 999) / 1000;
        assertEq(s.sellerMargin, s.seller == address(0) ? 0 : sellerMargin, "seller margin");
        assertEq(s.buyerMargin, s.buyer == address(0) ? 0 : buyerMargin, "buyer margin");
    }

    function _find(ScheduledDelivery m, uint256 seed, Kind kind) internal view returns (uint256) {
        uint256 n = m.nextId() - 1;
        if (n == 0) return 0;
        for (uint256 j = 0; j < n; j++) {
            uint256 id = 1 + (((seed % n) + j) % n);
            if (_matches(m, id, kind)) return id;
        }
        return 0;
    }

    function _matches(ScheduledDelivery m, uint256 id, Kind kind) internal view returns (bool) {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        if (kind == Kind.Active) return s.status == ScheduledDelivery.Status.Active;
        if (kind == Kind.Committable) return _committableCount(m, id, s) != 0;
        if (kind == Kind.Settleable) {
            if (s.status != ScheduledDelivery.Status.Active) return false;
            for (uint64 t = s.firstInterval; t <= s.lastInterval; t++) {
                if (_settleable(m, id, s, t)) return true;
            }
            return false;
        }
        if (kind == Kind.Indexed) {
            return s.status != ScheduledDelivery.Status.Closed && s.pricing.indexId != bytes32(0);
        }
        if (s.status != ScheduledDelivery.Status.Proposed) return false;
        if (kind == Kind.Proposed) return true;
        if (kind == Kind.Acceptable) return block.timestamp < _gateClosure(s.firstInterval);
        if (kind == Kind.Stale) return block.timestamp >= _gateClosure(s.firstInterval);
        OptionMarket.Option memory o = options.getOption(id);
        bool open = block.timestamp < o.exerciseDeadline;
        if (kind == Kind.Buyable) return open && o.holder == address(0);
        if (kind == Kind.Exercisable) return open && o.holder != address(0);
        if (kind == Kind.Cancellable) return o.holder == address(0);
        if (kind == Kind.Unsold) return !open && o.holder == address(0);
        return !open; // Kind.Expirable
    }

    /// @dev How many intervals of active schedule `id` have neither started nor been committed.
    function _committableCount(
        ScheduledDelivery m,
        uint256 id,
        ScheduledDelivery.Schedule memory s
    ) internal view returns (uint256 count) {
        if (s.status != ScheduledDelivery.Status.Active) return 0;
        for (uint64 t = _firstUnstarted(s.firstInterval); t <= s.lastInterval; t++) {
            if (m.intervalState(id, t) == 0) count++;
        }
    }

    /// @dev The first committable interval of schedule `id` for even `seed`, else the
    /// (`seed / 2` mod count)-th.
    function _committableInterval(
        ScheduledDelivery m,
        uint256 id,
        uint256 seed
    ) internal view returns (uint64 t) {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        uint256 k = seed % 2 == 0 ? 0 : (seed / 2) % _committableCount(m, id, s);
        for (t = _firstUnstarted(s.firstInterval); m.intervalState(id, t) != 0 || k != 0; t++) {
            if (m.intervalState(id, t) == 0) k--;
        }
    }

    /// @dev Whether schedule `id` is active with interval `t` in its window and still to commit.
    function _owes(ScheduledDelivery m, uint256 id, uint64 t) internal view returns (bool) {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        return
            s.status == ScheduledDelivery.Status.Active &&
            s.firstInterval <= t &&
            t <= s.lastInterval &&
            m.intervalState(id, t) == 0;
    }

    function _firstUnstarted(uint64 from) internal view returns (uint64) {
        uint64 next = uint64(block.timestamp / INTERVAL_SECONDS + 1);
        return from > next ? from : next;
    }

    /// @dev Whether interval `t` of active schedule `id` can be settled now: ended and unsettled,
    /// and either uncommitted (void), past its deadline, or with its reading (and, for a formula
    /// price, an index value posted before the deadline) in.
    function _settleable(
        ScheduledDelivery m,
        uint256 id,
        ScheduledDelivery.Schedule memory s,
        uint64 t
    ) internal view returns (bool) {
        if (block.timestamp < _startOf(t + 1)) return false;
        uint8 state = m.intervalState(id, t);
        if (state == SETTLED) return false;
        if (state == 0 || block.timestamp >= _deadlineOf(t)) return true;
        (bool recorded, , , ) = ledger.delivery(s.sellerMeter, t);
        if (!recorded) return false;
        if (s.pricing.indexId == bytes32(0)) return true;
        (bool timely, ) = _indexPrice(s.pricing, t);
        return timely;
    }

    /// @dev Settles `intervals` of schedule `id`, crediting the model with what each pays.
    function _settle(ScheduledDelivery m, uint256 id, uint64[] memory intervals) internal {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        Paid storage p = _paid[address(m)][id];
        for (uint256 k = 0; k < intervals.length; k++) {
            if (m.intervalState(id, intervals[k]) == 0) {
                _calls.intervalsVoided++;
                continue;
            }
            (uint256 toSeller, uint256 toBuyer, bool short) = _expectedPayout(s, intervals[k]);
            if (short) p.shortfall = true;
            p.toSeller += toSeller;
            p.toBuyer += toBuyer;
            expectedBalance[address(m)][s.seller] += toSeller;
            expectedBalance[address(m)][s.buyer] += toBuyer;
        }
        m.settleDeliveries(id, intervals);
        _calls.intervalsSettled += intervals.length;
        if (uint256(s.settledIntervals) + intervals.length == s.lastInterval - s.firstInterval + 1) {
            // Complete: what the model did not pay out of each margin goes back to its party.
            expectedBalance[address(m)][s.seller] += s.sellerMargin - p.toBuyer;
            expectedBalance[address(m)][s.buyer] += s.buyerMargin - p.toSeller;
            _calls.schedulesCompleted++;
        }
    }

    /// @dev The model of one committed interval's settlement: the seller is paid its share of the
    /// meter's export (all of the volume if the export covers every obligation, pro rata otherwise,
    /// nothing without a reading) at the interval's price, and pays the penalty on the rest.
    function _expectedPayout(
        ScheduledDelivery.Schedule memory s,
        uint64 t
    ) internal returns (uint256 toSeller, uint256 toBuyer, bool short) {
        (bool recorded, uint64 exported, , uint64 obligation) = ledger.delivery(s.sellerMeter, t);
        if (!recorded) _calls.missingReadingsSettled++;
        uint256 delivered = s.whPerInterval;
        if (exported < obligation) {
            delivered = (uint256(s.whPerInterval) * exported) / obligation;
            short = true;
            _calls.shortIntervalsSettled++;
        }
        uint256 price = s.pricing.basePrice;
        if (s.pricing.indexId != bytes32(0)) {
            (bool timely, uint256 indexPrice) = _indexPrice(s.pricing, t);
            if (timely) price = indexPrice;
            else _calls.basePriceFallbacks++;
        }
        toSeller = (delivered * price) / 1000;
        toBuyer = ((s.whPerInterval - delivered) * s.penaltyPerKwh) / 1000;
    }

    /// @dev Whether interval `t`'s index value was posted before its deadline, and the formula
    /// price it gives, clamped to [floor, cap].
    function _indexPrice(Pricing memory p, uint64 t) internal view returns (bool timely, uint256 price) {
        (bool posted, int128 value, uint64 postedAt) = oracle.valueAt(p.indexId, t);
        if (!posted || postedAt >= _deadlineOf(t)) return (false, 0);
        int256 raw =
            int256(uint256(p.basePrice)) + int256(p.slope) * (int256(value) - int256(p.referenceValue));
        if (raw < int256(uint256(p.floor))) raw = int256(uint256(p.floor));
        if (raw > int256(uint256(p.cap))) raw = int256(uint256(p.cap));
        return (true, uint256(raw));
    }

    function _withdrawAll(ScheduledDelivery m, address actor) internal {
        uint256 available = m.balanceOf(actor);
        if (available != 0) _withdraw(m, actor, actor, available);
    }

    function _withdraw(ScheduledDelivery m, address actor, address to, uint256 amount) internal {
        assertLe(amount, expectedBalance[address(m)][actor], "withdrawal within the modelled balance");
        vm.prank(actor);
        m.withdraw(to, amount);
        expectedBalance[address(m)][actor] -= amount;
        _calls.withdrawals++;
    }

    /// @dev Settles every interval of schedule `id` left, once all are past their deadlines.
    function _settleRest(ScheduledDelivery m, uint256 id) internal {
        ScheduledDelivery.Schedule memory s = m.getSchedule(id);
        uint64[] memory intervals = new uint64[](s.lastInterval - s.firstInterval + 1 - s.settledIntervals);
        uint256 count = 0;
        for (uint64 t = s.firstInterval; t <= s.lastInterval; t++) {
            if (m.intervalState(id, t) != SETTLED) intervals[count++] = t;
        }
        _settle(m, id, intervals);
    }

    /// @dev Commits interval `t` of every active schedule of `m` still owing it, if any.
    function _commitAllOwing(ScheduledDelivery m, uint64 t, address caller) internal {
        uint256[] memory ids = new uint256[](m.nextId() - 1);
        uint256 count = 0;
        for (uint256 id = 1; id < m.nextId(); id++) {
            if (_owes(m, id, t)) ids[count++] = id;
        }
        if (count == 0) return;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(ids, count)
        }
        _commit(m, ids, t, caller);
    }

    function _commit(ScheduledDelivery m, uint256[] memory ids, uint64 t, address caller) internal {
        vm.prank(caller);
        m.commitDeliveries(ids, t);
        _calls.intervalsCommitted += ids.length;
    }

    function _cancelProposal(uint256 id) internal {
        ScheduledDelivery.Schedule memory s = forwards.getSchedule(id);
        address proposer = s.seller == address(0) ? s.buyer : s.seller;
        vm.prank(proposer);
        forwards.cancelProposal(id);
        expectedBalance[address(forwards)][proposer] += s.sellerMargin + s.buyerMargin;
        _calls.proposalsCancelled++;
    }

    function _expire(uint256 id, address caller) internal {
        ScheduledDelivery.Schedule memory s = options.getSchedule(id);
        vm.prank(caller);
        options.expire(id);
        expectedBalance[address(options)][s.seller] += s.sellerMargin;
        _calls.optionsExpired++;
    }

    function _recordReadings(uint256 i, uint256 intervalSeed, uint256 mode, uint256 amount) internal {
        (uint64 from, uint64 count) = _readingRange(i, intervalSeed);
        if (count == 0) return;
        MeterReading[] memory readings = new MeterReading[](count);
        bytes[] memory signatures = new bytes[](count);
        for (uint64 k = 0; k < count; k++) {
            // The target interval's export comes from `amount` as given, the others' from its hash.
            uint256 seed = k + 1 == count ? amount : uint256(keccak256(abi.encode(amount, k)));
            (readings[k], signatures[k]) = _nextReading(i, from + k, mode, seed);
        }
        if (count == 1) ledger.recordReading(readings[0], signatures[0]);
        else ledger.recordReadings(readings, signatures);
        _calls.readingsRecorded += count;
    }

    /// @dev The intervals meter i reports on next, in order: from its next one, skipping only
    /// intervals whose readings deadline has passed, up to one of the last two ended intervals.
    function _readingRange(
        uint256 i,
        uint256 intervalSeed
    ) internal view returns (uint64 from, uint64 count) {
        MeterTrack storage m = _track[_meters[i]];
        uint64 current = uint64(block.timestamp / INTERVAL_SECONDS);
        // The first interval whose deadline, SETTLEMENT_DELAY_SECONDS after its end, is still ahead.
        uint64 firstLive = uint64((block.timestamp - SETTLEMENT_DELAY_SECONDS) / INTERVAL_SECONDS);
        from = m.sequence == 0 ? _firstInterval : m.lastInterval + 1;
        if (from < firstLive) from = firstLive;
        if (from >= current) return (0, 0);
        uint64 target = current - 1 - uint64(intervalSeed % 2);
        if (target < from) target = from;
        count = target - from + 1;
        if (count > MAX_READINGS) count = MAX_READINGS;
    }

    /// @dev Meter i's signed reading for `interval`, continuing its registers, which it advances.
    function _nextReading(
        uint256 i,
        uint64 interval,
        uint256 mode,
        uint256 seed
    ) internal returns (MeterReading memory reading, bytes memory signature) {
        address meter = _meters[i];
        MeterTrack storage m = _track[meter];
        (, , , uint64 obligation) = ledger.delivery(meter, interval);
        uint64 exported = _export(mode, obligation, seed);
        reading = MeterReading({
            meter: meter,
            interval: interval,
            sequence: m.sequence + 1,
            importStartWh: m.importWh,
            importEndWh: m.importWh + uint64(seed % 1_000),
            exportStartWh: m.exportWh,
            exportEndWh: m.exportWh + exported,
            timestamp: uint64(block.timestamp)
        });
        signature = _signReading(ledger, METER_KEY + i, reading);
        m.lastInterval = interval;
        m.sequence = reading.sequence;
        m.importWh = reading.importEndWh;
        m.exportWh = reading.exportEndWh;
        if (exported < obligation) _calls.shortReadings++;
    }

    /// @dev Mode 0: exactly the obligation; 1: more; 2: less (pro-rata shortfall); 3: nothing.
    function _export(uint256 mode, uint64 obligation, uint256 amount) internal pure returns (uint64) {
        mode %= 4;
        if (mode == 0) return obligation;
        if (mode == 1) return obligation + uint64(amount % 5_000);
        if (mode == 2) return obligation == 0 ? 0 : uint64(amount % obligation);
        return 0;
    }

    function _actorIndex(address actor) internal view returns (uint256 i) {
        while (_actors[i] != actor) i++;
    }

    function _meterOf(address actor) internal view returns (address) {
        return _meters[_actorIndex(actor)];
    }

    function _startOf(uint64 interval) internal pure returns (uint256) {
        return uint256(interval) * INTERVAL_SECONDS;
    }

    function _gateClosure(uint64 interval) internal pure returns (uint256) {
        return _startOf(interval) - GATE_CLOSURE_SECONDS;
    }

    function _deadlineOf(uint64 interval) internal pure returns (uint256) {
        return _startOf(interval + 1) + SETTLEMENT_DELAY_SECONDS;
    }

    /// @dev Like `bound`, but keeps a value already in range as it is (for readable fixed sequences).
    function _inRange(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return x >= min && x <= max ? x : bound(x, min, max);
    }
}

contract ScheduledDeliveryInvariantTest is MarketFixture {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev The oracle account the handler posts as (ScheduledDeliveryHandler.POSTER).
    address internal constant POSTER = address(uint160(0x0AC1E));

    TestDollar internal token;
    DeliveryLedger internal ledger;
    Reputation internal reputation;
    EnergyMarket internal spot;
    IndexOracle internal oracle;
    ForwardMarket internal forwards;
    OptionMarket internal options;
    ScheduledDeliveryHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        token = new TestDollar(address(this), type(uint256).max, type(uint256).max);
        MeterRegistry registry;
        (registry, ledger, reputation, spot) = _deployCore(token, address(this));
        (oracle, forwards, options) = _deployDeliveryMarkets(token, ledger, reputation);
        oracle.grantRole(oracle.ORACLE_ROLE(), POSTER);
        handler = new ScheduledDeliveryHandler(token, registry, ledger, oracle, forwards, options);
        forwards.grantRole(forwards.DEFAULT_ADMIN_ROLE(), address(handler));
        options.grantRole(options.DEFAULT_ADMIN_ROLE(), address(handler));
    }

    /// @dev Read by the invariant runner: only the handler is called at random.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Read by the invariant runner: only the handler's actions, not its getters.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = ScheduledDeliveryHandler.proposeForward.selector;
        selectors[1] = ScheduledDeliveryHandler.acceptForward.selector;
        selectors[2] = ScheduledDeliveryHandler.writeOption.selector;
        selectors[3] = ScheduledDeliveryHandler.buyOption.selector;
        selectors[4] = ScheduledDeliveryHandler.exerciseOption.selector;
        selectors[5] = ScheduledDeliveryHandler.cancel.selector;
        selectors[6] = ScheduledDeliveryHandler.expireOption.selector;
        selectors[7] = ScheduledDeliveryHandler.commitInterval.selector;
        selectors[8] = ScheduledDeliveryHandler.postIndex.selector;
        selectors[9] = ScheduledDeliveryHandler.warp.selector;
        selectors[10] = ScheduledDeliveryHandler.recordReading.selector;
        selectors[11] = ScheduledDeliveryHandler.settle.selector;
        selectors[12] = ScheduledDeliveryHandler.withdraw.selector;
        selectors[13] = ScheduledDeliveryHandler.setPenaltyPerKwh.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /// @dev (a) Each market holds exactly its actors' balances plus what is left of every margin,
    /// and each balance is what the handler's model of the settlements says.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_marketsHoldBalancesAndOpenMargins() public view {
        _checkHoldings(forwards);
        _checkHoldings(options);
    }

    /// @dev (b) No schedule pays out more than its margins or settles more intervals than its
    /// window has; closed ones hold nothing; what each paid matches the model.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_schedulesWithinTheirMargins() public view {
        _checkSchedules(forwards);
        _checkSchedules(options);
    }

    /// @dev (c) Every token is with an actor or one of the markets; and every completed schedule of
    /// which something was committed counted once for each party in the reputation.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_tokensConservedAndOutcomesRecorded() public view {
        uint256 held =
            token.balanceOf(address(forwards)) +
                token.balanceOf(address(options)) +
                token.balanceOf(address(spot));
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) held += token.balanceOf(actors[i]);
        assertEq(held, token.totalSupply(), "actors + markets hold the whole supply");

        (uint256 completed, uint256 shortfalls) = _countCompleted(forwards);
        (uint256 completedOptions, uint256 optionShortfalls) = _countCompleted(options);
        completed += completedOptions;
        shortfalls += optionShortfalls;
        uint256 trades = 0;
        uint256 judged = 0;
        uint256 fellShort = 0;
        for (uint256 i = 0; i < actors.length; i++) {
            (uint64 t, uint64 full, uint64 short) = reputation.recordOf(actors[i]);
            trades += t;
            judged += uint256(full) + short;
            fellShort += short;
        }
        assertEq(trades, 2 * completed, "one trade per party of each completed schedule");
        assertEq(judged, completed, "one judgement per completed schedule");
        assertEq(fellShort, shortfalls, "one shortfall per completed schedule short of delivery");
    }

    /// @dev After every run: when every proposal is cancelled, every option expired, every interval
    /// settled and every balance withdrawn, every schedule is closed and neither market holds a token.
    function afterInvariant() public {
        handler.settleAndWithdrawEverything();
        for (uint256 k = 0; k < 2; k++) {
            ScheduledDelivery m = k == 0 ? ScheduledDelivery(forwards) : ScheduledDelivery(options);
            for (uint256 id = 1; id < m.nextId(); id++) {
                assertTrue(
                    m.getSchedule(id).status == ScheduledDelivery.Status.Closed,
                    "every schedule closed in the end"
                );
            }
            assertEq(token.balanceOf(address(m)), 0, "the market keeps nothing");
        }
        invariant_marketsHoldBalancesAndOpenMargins();
        invariant_schedulesWithinTheirMargins();
        invariant_tokensConservedAndOutcomesRecorded();
    }

    /// @dev A fixed sequence through one whole index-priced forward and one whole exercised option,
    /// proving the handler reaches commitment, readings, settlement on and after the deadline,
    /// completion and withdrawal (random sequences are summarised by the counters).
    function test_handler_drivesAForwardAndAnOptionThroughSettlement() public {
        // Now: interval T - 2 (500 s to its end); T - 1's gate is open, so windows start at T - 1 + ahead.
        uint64 t = uint64(block.timestamp / INTERVAL_SECONDS) + 2;
        _openTheForwardAndTheOption(t);

        // Commit T and T + 1 of the forward and T of the option; INDEX_A for T is 30.
        handler.commitInterval(0, 1, 0, 0);
        handler.commitInterval(0, 1, 0, 0);
        handler.commitInterval(1, 1, 0, 1);
        handler.postIndex(1, 0, 30);
        (, , , uint64 obligation) = ledger.delivery(forwards.getSchedule(1).sellerMeter, t);
        assertEq(obligation, 2_000, "T committed for the forward");
        assertEq(forwards.intervalState(1, t + 1), 1, "T + 1 committed");

        // After T: meter 0 exports exactly its 2000 Wh, meter 2 1000 Wh more than its 3000 Wh.
        handler.warp(5, 0);
        handler.warp(5, 0);
        handler.warp(5, 0);
        handler.recordReading(0, 0, 0, 0);
        handler.recordReading(2, 0, 1, 1_000);
        handler.settle(0, 1, 0);
        handler.settle(1, 1, 0);
        assertEq(forwards.getSchedule(1).settledIntervals, 1, "forward: T settled");
        assertEq(forwards.getSchedule(1).buyerMarginOut, 260_000, "T: 2000 Wh at 0.13");
        assertTrue(options.getSchedule(1).status == ScheduledDelivery.Status.Closed, "option completed");

        // After T + 1: meter 0 exports only 500 Wh; with no index value the forward settles at the
        // base price once the deadline has passed.
        handler.warp(5, 0);
        handler.recordReading(0, 0, 2, 500);
        handler.settle(0, 1, 1);
        assertEq(forwards.getSchedule(1).settledIntervals, 1, "T + 1 waits for the index or the deadline");
        handler.warp(7, 0);
        handler.settle(0, 1, 1);
        handler.withdraw(0, 1, 1, 65_000);

        _checkTheWholeRound();
        invariant_marketsHoldBalancesAndOpenMargins();
        invariant_schedulesWithinTheirMargins();
        invariant_tokensConservedAndOutcomesRecorded();
        afterInvariant();
    }

    /// @dev Forward 1 over T and T + 1 and option 1 over T, exercised.
    function _openTheForwardAndTheOption(uint64 t) internal {
        address[] memory actors = handler.actors();
        // Forward 1: actor 0 sells 2000 Wh in each of T and T + 1 to actor 1, at 0.10 + 0.001 per
        // index unit of INDEX_A (reference 0), between 0.05 and 0.20.
        uint256 pricingSeed = 1 | (50 << 8) | (100 << 16) | (6_000 << 24) | (20 << 40);
        handler.proposeForward(0, 1, 1, 1, 2_000, 100_000, pricingSeed);
        handler.acceptForward(1, 0);
        ScheduledDelivery.Schedule memory f = forwards.getSchedule(1);
        assertEq(f.firstInterval, t, "forward starts at T");
        assertEq(f.lastInterval, t + 1, "forward ends at T + 1");
        assertEq(f.buyer, actors[1], "actor 1 buys");
        assertEq(f.pricing.indexId, keccak256("temperature"), "follows INDEX_A");
        assertEq(f.pricing.cap, 200_000, "cap");
        assertEq(f.sellerMargin, 200_000, "seller margin: 4000 Wh at the 0.05 penalty");
        assertEq(f.buyerMargin, 800_000, "buyer margin: 4000 Wh at the 0.20 cap");

        // Option 1: actor 2 writes 3000 Wh in T at 0.15 for a 0.01 premium, exercisable for 100 s;
        // actor 3 buys and exercises it.
        handler.writeOption(2, 1, 0, 3_000, 150_000, 10_000, 99);
        handler.buyOption(1, 0);
        handler.exerciseOption(1);
        ScheduledDelivery.Schedule memory o = options.getSchedule(1);
        assertEq(o.firstInterval, t, "option in T");
        assertEq(o.buyer, actors[3], "actor 3 holds and exercised");
        assertEq(o.sellerMargin, 150_000, "collateral: 3000 Wh at the 0.05 penalty");
        assertEq(o.buyerMargin, 450_000, "escrow: 3000 Wh at the 0.15 strike");
    }

    function _checkTheWholeRound() internal view {
        ScheduledDeliveryHandler.Calls memory c = handler.calls();
        assertEq(c.forwardsProposed, 1, "proposed");
        assertEq(c.indexForwardsProposed, 1, "index-priced");
        assertEq(c.forwardsAccepted, 1, "accepted");
        assertEq(c.optionsWritten, 1, "written");
        assertEq(c.optionsBought, 1, "bought");
        assertEq(c.optionsExercised, 1, "exercised");
        assertEq(c.intervalsCommitted, 3, "committed");
        assertEq(c.indexValuesPosted, 1, "index values");
        assertEq(c.readingsRecorded, 5, "readings: meter 0 from T - 1 to T + 1, meter 2 T - 1 and T");
        assertEq(c.shortReadings, 1, "short readings");
        assertEq(c.intervalsSettled, 3, "intervals settled");
        assertEq(c.intervalsVoided, 0, "voided");
        assertEq(c.shortIntervalsSettled, 1, "short intervals");
        assertEq(c.missingReadingsSettled, 0, "missing readings");
        assertEq(c.basePriceFallbacks, 1, "base price fallbacks");
        assertEq(c.schedulesCompleted, 2, "completed");
        assertEq(c.withdrawals, 1, "withdrawals");
        _checkTheWholeRoundsBalances();
    }

    function _checkTheWholeRoundsBalances() internal view {
        address[] memory actors = handler.actors();
        // Forward, T + 1: 500 of 2000 Wh at 0.10 paid, 1500 Wh at 0.05 penalised. Seller: 260_000 +
        // 50_000 + what is left of its margin, 200_000 − 75_000; buyer: 75_000 + 800_000 − 310_000.
        assertEq(forwards.balanceOf(actors[0]), 435_000, "seller's balance");
        assertEq(forwards.balanceOf(actors[1]), 565_000 - 65_000, "buyer's balance after withdrawing 65_000");
        // Option: writer gets the premium, 3000 Wh at 0.15 and its whole collateral back.
        assertEq(options.balanceOf(actors[2]), 10_000 + 450_000 + 150_000, "writer's balance");
        assertEq(options.balanceOf(actors[3]), 0, "holder's balance");
        (, , uint64 short0) = reputation.recordOf(actors[0]);
        (uint64 trades1, , ) = reputation.recordOf(actors[1]);
        (, uint64 full2, ) = reputation.recordOf(actors[2]);
        (uint64 trades3, , ) = reputation.recordOf(actors[3]);
        assertEq(short0, 1, "forward seller fell short");
        assertEq(trades1, 1, "forward buyer traded");
        assertEq(full2, 1, "option writer delivered");
        assertEq(trades3, 1, "option holder traded");
    }

    function _checkHoldings(ScheduledDelivery m) internal view {
        uint256 owed = 0;
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) {
            uint256 balance = m.balanceOf(actors[i]);
            assertEq(balance, handler.expectedBalance(address(m), actors[i]), "balance as modelled");
            owed += balance;
        }
        for (uint256 id = 1; id < m.nextId(); id++) {
            ScheduledDelivery.Schedule memory s = m.getSchedule(id);
            owed += s.sellerMargin - s.sellerMarginOut + s.buyerMargin - s.buyerMarginOut;
        }
        assertEq(token.balanceOf(address(m)), owed, "market tokens == balances + unreleased margins");
    }

    function _checkSchedules(ScheduledDelivery m) internal view {
        for (uint256 id = 1; id < m.nextId(); id++) {
            ScheduledDelivery.Schedule memory s = m.getSchedule(id);
            assertLe(s.sellerMarginOut, s.sellerMargin, "sellerMarginOut <= sellerMargin");
            assertLe(s.buyerMarginOut, s.buyerMargin, "buyerMarginOut <= buyerMargin");
            assertLe(s.settledIntervals, s.lastInterval - s.firstInterval + 1, "settled <= window");
            if (s.status == ScheduledDelivery.Status.Closed) {
                assertEq(s.sellerMarginOut, s.sellerMargin, "a closed schedule released the seller's margin");
                assertEq(s.buyerMarginOut, s.buyerMargin, "a closed schedule released the buyer's margin");
            } else {
                ScheduledDeliveryHandler.Paid memory p = handler.paid(address(m), id);
                assertEq(s.sellerMarginOut, p.toBuyer, "penalties paid as modelled");
                assertEq(s.buyerMarginOut, p.toSeller, "deliveries paid as modelled");
            }
            assertTrue(s.shortfall == handler.paid(address(m), id).shortfall, "shortfall as modelled");
        }
    }

    /// @dev Closed schedules of which something was committed (the ones settlement completed),
    /// and how many of them the model says fell short.
    function _countCompleted(
        ScheduledDelivery m
    ) internal view returns (uint256 completed, uint256 shortfalls) {
        for (uint256 id = 1; id < m.nextId(); id++) {
            ScheduledDelivery.Schedule memory s = m.getSchedule(id);
            if (s.status != ScheduledDelivery.Status.Closed || !s.anyCommitted) continue;
            completed++;
            if (handler.paid(address(m), id).shortfall) shortfalls++;
        }
    }
}
