/* Quantum Trader operator page: the data rules, kept apart from the DOM so
 * node can test them (tests/dashboard_web/e2e/model.test.cjs). Which of two
 * states of an order is the later one, what "newest first" means for each
 * table, the equity series in time order, and exact decimal arithmetic on
 * the strings the server sends (money is never turned into a float here). */
"use strict";

const QtrModel = (() => {
  const FINAL = new Set(["FILLED", "CANCELED", "REJECTED", "EXPIRED"]);
  /* Within one millisecond: the lifecycle order of the non-final states. */
  const STEP = { PENDING: 0, UNKNOWN: 1, NEW: 2, PARTIALLY_FILLED: 3 };
  const isFinal = (status) => FINAL.has(status);

  /* ---- exact decimals ---------------------------------------------------- */
  /* "-12.345" -> { n: -12345n, scale: 3 }; null when it is not a decimal. */
  function parseDec(s) {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(s ?? "").trim());
    if (!m) return null;
    const frac = m[3] || "";
    const n = BigInt(m[2] + frac);
    return { n: m[1] ? -n : n, scale: frac.length };
  }
  function align(a, b) {
    const scale = Math.max(a.scale, b.scale);
    return [a.n * 10n ** BigInt(scale - a.scale), b.n * 10n ** BigInt(scale - b.scale), scale];
  }
  function formatDec(n, scale) {
    const neg = n < 0n;
    let digits = (neg ? -n : n).toString().padStart(scale + 1, "0");
    let out = scale ? digits.slice(0, -scale) + "." + digits.slice(-scale) : digits;
    if (scale) out = out.replace(/0+$/, "").replace(/\.$/, "");
    return (neg && out !== "0" ? "-" : "") + out;
  }
  /* -1, 0, 1; a string that is not a decimal sorts below every decimal. */
  function cmpDec(x, y) {
    const a = parseDec(x), b = parseDec(y);
    if (!a || !b) return a ? 1 : b ? -1 : 0;
    const [p, q] = align(a, b);
    return p < q ? -1 : p > q ? 1 : 0;
  }
  /* Sum of decimal strings, exact; null if one is not a decimal. */
  function sumDec(list) {
    let acc = { n: 0n, scale: 0 };
    for (const s of list) {
      const d = parseDec(s);
      if (!d) return null;
      const [p, q, scale] = align(acc, d);
      acc = { n: p + q, scale };
    }
    return formatDec(acc.n, acc.scale);
  }
  function subDec(x, y) {
    const a = parseDec(x), b = parseDec(y);
    if (!a || !b) return null;
    const [p, q, scale] = align(a, b);
    return formatDec(p - q, scale);
  }

  /* ---- orders: one row per order, its latest state ----------------------- */
  /* Is `a` a later state of the same order than `b`? Decided by the order's
   * lifecycle first (a final state is never followed by another, the filled
   * quantity never shrinks), then by time, so a snapshot older than an event
   * already shown (or an event older than the snapshot) cannot take a row
   * back. Equal in every respect: `a` (the one arriving) wins. */
  function laterOrder(a, b) {
    if (isFinal(a.status) !== isFinal(b.status)) return isFinal(a.status);
    const filled = cmpDec(a.filled_qty, b.filled_qty);
    if (filled) return filled > 0;
    if ((a.time_ms || 0) !== (b.time_ms || 0)) return (a.time_ms || 0) > (b.time_ms || 0);
    return (STEP[a.status] ?? 0) >= (STEP[b.status] ?? 0);
  }
  /* Keep in `orders` (a Map by client_id) the later of the known and `o`. */
  function mergeOrder(orders, o) {
    if (!o || !o.client_id) return false;
    const cur = orders.get(o.client_id);
    if (cur && !laterOrder(o, cur)) return false;
    orders.set(o.client_id, o);
    return true;
  }

  /* ---- newest first ------------------------------------------------------- */
  const natural = (a, b) => String(a ?? "").localeCompare(String(b ?? ""), "en", { numeric: true });
  /* Newest first by time_ms; within one millisecond the higher id (ids count
   * up: qtr-<run>-<n>, paper-<run>-<n>) first. */
  const newestFirst = (idKey) => (a, b) => (b.time_ms || 0) - (a.time_ms || 0) || natural(b[idKey], a[idKey]);

  /* Orders to show: newest first, at most `max`, but never an open order left out. */
  function orderRows(orders, max) {
    const all = [...orders.values()].sort(newestFirst("client_id"));
    const shown = all.slice(0, max);
    for (const o of all.slice(max)) if (!isFinal(o.status)) shown.push(o);
    return shown;
  }
  /* Forget the oldest finished orders beyond `cap` (open ones stay). */
  function pruneOrders(orders, cap) {
    if (orders.size <= cap) return;
    const done = [...orders.values()].filter((o) => isFinal(o.status)).sort(newestFirst("client_id"));
    for (const o of done.slice(Math.max(0, cap - (orders.size - done.length)))) orders.delete(o.client_id);
  }

  /* Fills from every source, each once (by fill_id), newest first, at most `max`. */
  function fillRows(lists, max) {
    const byId = new Map();
    for (const list of lists) for (const f of list || []) if (f && f.fill_id) byId.set(f.fill_id, f);
    return [...byId.values()].sort(newestFirst("fill_id")).slice(0, max);
  }
  /* Signals have no id: newest first, ties in the order given (the sort is stable). */
  const signalRows = (list, max) => [...(list || [])].sort(newestFirst("")).slice(0, max);

  /* Positions: the most recently traded first (marks move time_ms all the
   * time, so it is the last fill that counts), then by symbol. */
  function positionRows(positions, lastTradeMs) {
    const t = (p) => lastTradeMs.get(p.symbol) || 0;
    return [...positions].filter((p) => cmpDec(p.qty, "0") !== 0)
      .sort((a, b) => t(b) - t(a) || a.symbol.localeCompare(b.symbol));
  }

  /* The server's list of positions replaces those in `positions` (a Map by
   * symbol), except a symbol for which `newerHere(symbol)` says an event
   * arrived while the list was on its way: the list is older than that.
   * (Times cannot decide it: marks carry the market's clock, fills the
   * exchange's.) */
  function applyPositions(positions, list, newerHere) {
    const next = new Map();
    for (const p of list) if (p && p.symbol) next.set(p.symbol, p);
    for (const [sym, cur] of positions) if (newerHere(sym)) next.set(sym, cur);
    positions.clear();
    for (const [sym, p] of next) positions.set(sym, p);
  }

  /* ---- exit plans (GET /api/exits) and the order updates of their orders -- */
  /* The host's exit orders have client ids ending in -e<digits>. */
  const isExitClientId = (cid) => /-e\d+$/.test(String(cid ?? ""));
  /* The list replaces `plans` (a Map by symbol). */
  function applyExits(plans, list) {
    plans.clear();
    for (const x of list || []) if (x && x.symbol) plans.set(x.symbol, x);
  }
  /* An order update against the plans: the plan's order with that client id
   * takes its status ("changed"), or leaves the plan when it ended; an exit
   * order the plans do not list yet (placed after they were read: a new
   * position, a change of size) or a listed one that ended asks for the
   * list again ("reload": what replaced it is the host's to say); anything
   * else is "none". */
  function applyExitUpdate(plans, u) {
    if (!u || !u.client_id) return "none";
    const plan = plans.get(u.symbol);
    const o = plan && (plan.orders || []).find((x) => x.client_id === u.client_id);
    if (!o) return plan && isExitClientId(u.client_id) ? "reload" : "none";
    if (isFinal(u.status)) {
      plan.orders = plan.orders.filter((x) => x !== o);
      o.status = u.status;
      return "reload";
    }
    if (o.status && o.time_ms && (u.time_ms || 0) < o.time_ms) return "none";   /* an older state */
    o.status = u.status;
    o.time_ms = u.time_ms || o.time_ms;
    return "changed";
  }
  /* An exit order's status: the latest update seen for it on the feed, else
   * the state `orders` (the order table, a Map by client id) holds for it,
   * else "" (resting as the host listed it). */
  function exitOrderStatus(o, orders) {
    if (o.status) return o.status;
    const known = orders && orders.get(o.client_id);
    return known ? known.status : "";
  }
  /* Plans to show: open positions first, then by symbol. */
  function exitRows(plans) {
    const open = (x) => (x.position && cmpDec(x.position.qty, "0") !== 0 ? 1 : 0);
    return [...plans.values()].sort((a, b) => open(b) - open(a) || a.symbol.localeCompare(b.symbol));
  }

  /* ---- equity: oldest to newest ------------------------------------------- */
  /* Account snapshots from every source as chart points {t, v, s}, in time
   * order, one per millisecond (the later source wins), at most `max`. */
  function equitySeries(lists, max) {
    const byTime = new Map();
    for (const list of lists)
      for (const a of list || []) {
        if (!a || typeof a.time_ms !== "number" || parseDec(a.equity) === null) continue;
        byTime.set(a.time_ms, { t: a.time_ms, v: Number(a.equity), s: a.equity });
      }
    const pts = [...byTime.values()].sort((a, b) => a.t - b.t);
    return pts.length > max ? pts.slice(pts.length - max) : pts;
  }

  /* ---- time ----------------------------------------------------------------- */
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  function hms(ms) {
    if (!ms) return "—";
    const d = new Date(ms);
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
  function stamp(ms) {
    if (!ms) return "—";
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hms(ms)} UTC`;
  }
  /* A table's time: HH:MM:SS today (UTC), with the date before it otherwise
   * (fills restored from the store can be days old). */
  function when(ms, nowMs) {
    if (!ms) return "—";
    const day = (x) => Math.floor(x / 86400000);
    return day(ms) === day(nowMs) ? hms(ms) : stamp(ms).slice(5, 19);
  }

  return { isFinal, parseDec, cmpDec, sumDec, subDec, laterOrder, mergeOrder, newestFirst, orderRows, pruneOrders,
           fillRows, signalRows, positionRows, applyPositions, isExitClientId, applyExits, applyExitUpdate, exitOrderStatus, exitRows,
           equitySeries, hms, stamp, when };
})();

if (typeof module !== "undefined" && module.exports) module.exports = QtrModel;
