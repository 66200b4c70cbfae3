// The page's data rules (plugins/dashboard_web/page/model.js) under node's
// test runner: which state of an order is the latest, whatever order the
// snapshot and the live events arrive in; newest first; the equity series
// oldest to newest; exact decimal sums.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const M = require(path.join(process.env.QTR_SOURCE_DIR || path.join(__dirname, "..", "..", ".."),
  "plugins", "dashboard_web", "page", "model.js"));

const order = (id, status, filled, t, extra) =>
  Object.assign({ client_id: id, status, filled_qty: filled, qty: "3", time_ms: t, symbol: "BTCUSDT" }, extra || {});

test("one entry per order whatever order its states arrive in", () => {
  // the life of one order, all in one millisecond as the paper exchange does it
  const life = [order("a-1", "PENDING", "0", 5), order("a-1", "NEW", "0", 5), order("a-1", "PARTIALLY_FILLED", "1", 5),
    order("a-1", "PARTIALLY_FILLED", "2.5", 5), order("a-1", "FILLED", "3", 5)];
  // every permutation of the five: the snapshot and the feed can interleave any way
  const perms = (xs) => xs.length < 2 ? [xs] : xs.flatMap((x, i) => perms(xs.filter((_, j) => j !== i)).map((p) => [x, ...p]));
  for (const p of perms(life)) {
    const m = new Map();
    for (const o of p) M.mergeOrder(m, o);
    assert.equal(m.size, 1);
    assert.equal(m.get("a-1").status, "FILLED", p.map((o) => o.status).join(","));
  }
});

test("a snapshot older than the event shown does not take the row back, nor the reverse", () => {
  const m = new Map();
  // the feed delivers FILLED, then the snapshot (taken a moment earlier) says NEW
  M.mergeOrder(m, order("b-2", "FILLED", "3", 1000));
  assert.equal(M.mergeOrder(m, order("b-2", "NEW", "0", 1000)), false);
  assert.equal(m.get("b-2").status, "FILLED");
  // a resting order: NEW, then later UNKNOWN (a timeout) and NEW again when it is found
  M.mergeOrder(m, order("c-3", "NEW", "0", 10));
  M.mergeOrder(m, order("c-3", "UNKNOWN", "0", 20));
  assert.equal(m.get("c-3").status, "UNKNOWN");
  M.mergeOrder(m, order("c-3", "NEW", "0", 30));
  assert.equal(m.get("c-3").status, "NEW");
  M.mergeOrder(m, order("c-3", "UNKNOWN", "0", 20));         // late delivery of the old one
  assert.equal(m.get("c-3").status, "NEW");
  // filled quantity is compared exactly, as decimals, not as text
  M.mergeOrder(m, order("d-4", "PARTIALLY_FILLED", "10.5", 40));
  M.mergeOrder(m, order("d-4", "PARTIALLY_FILLED", "9.75", 41));
  assert.equal(m.get("d-4").filled_qty, "10.5");
});

test("orders: newest first, ties by the id's number, open orders never cut", () => {
  const m = new Map();
  for (const o of [order("qtr-r-9", "FILLED", "3", 100), order("qtr-r-10", "FILLED", "3", 100),
    order("qtr-r-2", "NEW", "0", 1), order("qtr-r-11", "FILLED", "3", 200)]) M.mergeOrder(m, o);
  assert.deepEqual(M.orderRows(m, 10).map((o) => o.client_id), ["qtr-r-11", "qtr-r-10", "qtr-r-9", "qtr-r-2"]);
  // only two rows asked for: the old open order still comes along
  assert.deepEqual(M.orderRows(m, 2).map((o) => o.client_id), ["qtr-r-11", "qtr-r-10", "qtr-r-2"]);
  M.pruneOrders(m, 2);
  assert.deepEqual([...m.keys()].sort(), ["qtr-r-11", "qtr-r-2"]);
});

test("fills: each once, newest first, from snapshot and feed", () => {
  const f = (id, t) => ({ fill_id: id, time_ms: t, symbol: "BTCUSDT" });
  const snap = [f("p-3", 30), f("p-2", 20), f("p-1", 10)];      // newest first, as the host sends them
  const live = [f("p-3", 30), f("p-4", 30), f("p-5", 50)];
  assert.deepEqual(M.fillRows([snap, live], 100).map((x) => x.fill_id), ["p-5", "p-4", "p-3", "p-2", "p-1"]);
  assert.deepEqual(M.fillRows([snap.slice().reverse()], 2).map((x) => x.fill_id), ["p-3", "p-2"]);
});

test("signals and positions newest first", () => {
  const s = [{ time_ms: 1, reason: "a" }, { time_ms: 3, reason: "b" }, { time_ms: 3, reason: "c" }, { time_ms: 2, reason: "d" }];
  assert.deepEqual(M.signalRows(s, 10).map((x) => x.reason), ["b", "c", "d", "a"]);
  const pos = [{ symbol: "AUSDT", qty: "1" }, { symbol: "BUSDT", qty: "-2" }, { symbol: "CUSDT", qty: "0.000" },
    { symbol: "DUSDT", qty: "5" }];
  const traded = new Map([["BUSDT", 50], ["AUSDT", 10]]);
  assert.deepEqual(M.positionRows(pos, traded).map((p) => p.symbol), ["BUSDT", "AUSDT", "DUSDT"]);
});

