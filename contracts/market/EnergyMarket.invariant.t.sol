// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DeliveryLedger} from "../readings/DeliveryLedger.sol";
import {MeterReading} from "../readings/MeterReading.sol";
import {MeterRegistry} from "../registry/MeterRegistry.sol";
import {MarketFixture} from "../testing/MarketFixture.sol";
import {TestDollar} from "../token/TestDollar.sol";
import {EnergyMarket} from "./EnergyMarket.sol";
import {OrderBook} from "./OrderBook.sol";
import {Reputation} from "./Reputation.sol";

/// @dev Drives the real contract set through whole trading rounds: four actors, each owning one
/// active meter, place and cancel orders for upcoming intervals (half of them through a delegate); time passes through gate closure,
/// the start and the end of intervals; the handler (the matcher) submits valid clearings, the
/// meters' signed readings come in with exports above or below their obligations, batches settle,
/// unfilled orders are released and balances withdrawn. Every action only makes calls that must
/// succeed (it skips when their preconditions do not hold), so any revert is a finding.
contract EnergyMarketHandler is MarketFixture {
    uint256 internal constant ACTOR_COUNT = 4;
    uint256 internal constant FUNDS = 1e15;
    uint256 internal constant MAX_ORDER_WH = 20_000;
    uint256 internal constant MAX_PRICE = 400_000;
    uint256 internal constant MAX_FILLS = 12;
    uint64 internal constant MAX_READINGS = 8;
    /// @dev The first meter key; meter i has key METER_KEY + i.
    uint256 internal constant METER_KEY = 0x3E7E4;

    struct MeterTrack {
        uint64 lastInterval;
        uint64 sequence;
        uint64 importWh;
        uint64 exportWh;
    }

    /// @dev Call summary: how far a random sequence got.
    struct Calls {
        uint256 offersPlaced;
        uint256 bidsPlaced;
        uint256 ordersCancelled;
        uint256 clearingBatches;
        uint256 fillsSubmitted;
        uint256 readingsRecorded;
        uint256 shortReadings;
        uint256 batchesSettled;
        uint256 fillsSettled;
        uint256 shortfallFillsSettled;
        uint256 ordersReleased;
        uint256 withdrawals;
        uint256 penaltyChanges;
    }

    struct PendingBatch {
        uint64 interval;
        uint32 batch;
    }

    TestDollar public immutable token;
    DeliveryLedger public immutable ledger;
    EnergyMarket public immutable market;

    address[] internal _actors;
    address[] internal _agents;
    address[] internal _meters;
    mapping(address meter => MeterTrack) internal _track;
    mapping(uint64 interval => uint256[] orderIds) internal _ordersOf;
    mapping(uint64 interval => mapping(uint32 batch => EnergyMarket.Fill[])) internal _fills;
    PendingBatch[] internal _pending;
    uint64 public lastOrderInterval;
    /// @dev The first interval the meters, activated at deployment, can report on.
    uint64 internal immutable _firstInterval;

    Calls internal _calls;

    constructor(TestDollar token_, MeterRegistry registry, DeliveryLedger ledger_, EnergyMarket market_) {
        token = token_;
        ledger = ledger_;
        market = market_;
        _firstInterval = uint64((block.timestamp + INTERVAL_SECONDS - 1) / INTERVAL_SECONDS);
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            address actor = address(uint160(0xAC7000 + i));
            _actors.push(actor);
            _meters.push(_activeMeter(registry, actor, METER_KEY + i));
            // The actor's meter agent may trade for it without limits (deposits still come from it).
            address agent = address(uint160(0xA6E000 + i));
            _agents.push(agent);
            vm.startPrank(actor);
            token_.claim(FUNDS);
            token_.approve(address(market_), type(uint256).max);
            market_.authorizeDelegate(agent, type(uint48).max, 0, type(uint96).max, type(uint64).max);
            vm.stopPrank();
        }
    }

    // -------------------------------------------------------------- actions

    function placeOffer(uint256 actorSeed, uint256 intervalSeed, uint256 wh, uint256 minPrice) external {
        uint256 i = actorSeed % ACTOR_COUNT;
        uint64 interval = _openInterval(intervalSeed);
        wh = _inRange(wh, 1, MAX_ORDER_WH);
        minPrice = _inRange(minPrice, 0, (MAX_PRICE * 3) / 4);
        uint256 orderId;
        if (_viaAgent(actorSeed)) {
            vm.prank(_agents[i]);
            orderId = market.placeOfferFor(_actors[i], _meters[i], interval, uint48(wh), uint96(minPrice));
        } else {
            vm.prank(_actors[i]);
            orderId = market.placeOffer(_meters[i], interval, uint48(wh), uint96(minPrice));
        }
        _ordersOf[interval].push(orderId);
        _calls.offersPlaced++;
    }

    function placeBid(uint256 actorSeed, uint256 intervalSeed, uint256 wh, uint256 maxPrice) external {
        uint256 i = actorSeed % ACTOR_COUNT;
        uint64 interval = _openInterval(intervalSeed);
        wh = _inRange(wh, 1, MAX_ORDER_WH);
        maxPrice = _inRange(maxPrice, MAX_PRICE / 4, MAX_PRICE);
        uint256 orderId;
        if (_viaAgent(actorSeed)) {
            vm.prank(_agents[i]);
            orderId = market.placeBidFor(_actors[i], _meters[i], interval, uint48(wh), uint96(maxPrice));
        } else {
            vm.prank(_actors[i]);
            orderId = market.placeBid(_meters[i], interval, uint48(wh), uint96(maxPrice));
        }
        _ordersOf[interval].push(orderId);
        _calls.bidsPlaced++;
    }

    function cancelOrder(uint256 orderSeed) external {
        uint256 next = market.nextOrderId();
        if (next == 1) return;
        uint256 orderId = 1 + (orderSeed % (next - 1));
        OrderBook.Order memory o = market.getOrder(orderId);
        if (o.closed || block.timestamp >= _startOf(o.interval) - GATE_CLOSURE_SECONDS) return;
        vm.prank(_viaAgent(orderSeed / (next - 1)) ? _agents[_actorIndex(o.owner)] : o.owner);
        market.cancelOrder(orderId);
        _calls.ordersCancelled++;
    }

    /// @dev Moves time forward: a little, into the next clearing window, to just after the end of
    /// a submitted batch's interval, or past its settlement deadline.
    function warp(uint256 mode, uint256 secondsAhead) external {
        uint256 target;
        mode %= 8;
        if (mode < 3) {
            target = block.timestamp + _inRange(secondsAhead, 1, 300);
        } else if (mode < 5) {
            uint256 next = block.timestamp / INTERVAL_SECONDS + 1;
            target = next * INTERVAL_SECONDS - GATE_CLOSURE_SECONDS + (secondsAhead % GATE_CLOSURE_SECONDS);
            if (target <= block.timestamp) target += INTERVAL_SECONDS;
        } else {
            uint256 endsAt = (block.timestamp / INTERVAL_SECONDS + 1) * INTERVAL_SECONDS;
            if (_pending.length != 0)
                endsAt = _startOf(_pending[secondsAhead % _pending.length].interval + 1);
            target = endsAt + (secondsAhead % 300);
            if (mode == 7) target += SETTLEMENT_DELAY_SECONDS;
            if (target <= block.timestamp) target = block.timestamp + _inRange(secondsAhead, 1, 300);
        }
        vm.warp(target);
    }

    /// @dev Submits a batch of the clearing of the interval whose clearing window is open (moving
    /// time into the window of the next interval with orders if none is): the first batch's price is
    /// some open order's limit, and offers (by ascending id) are filled from bids that accept the
    /// price, within both orders' remaining volume and `maxFillWh` per fill.
    function submitClearing(uint256 priceSeed, uint256 maxFillWh, bool isFinal) external {
        uint64 interval = _clearingInterval(maxFillWh);
        if (interval == 0) return;
        EnergyMarket.Clearing memory clearing = market.getClearing(interval);
        if (clearing.finalized || _ordersOf[interval].length == 0) return;
        (OrderBook.Order[] memory orders, uint256[] memory remaining) = _book(interval);
        uint256 price = clearing.batches == 0 ? _somePrice(orders, remaining, priceSeed) : clearing.price;
        if (price == 0) return;
        EnergyMarket.Fill[] memory fills = _match(
            interval,
            orders,
            remaining,
            price,
            _inRange(maxFillWh, 1, MAX_ORDER_WH)
        );
        if (fills.length == 0) return;

        market.submitClearing(interval, uint96(price), fills, isFinal);
        for (uint256 k = 0; k < fills.length; k++) _fills[interval][clearing.batches].push(fills[k]);
        _pending.push(PendingBatch(interval, clearing.batches));
        _calls.clearingBatches++;
        _calls.fillsSubmitted += fills.length;
    }

    /// @dev Records a meter's signed readings, in interval order and continuing its registers, up
    /// to an ended interval (a recent one, or one with a batch waiting). Each export equals, exceeds
    /// or falls short of the interval's obligation, or is zero.
    function recordReading(uint256 actorSeed, uint256 intervalSeed, uint256 mode, uint256 amount) external {
        uint256 i = actorSeed % ACTOR_COUNT;
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

    /// @dev Settles a submitted batch with its fills as submitted: moves time to the end of its
    /// interval if need be, and settles if every seller's reading is in or the deadline has passed.
    function settleBatch(uint256 batchSeed) external {
        if (_pending.length == 0) return;
        uint256 k = batchSeed % _pending.length;
        uint256 endsAt = _startOf(_pending[k].interval + 1);
        if (block.timestamp < endsAt) vm.warp(endsAt + (batchSeed % 300));
        if (!_settleable(_pending[k])) return;
        _settle(k);
    }

    function releaseUnfilled(uint256 orderSeed, uint256 callerSeed) external {
        uint256 next = market.nextOrderId();
        if (next == 1) return;
        uint256[] memory ids = new uint256[](4);
        uint256 count = 0;
        uint256 scan = _min(next - 1, 64);
        for (uint256 j = 0; j < scan && count < ids.length; j++) {
            uint256 orderId = 1 + (((orderSeed % (next - 1)) + j) % (next - 1));
            if (_releasable(orderId)) ids[count++] = orderId;
        }
        if (count == 0) return;
        uint256[] memory releasable = new uint256[](count);
        for (uint256 j = 0; j < count; j++) releasable[j] = ids[j];
        vm.prank(_actors[callerSeed % ACTOR_COUNT]);
        market.releaseUnfilled(releasable);
        _calls.ordersReleased += count;
    }

    function withdraw(uint256 actorSeed, uint256 toSeed, uint256 amount) external {
        address actor = _actors[actorSeed % ACTOR_COUNT];
        uint256 available = market.balanceOf(actor);
        if (available == 0) return;
        amount = _inRange(amount, 1, available);
        vm.prank(actor);
        market.withdraw(_actors[toSeed % ACTOR_COUNT], amount);
        _calls.withdrawals++;
    }

    /// @dev Changes the collateral new offers post; odd values exercise rounding.
    function setPenaltyPerKwh(uint256 penalty) external {
        market.setPenaltyPerKwh(uint64(_inRange(penalty, 0, 200_000)));
        _calls.penaltyChanges++;
    }

    /// @dev Ends the story: past every deadline, settles every batch, releases every unfilled
    /// order and withdraws every balance. Afterwards the market must hold nothing.
    function settleAndWithdrawEverything() external {
        uint256 end = (uint256(lastOrderInterval) + 1) * INTERVAL_SECONDS + SETTLEMENT_DELAY_SECONDS;
        if (block.timestamp <= end) vm.warp(end + 1);
        while (_pending.length != 0) _settle(_pending.length - 1);
        uint256 next = market.nextOrderId();
        for (uint256 orderId = 1; orderId < next; orderId++) {
            if (!_releasable(orderId)) continue;
            uint256[] memory ids = new uint256[](1);
            ids[0] = orderId;
            market.releaseUnfilled(ids);
            _calls.ordersReleased++;
        }
        for (uint256 i = 0; i < ACTOR_COUNT; i++) {
            uint256 available = market.balanceOf(_actors[i]);
            if (available == 0) continue;
            vm.prank(_actors[i]);
            market.withdraw(_actors[i], available);
            _calls.withdrawals++;
        }
    }

    // ---------------------------------------------------------------- views

    function calls() external view returns (Calls memory) {
        return _calls;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function pendingBatches() external view returns (uint256) {
        return _pending.length;
    }

    // ------------------------------------------------------------- internal

    /// @dev An interval whose gate is still open: mostly the first one, else one of the two after it.
    function _openInterval(uint256 seed) internal returns (uint64 interval) {
        uint256 ahead = seed % 8 < 6 ? 0 : (seed % 8) - 5;
        interval = uint64((block.timestamp + GATE_CLOSURE_SECONDS) / INTERVAL_SECONDS + 1 + ahead);
        if (interval > lastOrderInterval) lastOrderInterval = interval;
    }

    function _settleable(PendingBatch memory p) internal view returns (bool) {
        uint256 endsAt = _startOf(p.interval) + INTERVAL_SECONDS;
        if (block.timestamp < endsAt) return false;
        if (block.timestamp >= endsAt + SETTLEMENT_DELAY_SECONDS) return true;
        EnergyMarket.Fill[] storage fills = _fills[p.interval][p.batch];
        for (uint256 j = 0; j < fills.length; j++) {
            (bool recorded, , , ) = ledger.delivery(market.getOrder(fills[j].offerId).meter, p.interval);
            if (!recorded) return false;
        }
        return true;
    }

    function _settle(uint256 k) internal {
        PendingBatch memory p = _pending[k];
        EnergyMarket.Fill[] memory fills = _fills[p.interval][p.batch];
        for (uint256 j = 0; j < fills.length; j++) {
            (, uint64 exported, , uint64 obligation) = ledger.delivery(
                market.getOrder(fills[j].offerId).meter,
                p.interval
            );
            if (exported < obligation) _calls.shortfallFillsSettled++;
        }
        market.settleBatch(p.interval, p.batch, fills);
        _pending[k] = _pending[_pending.length - 1];
        _pending.pop();
        _calls.batchesSettled++;
        _calls.fillsSettled += fills.length;
    }

    function _releasable(uint256 orderId) internal view returns (bool) {
        OrderBook.Order memory o = market.getOrder(orderId);
        return !o.closed && o.filledWh == 0 && block.timestamp >= _startOf(o.interval);
    }

    function _startOf(uint64 interval) internal pure returns (uint256) {
        return uint256(interval) * INTERVAL_SECONDS;
    }

    /// @dev The interval whose clearing window is open; if none is, the next interval with orders,
    /// after moving time into its window; zero if there is none.
    function _clearingInterval(uint256 seed) internal returns (uint64 interval) {
        interval = uint64(block.timestamp / INTERVAL_SECONDS + 1);
        if (block.timestamp >= _startOf(interval) - GATE_CLOSURE_SECONDS) return interval;
        while (_ordersOf[interval].length == 0 && interval <= lastOrderInterval) interval++;
        if (interval > lastOrderInterval) return 0;
        vm.warp(_startOf(interval) - GATE_CLOSURE_SECONDS + (seed % GATE_CLOSURE_SECONDS));
    }

    /// @dev The orders of `interval`, in id order, and the volume each still has open.
    function _book(
        uint64 interval
    ) internal view returns (OrderBook.Order[] memory orders, uint256[] memory remaining) {
        uint256[] storage ids = _ordersOf[interval];
        orders = new OrderBook.Order[](ids.length);
        remaining = new uint256[](ids.length);
        for (uint256 k = 0; k < ids.length; k++) {
            orders[k] = market.getOrder(ids[k]);
            remaining[k] = orders[k].closed ? 0 : orders[k].maxWh - orders[k].filledWh;
        }
    }

    /// @dev The limit price of an open order picked by `seed` (zero if none is open).
    function _somePrice(
        OrderBook.Order[] memory orders,
        uint256[] memory remaining,
        uint256 seed
    ) internal pure returns (uint256 price) {
        for (uint256 j = 0; j < orders.length && price == 0; j++) {
            uint256 k = ((seed % orders.length) + j) % orders.length;
            if (remaining[k] != 0) price = orders[k].limitPrice;
        }
    }

    /// @dev Fills, sorted by offer id, of offers accepting `price` from bids accepting it, never
    /// between one owner's orders, each within both orders' remaining volume and `maxFillWh`.
    function _match(
        uint64 interval,
        OrderBook.Order[] memory orders,
        uint256[] memory remaining,
        uint256 price,
        uint256 maxFillWh
    ) internal view returns (EnergyMarket.Fill[] memory fills) {
        uint256[] storage ids = _ordersOf[interval];
        fills = new EnergyMarket.Fill[](MAX_FILLS);
        uint256 count = 0;
        for (uint256 a = 0; a < orders.length && count < MAX_FILLS; a++) {
            if (orders[a].side != OrderBook.Side.Offer || orders[a].limitPrice > price) continue;
            for (uint256 b = 0; b < orders.length && count < MAX_FILLS && remaining[a] != 0; b++) {
                if (
                    orders[b].side != OrderBook.Side.Bid ||
                    orders[b].limitPrice < price ||
                    remaining[b] == 0 ||
                    orders[b].owner == orders[a].owner
                ) continue;
                uint256 wh = _min(_min(remaining[a], remaining[b]), maxFillWh);
                fills[count++] = EnergyMarket.Fill(uint64(ids[a]), uint64(ids[b]), uint48(wh));
                remaining[a] -= wh;
                remaining[b] -= wh;
            }
        }
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(fills, count)
        }
    }

    /// @dev The intervals meter i reports on next, in order: from its next one, skipping only
    /// intervals whose readings deadline has passed (they count as no delivery), up to a target (a
    /// recent ended interval, or one with a batch waiting).
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
        if (intervalSeed % 4 >= 2 && _pending.length != 0) {
            target = _pending[(intervalSeed / 4) % _pending.length].interval;
        }
        if (target < from) target = from;
        if (target >= current) target = current - 1;
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

    /// @dev Every other seed has the actor's delegate act for it.
    function _viaAgent(uint256 seed) internal pure returns (bool) {
        return (seed / ACTOR_COUNT) % 2 == 1;
    }

    function _actorIndex(address actor) internal view returns (uint256 i) {
        while (_actors[i] != actor) i++;
    }

    /// @dev Mode 0: exactly the obligation; 1: more; 2: less (pro-rata shortfall); 3: nothing.
    function _export(uint256 mode, uint64 obligation, uint256 amount) internal pure returns (uint64) {
        mode %= 4;
        if (mode == 0) return obligation;
        if (mode == 1) return obligation + uint64(amount % 5_000);
        if (mode == 2) return obligation == 0 ? 0 : uint64(amount % obligation);
        return 0;
    }

    /// @dev Like `bound`, but keeps a value already in range as it is (for readable fixed sequences).
    function _inRange(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return x >= min && x <= max ? x : bound(x, min, max);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}

contract EnergyMarketInvariantTest is MarketFixture {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    TestDollar internal token;
    DeliveryLedger internal ledger;
    Reputation internal reputation;
    EnergyMarket internal market;
    EnergyMarketHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        token = new TestDollar(address(this), type(uint256).max, type(uint256).max);
        MeterRegistry registry;
        (registry, ledger, reputation, market) = _deployCore(token, address(this));
        handler = new EnergyMarketHandler(token, registry, ledger, market);
        market.grantRole(market.MATCHER_ROLE(), address(handler));
        market.grantRole(market.DEFAULT_ADMIN_ROLE(), address(handler));
    }

    /// @dev Read by the invariant runner: only the handler is called at random.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Read by the invariant runner: only the handler's actions, not its getters.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = EnergyMarketHandler.placeOffer.selector;
        selectors[1] = EnergyMarketHandler.placeBid.selector;
        selectors[2] = EnergyMarketHandler.cancelOrder.selector;
        selectors[3] = EnergyMarketHandler.warp.selector;
        selectors[4] = EnergyMarketHandler.submitClearing.selector;
        selectors[5] = EnergyMarketHandler.recordReading.selector;
        selectors[6] = EnergyMarketHandler.settleBatch.selector;
        selectors[7] = EnergyMarketHandler.releaseUnfilled.selector;
        selectors[8] = EnergyMarketHandler.withdraw.selector;
        selectors[9] = EnergyMarketHandler.setPenaltyPerKwh.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_marketHoldsBalancesAndOpenDeposits() public view {
        uint256 owed = 0;
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) owed += market.balanceOf(actors[i]);
        uint256 next = market.nextOrderId();
        for (uint256 orderId = 1; orderId < next; orderId++) {
            OrderBook.Order memory o = market.getOrder(orderId);
            owed += o.deposit - o.depositOut;
        }
        assertEq(token.balanceOf(address(market)), owed, "market tokens == balances + unreleased deposits");
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_ordersWithinTheirLimits() public view {
        uint256 next = market.nextOrderId();
        for (uint256 orderId = 1; orderId < next; orderId++) {
            OrderBook.Order memory o = market.getOrder(orderId);
            assertLe(o.filledWh, o.maxWh, "filledWh <= maxWh");
            assertLe(o.settledWh, o.filledWh, "settledWh <= filledWh");
            assertLe(o.depositOut, o.deposit, "depositOut <= deposit");
            if (o.closed) assertEq(o.depositOut, o.deposit, "a closed order has released its whole deposit");
        }
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_tokensConserved() public view {
        uint256 held = token.balanceOf(address(market));
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) held += token.balanceOf(actors[i]);
        assertEq(held, token.totalSupply(), "actors + market hold the whole supply");
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 200
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_reputationCountsEverySettledOrder() public view {
        // Every order that traded counts once when its last fill settles (it then closes); an offer
        // also judges its seller once.
        uint256 tradedOrders = 0;
        uint256 settledOffers = 0;
        uint256 next = market.nextOrderId();
        for (uint256 orderId = 1; orderId < next; orderId++) {
            OrderBook.Order memory o = market.getOrder(orderId);
            if (!o.closed || o.filledWh == 0) continue;
            tradedOrders++;
            if (o.side == OrderBook.Side.Offer) settledOffers++;
        }
        uint256 trades = 0;
        uint256 judged = 0;
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) {
            (uint64 t, uint64 full, uint64 short) = reputation.recordOf(actors[i]);
            trades += t;
            judged += uint256(full) + short;
        }
        assertEq(trades, tradedOrders, "one trade per settled order");
        assertEq(judged, settledOffers, "one judgement per settled offer");
    }

    /// @dev After every run: when everything is settled, released and withdrawn, every order is
    /// closed and the market holds no token at all.
    function afterInvariant() public {
        handler.settleAndWithdrawEverything();
        uint256 next = market.nextOrderId();
        for (uint256 orderId = 1; orderId < next; orderId++) {
            assertTrue(market.getOrder(orderId).closed, "every order closed in the end");
        }
        assertEq(token.balanceOf(address(market)), 0, "the market keeps nothing");
        invariant_marketHoldsBalancesAndOpenDeposits();
        invariant_ordersWithinTheirLimits();
        invariant_tokensConserved();
        invariant_reputationCountsEverySettledOrder();
    }

    /// @dev A fixed sequence through one whole round, proving the handler reaches clearing,
    /// shortfall settlement, release and withdrawal (random sequences are summarised by the counters).
    function test_handler_drivesAWholeRound() public {
        address[] memory actors = handler.actors();
        // Interval t: offers 1 (actor 0, 3000 Wh >= 0.10) and 2 (actor 1, 2000 Wh >= 0.15); bids
        // 3 (actor 2, 2500 Wh <= 0.20), 4 (actor 3, 2000 Wh <= 0.16) and 5 (actor 1, too low).
        handler.placeOffer(0, 0, 3_000, 100_000);
        handler.placeOffer(1, 0, 2_000, 150_000);
        handler.placeBid(2, 0, 2_500, 200_000);
        handler.placeBid(3, 0, 2_000, 160_000);
        handler.placeBid(1, 0, 1_000, 100_000);
        // Order 6, in a later interval, is cancelled.
        handler.placeOffer(2, 6, 500, 1);
        handler.cancelOrder(5);
        assertTrue(market.getOrder(6).closed, "order 6 cancelled");

        // Clearing window of t; price from order 2 (0.15): fills 1→3 2500, 1→4 500, 2→4 1500.
        handler.warp(3, 0);
        handler.submitClearing(1, 20_000, true);
        assertEq(handler.calls().fillsSubmitted, 3, "three fills");
        assertEq(market.getOrder(4).filledWh, 2_000, "bid 4 filled");

        // After t: actor 0 delivers all 3000 Wh, actor 1 only 750 of its 1500.
        handler.warp(5, 0);
        handler.recordReading(0, 0, 0, 0);
        handler.recordReading(1, 0, 2, 750);
        handler.settleBatch(0);
        handler.releaseUnfilled(0, 0);
        assertTrue(market.getOrder(5).closed, "unfilled bid 5 released");
        handler.withdraw(0, 0, type(uint256).max);

        assertEq(handler.calls().clearingBatches, 1, "clearings");
        assertEq(handler.calls().batchesSettled, 1, "batches settled");
        assertEq(handler.calls().fillsSettled, 3, "fills settled");
        assertEq(handler.calls().shortfallFillsSettled, 1, "shortfall fills settled");
        assertEq(handler.calls().shortReadings, 1, "short readings");
        assertEq(handler.calls().ordersCancelled, 1, "cancels");
        assertEq(handler.calls().ordersReleased, 1, "releases");
        assertEq(handler.calls().withdrawals, 1, "withdrawals");
        (, , uint64 shortfalls) = reputation.recordOf(actors[1]);
        assertEq(shortfalls, 1, "actor 1 fell short once");
        // Actor 1 delivered half of 1500 Wh: paid 750 Wh at 0.15, penalised 750 Wh at 0.05.
        assertEq(market.getOrder(2).depositOut, 100_000, "offer 2: collateral all out");
        assertEq(market.balanceOf(actors[1]), 112_500 + (100_000 - 37_500) + 100_000, "actor 1's balance");

        invariant_marketHoldsBalancesAndOpenDeposits();
        invariant_ordersWithinTheirLimits();
        invariant_tokensConserved();
        invariant_reputationCountsEverySettledOrder();
        afterInvariant();
    }
}