test("positions: the server's list replaces them, except what changed while it was on its way", () => {
  const m = new Map();
  const p = (sym, qty, mark) => ({ symbol: sym, qty, mark_price: mark });
  M.applyPositions(m, [p("BTCUSDT", "1", "100"), p("ETHUSDT", "2", "10"), p("SOLUSDT", "3", "5")], () => false);
  m.set("BTCUSDT", p("BTCUSDT", "0", "101"));          // a fill closed it while the next list was asked for
  M.applyPositions(m, [p("BTCUSDT", "1", "99"), p("ETHUSDT", "2", "11")], (sym) => sym === "BTCUSDT");
  assert.equal(m.get("BTCUSDT").qty, "0");             // the event stays
  assert.equal(m.get("ETHUSDT").mark_price, "11");     // the new mark is taken
  assert.equal(m.has("SOLUSDT"), false);               // the server no longer has it
});

test("the equity series runs oldest to newest whatever order it comes in", () => {
  const a = (t, e) => ({ time_ms: t, equity: e });
  const history = [a(3000, "10002"), a(2000, "10001"), a(1000, "10000")];   // newest first, as the host sends it
  const live = [a(2000, "10001"), a(4000, "9999.5"), { equity: "1" }, a(5000, "oops")];
  const pts = M.equitySeries([history, live], 100);
  assert.deepEqual(pts.map((p) => p.t), [1000, 2000, 3000, 4000]);
  assert.deepEqual(pts.map((p) => p.s), ["10000", "10001", "10002", "9999.5"]);
  assert.deepEqual(M.equitySeries([history], 2).map((p) => p.t), [2000, 3000]);
});

test("exact decimals", () => {
  assert.equal(M.sumDec(["0.1", "0.2"]), "0.3");
  assert.equal(M.sumDec(["-0.3409812", "-0.0200508"]), "-0.361032");
  assert.equal(M.sumDec(["92233720368.54775807", "0.00000001"]), "92233720368.54775808");
  assert.equal(M.sumDec([]), "0");
  assert.equal(M.sumDec(["1", "x"]), null);
  assert.equal(M.subDec("10000", "10000.5"), "-0.5");
  assert.equal(M.subDec("1.50", "1.5"), "0");
  assert.equal(M.cmpDec("10.5", "9.75"), 1);
  assert.equal(M.cmpDec("-1", "0"), -1);
  assert.equal(M.cmpDec("2.500", "2.5"), 0);
});

test("table times carry the date when not today", () => {
  const now = Date.UTC(2026, 11, 2, 1, 0, 0);
  assert.equal(M.when(Date.UTC(2026, 11, 2, 0, 59, 58), now), "00:59:58");
  assert.equal(M.when(Date.UTC(2026, 11, 1, 23, 59, 58), now), "12-01 23:59:58");
  assert.equal(M.when(0, now), "—");
});

// Exit plans: the page ties the order updates on the feed to the plans it
// read from /api/exits, by client id.
const plan = () => ({ symbol: "BTCUSDT", position: { side: "LONG", qty: "0.01" },
  orders: [{ client_id: "qtr-r1-e1", role: "stop_loss" }, { client_id: "qtr-r1-e2", role: "take_profit", level: 0 }] });

test("an update of a resting exit order shows on its plan; an ended one leaves it and asks for the list", () => {
  const plans = new Map();
  M.applyExits(plans, [plan()]);
  const up = (cid, status, t) => ({ symbol: "BTCUSDT", client_id: cid, status, time_ms: t });
  assert.equal(M.applyExitUpdate(plans, up("qtr-r1-e1", "NEW", 10)), "changed");
  assert.equal(plans.get("BTCUSDT").orders[0].status, "NEW");
  assert.equal(M.applyExitUpdate(plans, up("qtr-r1-e1", "PENDING", 5)), "none");   // older: kept NEW
  assert.equal(plans.get("BTCUSDT").orders[0].status, "NEW");
  assert.equal(M.applyExitUpdate(plans, up("qtr-r1-e2", "FILLED", 20)), "reload");
  assert.deepEqual(plans.get("BTCUSDT").orders.map((o) => o.client_id), ["qtr-r1-e1"]);
  // a new exit order of the symbol (placed after the list was read): read the list again
  assert.equal(M.applyExitUpdate(plans, up("qtr-r1-e7", "NEW", 30)), "reload");
  // not an exit's id, or a symbol without a plan: nothing to do
  assert.equal(M.applyExitUpdate(plans, up("qtr-r1-9", "NEW", 30)), "none");
  assert.equal(M.applyExitUpdate(plans, { symbol: "ETHUSDT", client_id: "qtr-r1-e8", status: "NEW" }), "none");
  assert.equal(M.isExitClientId("qtr-r1-e12"), true);
  assert.equal(M.isExitClientId("qtr-r1-x12"), false);
});

test("plans with an open position first, then by symbol; a new list replaces the old", () => {
  const plans = new Map();
  M.applyExits(plans, [{ symbol: "AAAUSDT", position: { qty: "0" } }, { symbol: "ZZZUSDT", position: { qty: "-1" } },
    { symbol: "BBBUSDT", position: { qty: "0" } }]);
  assert.deepEqual(M.exitRows(plans).map((x) => x.symbol), ["ZZZUSDT", "AAAUSDT", "BBBUSDT"]);
  M.applyExits(plans, [{ symbol: "CCCUSDT", position: { qty: "0" } }]);
  assert.deepEqual([...plans.keys()], ["CCCUSDT"]);
});

test("an exit order's status: its own update first, else the order table's, else none", () => {
  const orders = new Map([["qtr-r1-e1", { client_id: "qtr-r1-e1", status: "NEW" }]]);
  assert.equal(M.exitOrderStatus({ client_id: "qtr-r1-e1" }, orders), "NEW");
  assert.equal(M.exitOrderStatus({ client_id: "qtr-r1-e1", status: "PARTIALLY_FILLED" }, orders), "PARTIALLY_FILLED");
  assert.equal(M.exitOrderStatus({ client_id: "qtr-r1-e5" }, orders), "");
});
