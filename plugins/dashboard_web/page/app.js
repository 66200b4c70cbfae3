/* Quantum Trader operator page. Loads a snapshot over the REST API, then
 * follows the live WebSocket feed (/ws) and reconnects by itself with
 * backoff. Money arrives as decimal strings and is shown exactly as sent;
 * only the chart turns it into numbers, for drawing. No outside resources.
 * The data rules (latest state of an order, newest first, the equity series
 * in time order, exact sums) are in model.js. */
"use strict";

const M = QtrModel;
const { hms, stamp } = M;
const $ = (id) => document.getElementById(id);
const MAX_ROWS = 100, MAX_POINTS = 5000, MAX_LOG = 300, MAX_ORDERS = 1000, MAX_LIVE = 2000;
const STATUS_POLL_MS = 5000, READ_TIMEOUT_MS = 4000, ACTION_TIMEOUT_MS = 10000;

/* Every table is rebuilt from the last snapshot plus what arrived on the
 * current connection since it opened (`live`), so a snapshot taken while
 * events were on their way neither loses nor doubles anything. */
const state = {
  account: null, points: [], positions: new Map(), orders: new Map(), lastTradeMs: new Map(), exits: new Map(),
  fills: [], signals: [], ess: null, policy: null, health: new Map(), regimes: new Map(), lastSeq: 0, events: 0, missed: 0,
  snap: { fills: [], equity: [] }, live: { orders: [], fills: [], equity: [] },
  posEventAt: new Map(), apiErrors: new Map(), offlineSince: 0, retryAt: 0,
};
const remember = (list, item) => { list.push(item); if (list.length > MAX_LIVE) list.splice(0, list.length - MAX_LIVE); };

/* ---- formatting ---------------------------------------------------------- */
const when = (ms) => M.when(ms, Date.now());
const isNeg = (s) => typeof s === "string" && s.startsWith("-");
const isZero = (s) => s === undefined || s === null || /^-?0(\.0*)?$/.test(String(s));
/* A decimal string with thousands separators, exact (no float rounding). */
function group(s) {
  if (s === undefined || s === null || s === "") return "—";
  const str = String(s);
  const neg = str.startsWith("-");
  const [ip, fp] = (neg ? str.slice(1) : str).split(".");
  const g = ip.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + g + (fp ? "." + fp : "");
}
function signed(s) { return isNeg(s) || isZero(s) ? group(s) : "+" + group(s); }
function pnlClass(s) { return isZero(s) ? "" : isNeg(s) ? "neg" : "pos"; }

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
function td(text, cls) { return el("td", cls, text); }
/* A table row that says when it happened (title: the full UTC time). */
function timedRow(ms, id) {
  const tr = el("tr");
  tr.dataset.t = String(ms || 0);
  if (id) tr.dataset.id = id;
  tr.title = stamp(ms) + (id ? " · " + id : "");
  return tr;
}

/* ---- REST ---------------------------------------------------------------- */
/* Every call has a deadline: a server whose loop is stuck keeps its
 * sockets open and would leave a request (and the operator) waiting
 * forever. No answer in time: status -1. */
async function api(path, opts, timeoutMs = READ_TIMEOUT_MS) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(path, Object.assign({ cache: "no-store", signal: ctl.signal }, opts || {}));
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    return { status: ctl.signal.aborted ? -1 : res.status, body };
  } catch (e) {
    if (ctl.signal.aborted) return { status: -1, body: null };
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
/* A GET whose answer only counts when it is a 200 with a JSON body; any
 * other answer is shown in the banner (and the panel keeps what it had). */
async function read(path) {
  let r;
  try { r = await api(path); } catch (e) { r = { status: 0, body: null }; }
  if (r.status === 200 && r.body && typeof r.body === "object") {
    if (state.apiErrors.delete(path)) renderBanner();
    return r.body;
  }
  const why = r.status === 0 ? "server unreachable"
    : r.status === -1 ? `no answer within ${READ_TIMEOUT_MS / 1000} s (server busy or stuck?)`
    : `HTTP ${r.status}${r.body && r.body.error ? ": " + r.body.error : ""}`;
  state.apiErrors.set(path, why);
  renderBanner();
  return null;
}

async function loadAll() {
  const paths = ["/api/status", "/api/positions", "/api/orders", "/api/fills", "/api/equity",
                 "/api/signals", "/api/ess", "/api/policy", "/health/all", "/api/exits"];
  const asked = performance.now();
  const got = await Promise.all(paths.map(read));
  const [status, positions, orders, fills, equity, signals, ess, policy, health, exits] = got;
  /* a part that did not load is asked for again, until it does */
  if (got.includes(null) && ws && ws.readyState === WebSocket.OPEN) refreshSoon("all", loadAll, 3000);
  if (status && status.account) setAccount(status.account);
  if (status && Array.isArray(status.regimes)) {
    for (const r of status.regimes) state.regimes.set(r.symbol, r);
    renderRegimes();
  }
  if (fills) {
    state.snap.fills = fills.fills || [];
    for (const f of state.snap.fills) noteTrade(f);
    rebuildFills();
  }
  if (positions) {
    M.applyPositions(state.positions, positions.positions || [], (sym) => (state.posEventAt.get(sym) ?? -1) > asked);
    renderPositions();
  }
  if (orders) {
    /* the snapshot, then what came live since the connection opened */
    state.orders.clear();
    for (const o of (orders.open || []).concat(orders.recent || [])) M.mergeOrder(state.orders, o);
    for (const o of state.live.orders) M.mergeOrder(state.orders, o);
    renderOrders();
  }
  if (equity) {
    state.snap.equity = (equity.history || []).concat(equity.current ? [equity.current] : []);
    if (equity.current) setAccount(equity.current);
    rebuildEquity();
  }
  if (signals) { state.signals = M.signalRows(signals.signals, MAX_ROWS); renderSignals(); }
  if (exits) { M.applyExits(state.exits, exits.exits); renderExits(); }
  if (ess && ess.state) { state.ess = ess; renderEss(); }
  if (policy) { state.policy = policy; renderPolicy(); }
  if (health && health.components) {
    state.health.clear();
    for (const [name, h] of Object.entries(health.components)) state.health.set(name, h);
    renderHealth();
  }
}

/* Refresh one endpoint soon, at most once per interval (events can come fast). */
const pending = new Map();
function refreshSoon(key, fn, ms = 1000) {
  if (pending.has(key)) return;
  pending.set(key, setTimeout(() => { pending.delete(key); fn().catch(() => {}); }, ms));
}
const refreshSignals = () => refreshSoon("signals", async () => {
  const b = await read("/api/signals");
  if (b) { state.signals = M.signalRows(b.signals, MAX_ROWS); renderSignals(); }
});
const refreshEss = () => refreshSoon("ess", async () => {
  const b = await read("/api/ess");
  if (b && b.state) { state.ess = b; renderEss(); }
}, 200);
const refreshPolicy = () => refreshSoon("policy", async () => {
  const b = await read("/api/policy");
  if (b) { state.policy = b; renderPolicy(); }
}, 200);
const refreshAll = () => refreshSoon("all", loadAll, 1500);
/* The host replaces exit orders on a fill, a change of size, a cancel by
 * someone else: the plans are read again soon after such an event. */
const refreshExits = () => refreshSoon("exits", async () => {
  const b = await read("/api/exits");
  if (b) { M.applyExits(state.exits, b.exits); renderExits(); }
}, 300);
/* The host publishes an equity event once a minute (and on a new peak): the
 * account figures and the chart's newest point are read every few seconds. */
let polling = false;
async function pollStatus() {
  if (polling) return;
  polling = true;
  try { await pollOnce(); } finally { polling = false; }
}
async function pollOnce() {
  const asked = performance.now();
  const [b, pos] = await Promise.all([read("/api/status"), read("/api/positions")]);
  /* positions are published on fills only: marks and uPnL come from here */
  if (pos) {
    M.applyPositions(state.positions, pos.positions || [], (sym) => (state.posEventAt.get(sym) ?? -1) > asked);
    paint(renderPositions);
  }
  if (!b || !b.account) return;
  setAccount(b.account);
  remember(state.live.equity, b.account);
  rebuildEquity();
}

/* ---- merging snapshot and live ------------------------------------------- */
/* Events can come by the thousand a second: a table is redrawn at most once a frame. */
const queued = new Set();
function paint(fn) {
  if (queued.has(fn)) return;
  queued.add(fn);
  requestAnimationFrame(() => { queued.delete(fn); fn(); });
}
function noteTrade(f) {
  if ((state.lastTradeMs.get(f.symbol) || 0) < f.time_ms) state.lastTradeMs.set(f.symbol, f.time_ms);
}
function rebuildFills() {
  state.fills = M.fillRows([state.snap.fills, state.live.fills], MAX_ROWS);
  renderFills();
}
function rebuildEquity() {
  state.points = M.equitySeries([state.snap.equity, state.live.equity], MAX_POINTS);
  scheduleDraw();
}

/* ---- header and account --------------------------------------------------- */
function setKpi(id, text, cls) {
  const e = $(id);
  e.textContent = text;
  e.className = "val num " + (cls || "");
}
function setAccount(a) {
  state.account = a;
  setKpi("k-equity", group(a.equity));
  setKpi("k-upnl", signed(a.unrealized_pnl), pnlClass(a.unrealized_pnl));
  setKpi("k-daily", signed(a.daily_pnl), pnlClass(a.daily_pnl));
  setKpi("k-dd", group(a.drawdown_pct) + "%", isZero(a.drawdown_pct) ? "" : "neg");
  setKpi("k-exposure", group(a.exposure));
  setKpi("k-npos", String(a.open_positions ?? "—"));
}

/* ---- tables --------------------------------------------------------------- */
function fillBody(table, rows, cols, emptyText) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = el("tr", "empty");
    const c = td(emptyText);
    c.colSpan = cols;
    tr.appendChild(c);
    body.appendChild(tr);
    return;
  }
  for (const r of rows) body.appendChild(r);
}

function renderPositions() {
  const rows = [];
  const list = M.positionRows(state.positions.values(), state.lastTradeMs);
  for (const p of list) {
    const tr = timedRow(state.lastTradeMs.get(p.symbol) || 0, p.symbol);
    tr.append(td(p.symbol), td(signed(p.qty), "r " + (isNeg(p.qty) ? "side-SELL" : "side-BUY")),
      td(group(p.entry_price), "r"), td(group(p.mark_price), "r"),
      td(signed(p.unrealized_pnl), "r " + pnlClass(p.unrealized_pnl)),
      td(signed(p.realized_pnl), "r " + pnlClass(p.realized_pnl)), td(group(p.fees), "r"),
      td(signed(p.funding), "r " + pnlClass(p.funding)));
    rows.push(tr);
  }
  fillBody("t-positions", rows, 8, "No open positions");
  const total = M.sumDec(list.map((p) => p.unrealized_pnl));
  $("pos-total").textContent = list.length ? `${list.length} open · uPnL ${total === null ? "—" : signed(total)}` : "";
}

/* ---- exit plans ------------------------------------------------------------ */
const pct = (bps) => (bps / 100).toFixed(2) + "%";
/* bps from the entry, or an absolute price; "—" when off. */
function distance(d) {
  if (!d) return "—";
  return d.bps ? pct(d.bps) : group(d.price);
}
function exitOrderLine(o) {
  const status = M.exitOrderStatus(o, state.orders);
  const what = o.role === "take_profit" ? `TP${o.level + 1}` : o.role === "stop_loss" ? "SL" : o.role === "trailing" ? "TS" : "TIME";
  const at = o.role === "trailing" ? (isZero(o.activation_price) ? "now" : "from " + group(o.activation_price))
    : isZero(o.stop_price) ? "" : "@ " + group(o.stop_price);
  const span = el("span", "exit-order" + (o.cancelling ? " cancelling" : ""),
    `${what} ${o.client_id} ${group(o.qty)} ${at} ${status || "working"}${o.activated ? " · activated" : ""}`);
  span.dataset.cid = o.client_id;
  if (status) span.dataset.status = status;
  return span;
}
function renderExits() {
  const list = M.exitRows(state.exits);
  const rows = list.map((x) => {
    const tr = el("tr");
    tr.dataset.symbol = x.symbol;
    const pos = x.position || {};
    const covers = x.held ? "waiting for the first reconcile"
      : pos.side === "FLAT" ? "flat" : `${pos.side} ${group(pos.qty)} @ ${group(pos.entry_price)}`;
    const ladder = (x.take_profit || []).map((t) => `${distance(t)} × ${pct(t.share_bps)}`).join(", ") || "—";
    const trailing = x.trailing ? `${pct(x.trailing.callback_bps)} from ${x.trailing.activation ? distance(x.trailing.activation) : "entry"}`
      + (x.trailing.activated === true ? " · activated" : x.trailing.activated === false ? " · waiting" : "") : "—";
    const ts = x.time_stop ? (x.time_stop.at_ms ? stamp(x.time_stop.at_ms) : `${x.time_stop.after_ms / 1000} s after entry`)
      + (x.time_stop.sent ? " · sent" : "") : "—";
    const orders = td("");
    for (const o of x.orders || []) orders.appendChild(exitOrderLine(o));
    if (!(x.orders || []).length) orders.textContent = "none";
    tr.append(td(x.symbol), td(covers, pos.side === "SHORT" ? "side-SELL" : pos.side === "LONG" ? "side-BUY" : "muted"),
      td(distance(x.stop_loss), "r"), td(ladder), td(trailing), td(ts), td(x.working_type),
      td(x.regime + (x.regime_override ? " (override)" : "")), orders);
    return tr;
  });
  fillBody("t-exits", rows, 9, "No exit plans");
  $("exits-count").textContent = list.length ? `${list.length} plan${list.length === 1 ? "" : "s"}` : "";
}

function orderRow(o) {
  const tr = timedRow(o.time_ms, o.client_id);
  const st = el("span", "st st-" + o.status, o.status);
  const stc = td(""); stc.appendChild(st);
  tr.append(td(when(o.time_ms), "muted"), td(o.symbol), td(o.side, "side-" + o.side), td(o.order_type), stc,
    td(group(o.qty), "r"), td(isZero(o.price) ? "MKT" : group(o.price), "r"), td(group(o.filled_qty), "r"),
    td(isZero(o.avg_price) ? "—" : group(o.avg_price), "r"), td(o.reason || "", "why"));
  return tr;
}
/* One row per order, its latest state, newest first. */
function renderOrders() {
  M.pruneOrders(state.orders, MAX_ORDERS);
  const list = M.orderRows(state.orders, MAX_ROWS);
  fillBody("t-orders", list.map(orderRow), 10, "No orders yet");
  let open = 0;
  for (const o of state.orders.values()) if (!M.isFinal(o.status)) open++;
  $("orders-count").textContent = `${open} open · ${state.orders.size} known`;
}

function renderFills() {
  const rows = state.fills.map((f) => {
    const tr = timedRow(f.time_ms, f.fill_id);
    tr.append(td(when(f.time_ms), "muted"), td(f.symbol), td(f.side, "side-" + f.side), td(group(f.qty), "r"),
      td(group(f.price), "r"), td(group(f.fee), "r " + (isNeg(f.fee) ? "pos" : "")), td(f.maker ? "maker" : "taker", "muted"));
    return tr;
  });
  fillBody("t-fills", rows, 7, "No fills yet");
  $("fills-count").textContent = state.fills.length ? `${state.fills.length} shown` : "";
}

function renderSignals() {
  let acc = 0, rej = 0;
  const rows = state.signals.map((s) => {
    const tr = timedRow(s.time_ms, "");
    const outcome = s.outcome || "pending";
    if (outcome === "accepted") acc++; else if (outcome === "rejected") rej++;
    const oc = td(""); oc.appendChild(el("span", "st st-" + outcome, outcome));
    const why = [s.outcome_reason, s.reason].filter(Boolean).join(" · ");
    tr.append(td(when(s.time_ms), "muted"), td(s.strategy), td(s.symbol), td(s.side, "side-" + s.side),
      td(group(s.qty), "r"), td(typeof s.confidence === "number" ? s.confidence.toFixed(2) : "—", "r"), oc,
      td(why, "why"));
    return tr;
  });
  fillBody("t-signals", rows, 8, "No signals yet");
  $("signals-count").textContent = state.signals.length ? `${acc} accepted · ${rej} rejected` : "";
}

/* ---- ESS, policy, health -------------------------------------------------- */
function renderEss() {
  const e = state.ess;
  if (!e) return;
  const box = $("ess-state");
  box.textContent = e.state;
  box.className = "ess-state " + e.state;
  const badge = $("b-ess");
  badge.textContent = "ESS " + e.state;
  badge.className = "badge " + (e.state === "ARMED" ? "ok" : e.state === "TRIPPED" ? "crit" : "warn");
  const d = $("ess-detail");
  d.replaceChildren();
  if (e.state !== "ARMED" || e.trip_reason) {
    d.append("Last trip: ", el("b", null, e.trip_reason || "—"));
    if (e.tripped_at_ms) d.append(" at ", stamp(e.tripped_at_ms));
  } else {
    d.append("Trading allowed.");
  }
  if (e.cooldown_until_ms && e.cooldown_until_ms > Date.now()) d.append(el("br"), "Cooldown until " + stamp(e.cooldown_until_ms));
  $("ess-counts").textContent = `trips ${e.trips ?? 0} · resets ${e.resets ?? 0} · exch errs ${e.consecutive_exchange_errors ?? 0}`;
  renderBanner();
}

function renderPolicy() {
  const p = state.policy;
  const dl = $("policy");
  dl.replaceChildren();
  const add = (k, v) => { dl.append(el("dt", null, k), el("dd", null, v)); };
  if (!p || !p.loaded) { add("Policy", "none loaded"); return; }
  add("Name", p.name);
  add("Version", String(p.version));
  add("Loaded", stamp(p.loaded_at_ms));
  add("Hash", (p.hash || "").slice(0, 16));
  add("Max positions", String(p.max_positions));
  add("Max order", group(p.max_order_notional));
  add("Max exposure", group(p.max_total_exposure));
  add("ESS drawdown", group(p.ess_max_drawdown_pct) + "%");
}

const RANK = { OK: 0, DEGRADED: 1, CRITICAL: 2 };
function renderHealth() {
  const ul = $("health-list");
  ul.replaceChildren();
  let worst = "OK";
  const names = [...state.health.keys()].sort();
  for (const name of names) {
    const h = state.health.get(name);
    if ((RANK[h.status] ?? 2) > RANK[worst]) worst = h.status;
    const li = el("li", h.status);
    li.append(el("span", "dot"), el("span", "name", name), el("span", "reason", `${h.status} · ${h.reason || ""}`));
    li.title = `${name}: ${h.status} ${h.reason || ""}`;
    ul.appendChild(li);
  }
  const b = $("b-health");
  b.textContent = "HEALTH " + (names.length ? worst : "—");
  b.className = "badge " + (!names.length ? "" : worst === "OK" ? "ok" : worst === "DEGRADED" ? "warn" : "crit");
  $("health-when").textContent = "as of " + hms(Date.now());
}

/* The host's regime per symbol (REGIME events; /api/status has the latest of each). */
function score(v) { return typeof v === "number" ? v.toFixed(2) : "—"; }
function renderRegimes() {
  const rows = [];
  for (const sym of [...state.regimes.keys()].sort()) {
    const r = state.regimes.get(sym);
    const tr = timedRow(r.time_ms, sym);
    tr.append(td(sym), td(r.regime, "regime-" + r.regime), td(r.previous, "muted"), td(score(r.adx), "r"),
      td(score(r.plus_di), "r"), td(score(r.minus_di), "r"), td(score(r.atr_pct), "r"), td(score(r.volatility), "r"),
      td(when(r.time_ms), "muted"));
    rows.push(tr);
  }
  fillBody("t-regimes", rows, 9, "No regime yet (each symbol needs its warm-up candles)");
  $("regimes-count").textContent = rows.length ? `${rows.length} symbol${rows.length === 1 ? "" : "s"}` : "";
}

/* ---- live log -------------------------------------------------------------- */
const MARKET = new Set(["candle", "trade", "book_top", "mark_price"]);
function describe(ev) {
  const p = ev.payload || {};
  switch (ev.type) {
    case "candle": return `${p.symbol} close ${p.close} vol ${p.volume}`;
    case "trade": return `${p.symbol} ${p.aggressor} ${p.qty} @ ${p.price}`;
    case "book_top": return `${p.symbol} ${p.bid_price} / ${p.ask_price}`;
    case "mark_price": return `${p.symbol} mark ${p.mark_price} funding ${p.funding_rate}`;
    case "signal": return `${p.strategy} ${p.side} ${p.qty} ${p.symbol} conf ${Number(p.confidence).toFixed(2)} — ${p.reason}`;
    case "order_intent": return `${p.client_id} ${p.side} ${p.order_type} ${p.qty} ${p.symbol} @ ${p.price}`;
    case "order_update": return `${p.client_id} ${p.symbol} ${p.status} ${p.filled_qty}/${p.qty}${p.reason ? " — " + p.reason : ""}`;
    case "fill": return `${p.symbol} ${p.side} ${p.qty} @ ${p.price} fee ${p.fee}`;
    case "position": return `${p.symbol} qty ${p.qty} uPnL ${p.unrealized_pnl}`;
    case "ess_state": return `${p.previous} → ${p.state}: ${p.reason}${p.user ? " (" + p.user + ")" : ""}`;
    case "policy": return p.ok ? `loaded v${p.version} ${p.file}` : `REFUSED ${p.error}`;
    case "health": return `${p.component} ${p.status}: ${p.reason}`;
    case "alert": return `[${p.source}/${p.kind}] ${p.text}`;
    case "equity": return `equity ${p.equity} daily ${p.daily_pnl} dd ${p.drawdown_pct}%`;
    case "regime": return `${p.symbol} ${p.previous} → ${p.regime} (ADX ${score(p.adx)}, ATR ${score(p.atr_pct)}%)`;
    default: return JSON.stringify(p).slice(0, 200);
  }
}
function logLine(time, type, text, cls) {
  if ($("log-pause").checked) return;
  const ol = $("log");
  const li = el("li", cls || "");
  li.append(el("span", "t", hms(time)), el("span", "ty", type), el("span", "tx", text));
  li.title = text;
  ol.prepend(li);
  while (ol.childElementCount > MAX_LOG) ol.lastElementChild.remove();
}
function severityOf(ev) {
  const p = ev.payload || {};
  if (ev.type === "alert") return p.severity;
  if (ev.type === "health") return p.status === "CRITICAL" ? "CRITICAL" : p.status === "DEGRADED" ? "WARNING" : "INFO";
  if (ev.type === "ess_state") return p.state === "ARMED" ? "INFO" : "CRITICAL";
  if (ev.type === "order_update" && p.status === "REJECTED") return "WARNING";
  if (ev.type === "policy" && !p.ok) return "WARNING";
  return "INFO";
}

/* ---- events ----------------------------------------------------------------- */
function onEvent(ev) {
  state.events++;
  const p = ev.payload || {};
  if (!MARKET.has(ev.type) || $("log-market").checked) logLine(ev.time, ev.type, describe(ev), severityOf(ev));
  switch (ev.type) {
    case "equity":
      setAccount(p);
      remember(state.live.equity, typeof p.time_ms === "number" ? p : Object.assign({}, p, { time_ms: ev.time }));
      rebuildEquity();
      break;
    case "position": {
      /* an event older than the snapshot already shown does not take it back */
      state.positions.set(p.symbol, p);
      state.posEventAt.set(p.symbol, performance.now());
      paint(renderPositions);
      if (state.exits.has(p.symbol)) refreshExits();
      break;
    }
    case "mark_price": {
      const pos = state.positions.get(p.symbol);
      if (pos) { pos.mark_price = p.mark_price; paint(renderPositions); }
      break;
    }
    case "order_update": {
      remember(state.live.orders, p);
      if (M.mergeOrder(state.orders, p)) paint(renderOrders);
      refreshSignals();
      const tie = M.applyExitUpdate(state.exits, p);
      if (tie !== "none") paint(renderExits);
      if (tie === "reload") refreshExits();
      break;
    }
    case "fill":
      remember(state.live.fills, p);
      noteTrade(p);
      paint(rebuildFills);
      paint(renderPositions);
      break;
    case "signal": case "order_intent":
      refreshSignals();
      break;
    case "ess_state":
      state.ess = Object.assign({}, state.ess || {}, { state: p.state, trips: p.trips, resets: p.resets,
        cooldown_until_ms: p.cooldown_until_ms });
      if (p.state !== "ARMED") Object.assign(state.ess, { trip_reason: p.reason, tripped_at_ms: p.time_ms || ev.time });
      renderEss();
      refreshEss();
      break;
    case "policy":
      refreshPolicy();
      break;
    case "health":
      state.health.set(p.component, { status: p.status, reason: p.reason });
      renderHealth();
      break;
    case "regime":
      state.regimes.set(p.symbol, p);
      renderRegimes();
      break;
    default:
      break;
  }
}

function onMessage(msg) {
  if (typeof msg.seq === "number") {
    if (state.lastSeq && msg.seq !== state.lastSeq + 1)
      logLine(Date.now(), "feed", `message gap: ${state.lastSeq} → ${msg.seq}`, "WARNING sys");
    state.lastSeq = msg.seq;
  }
  if (msg.type === "hello") {
    logLine(msg.time, "feed", `connected · batches of ≤${msg.batch_max_events} events / ${msg.batch_max_ms} ms`, "sys");
    return;
  }
  if (msg.type !== "batch") return;
  for (const ev of msg.events || []) {
    if (ev.type === "missed") {
      state.missed += ev.count;
      logLine(Date.now(), "feed", `${ev.count} events missed (too fast for this page); resyncing`, "WARNING sys");
      refreshAll();
      continue;
    }
    onEvent(ev);
  }
  $("log-stats").textContent = `${state.events} events · ${state.missed} missed`;
}

/* ---- WebSocket with reconnect ------------------------------------------------ */
let ws = null, attempt = 0;
function setConn(cls, text) {
  $("conn").className = "conn " + cls;
  $("conn-text").textContent = text;
}
function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  setConn("", attempt ? `reconnecting (${attempt})` : "connecting");
  try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
  ws.onopen = () => {
    attempt = 0;
    state.lastSeq = 0;
    state.live = { orders: [], fills: [], equity: [] };
    state.offlineSince = 0;
    setConn("live", "live");
    renderBanner();
    loadAll().catch(() => {});   /* the snapshot after subscribing: no gap */
  };
  ws.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch (e) { return; }
    onMessage(msg);
  };
  ws.onclose = (e) => {
    logLine(Date.now(), "feed", `disconnected (${e.code}${e.reason ? " " + e.reason : ""})`, "WARNING sys");
    if (!state.offlineSince) state.offlineSince = Date.now();
    scheduleReconnect();
  };
  ws.onerror = () => {};
}
function scheduleReconnect() {
  attempt++;
  const delay = Math.min(30000, 500 * 2 ** Math.min(attempt - 1, 6)) * (0.8 + Math.random() * 0.4);
  state.retryAt = Date.now() + delay;
  showOffline();
  setTimeout(connect, delay);
}
function showOffline() {
  if (!state.offlineSince) return;
  const left = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  setConn("down", `offline · retry in ${left} s`);
  renderBanner();
}

/* ---- banner: what the operator must know before trusting the figures ----- */
function renderBanner() {
  const lines = [];
  if (state.offlineSince)
    lines.push(["crit", `Live feed lost at ${hms(state.offlineSince)} UTC: figures below may be stale. Reconnecting…`]);
  if (state.ess && state.ess.state && state.ess.state !== "ARMED")
    lines.push(["crit", `Trading halted: the ESS is ${state.ess.state} (${state.ess.trip_reason || "no reason given"}).`]);
  for (const [path, why] of state.apiErrors)
    if (!(state.offlineSince && !why.startsWith("HTTP"))) lines.push(["warn", `${path}: ${why}`]);   /* said above */
  const box = $("banner");
  box.replaceChildren(...lines.map(([cls, text]) => el("div", cls, text)));
  box.hidden = !lines.length;
}

/* ---- actions ------------------------------------------------------------------ */
const TOKEN_KEY = "qtr_api_token";
function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
function showToken() { $("token-state").textContent = token() ? "token set" : "no token"; }
function say(id, text, ok) { const m = $(id); m.textContent = text; m.className = "msg " + (ok ? "ok" : "err"); }

async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  return api(path, { method: "POST", headers, body: JSON.stringify(body) }, ACTION_TIMEOUT_MS);
}
function explain(r) {
  if (r.status === 401) return "Token missing or wrong: set the API token below.";
  if (r.status === -1) return `no answer within ${ACTION_TIMEOUT_MS / 1000} s: look at the state above before trying again.`;
  return (r.body && r.body.error) || `HTTP ${r.status}`;
}
async function essAction(kind) {
  const reason = $("ess-reason").value.trim();
  if (!reason) { say("ess-msg", "A reason is required.", false); $("ess-reason").focus(); return; }
  const body = { reason, user: $("ess-user").value.trim() || "dashboard", force: $("ess-force").checked };
  const btns = [$("btn-trip"), $("btn-reset")];
  btns.forEach((b) => { b.disabled = true; });
  try {
    const r = await post(kind === "trip" ? "/api/ess/trip" : "/api/ess/reset", body);
    if (r.status === 200) {
      if (r.body && r.body.ess) { state.ess = r.body.ess; renderEss(); }
      say("ess-msg", kind === "trip" ? "ESS tripped." : "ESS reset.", true);
      $("ess-reason").value = "";
    } else {
      if (r.body && r.body.ess) { state.ess = r.body.ess; renderEss(); }
      say("ess-msg", `${kind === "trip" ? "Trip" : "Reset"} ${r.status === -1 ? "not confirmed" : "refused"}: ${explain(r)}`, false);
    }
  } catch (e) {
    say("ess-msg", "Server unreachable.", false);
  } finally {
    btns.forEach((b) => { b.disabled = false; });
  }
}
async function reloadPolicy() {
  try {
    const r = await post("/api/policy/reload", { user: $("ess-user").value.trim() || "dashboard" });
    if (r.body && r.body.policy) { state.policy = r.body.policy; renderPolicy(); }
    say("policy-msg", r.status === 200 ? "Policy reloaded." : `Reload ${r.status === -1 ? "not confirmed" : "refused"}: ${explain(r)}`, r.status === 200);
  } catch (e) {
    say("policy-msg", "Server unreachable.", false);
  }
}

/* ---- equity chart (canvas, no library) ----------------------------------------- */
let drawQueued = false, hoverX = null;
function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; drawChart(); });
}
function niceStep(range, ticks) {
  const raw = range / Math.max(1, ticks);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / mag;
  return (n >= 5 ? 10 : n >= 2 ? 5 : n >= 1 ? 2 : 1) * mag;
}
function drawChart() {
  const cv = $("equity-chart");
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = cv.clientHeight;
  if (!w || !h) return;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pts = state.points.filter((p) => Number.isFinite(p.v));
  const L = 64, R = 12, T = 10, B = 22;
  const pw = w - L - R, ph = h - T - B;
  g.font = "11px ui-monospace, Menlo, Consolas, monospace";
  if (pts.length < 2) {
    g.fillStyle = "#7b8696";
    g.fillText(pts.length ? "waiting for more equity points…" : "no equity history yet", L, T + ph / 2);
    $("eq-range").textContent = "";
    delete cv.dataset.leftMs; delete cv.dataset.rightMs;
    return;
  }
  let lo = Infinity, hi = -Infinity;
  for (const p of pts) { lo = Math.min(lo, p.v); hi = Math.max(hi, p.v); }
  if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  const padv = (hi - lo) * 0.08;
  lo -= padv; hi += padv;
  /* time runs left to right: the oldest point at the left edge, the newest at the right */
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  const x = (t) => L + (t1 === t0 ? pw : ((t - t0) / (t1 - t0)) * pw);
  cv.dataset.leftMs = String(t0);
  cv.dataset.rightMs = String(t1);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * ph;
  /* grid and labels */
  const step = niceStep(hi - lo, 5);
  g.strokeStyle = "#1a2230"; g.fillStyle = "#7b8696"; g.lineWidth = 1;
  g.textAlign = "right"; g.textBaseline = "middle";
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    g.beginPath(); g.moveTo(L, yy); g.lineTo(L + pw, yy); g.stroke();
    g.fillText(v.toLocaleString("en-US", { maximumFractionDigits: step < 1 ? 2 : 0 }), L - 6, yy);
  }
  g.textAlign = "center"; g.textBaseline = "top";
  const nx = Math.max(2, Math.floor(pw / 110));
  /* labels as fine as the span needs: seconds under 10 min, the date over a day */
  const span = t1 - t0;
  const tickLabel = (t) => span >= 86400000 ? stamp(t).slice(5, 16) : span < 600000 ? hms(t) : hms(t).slice(0, 5);
  for (let i = 0; i <= nx; i++) {
    const t = t0 + ((t1 - t0) * i) / nx;
    const xx = Math.round(x(t)) + 0.5;
    g.beginPath(); g.moveTo(xx, T); g.lineTo(xx, T + ph); g.stroke();
    g.fillText(tickLabel(t), Math.min(Math.max(xx, L + 30), L + pw - 30), T + ph + 5);
  }
  /* area and line */
  const first = pts[0].v, last = pts[pts.length - 1].v;
  const up = last >= first;
  const color = up ? "#2fbf71" : "#ff5c5c";
  const grad = g.createLinearGradient(0, T, 0, T + ph);
  grad.addColorStop(0, up ? "rgba(47,191,113,0.28)" : "rgba(255,92,92,0.28)");
  grad.addColorStop(1, "rgba(0,0,0,0)");
  g.beginPath();
  g.moveTo(x(pts[0].t), y(pts[0].v));
  for (const p of pts) g.lineTo(x(p.t), y(p.v));
  g.lineTo(x(t1), T + ph); g.lineTo(x(t0), T + ph); g.closePath();
  g.fillStyle = grad; g.fill();
  g.beginPath();
  g.moveTo(x(pts[0].t), y(pts[0].v));
  for (const p of pts) g.lineTo(x(p.t), y(p.v));
  g.strokeStyle = color; g.lineWidth = 1.6; g.stroke();
  /* start level and last value */
  g.setLineDash([3, 4]); g.strokeStyle = "#3a4658";
  g.beginPath(); g.moveTo(L, y(first)); g.lineTo(L + pw, y(first)); g.stroke();
  g.setLineDash([]);
  const lx = x(pts[pts.length - 1].t), ly = y(last);
  g.fillStyle = color; g.beginPath(); g.arc(lx, ly, 3, 0, Math.PI * 2); g.fill();
  const label = group(pts[pts.length - 1].s);
  g.font = "bold 11px ui-monospace, Menlo, Consolas, monospace";
  const tw = g.measureText(label).width + 10;
  g.fillStyle = color; g.fillRect(Math.min(lx - tw - 6, L + pw - tw), ly - 9, tw, 18);
  g.fillStyle = "#081018"; g.textAlign = "left"; g.textBaseline = "middle";
  g.fillText(label, Math.min(lx - tw - 6, L + pw - tw) + 5, ly);
  const change = M.subDec(pts[pts.length - 1].s, pts[0].s);
  $("eq-range").textContent = `${stamp(t0).slice(0, 19)} → ${stamp(t1).slice(0, 19)} UTC · ${change === null ? "—" : signed(change)}`;
  $("eq-range").className = "num " + pnlClass(change);
  /* hover crosshair */
  const tip = $("chart-tip");
  if (hoverX === null || hoverX < L || hoverX > L + pw) { tip.hidden = true; return; }
  const tt = t0 + ((hoverX - L) / pw) * (t1 - t0);
  let best = pts[0];
  for (const p of pts) if (Math.abs(p.t - tt) < Math.abs(best.t - tt)) best = p;
  const bx = x(best.t), by = y(best.v);
  g.strokeStyle = "#4b5a70"; g.beginPath(); g.moveTo(bx + 0.5, T); g.lineTo(bx + 0.5, T + ph); g.stroke();
  g.fillStyle = "#e8eef6"; g.beginPath(); g.arc(bx, by, 3, 0, Math.PI * 2); g.fill();
  tip.hidden = false;
  tip.textContent = `${stamp(best.t)}  ${group(best.s)}`;
  tip.style.left = Math.max(0, Math.min(bx + 10, w - tip.offsetWidth - 4)) + "px";
  tip.style.top = Math.max(by - 28, 0) + "px";
}

/* ---- start ------------------------------------------------------------------------ */
function tick() { $("clock").textContent = hms(Date.now()) + " UTC"; showOffline(); }
document.addEventListener("DOMContentLoaded", () => {
  $("btn-trip").addEventListener("click", () => essAction("trip"));
  $("btn-reset").addEventListener("click", () => essAction("reset"));
  $("btn-reload").addEventListener("click", reloadPolicy);
  $("ess-form").addEventListener("submit", (e) => e.preventDefault());
  $("btn-token").addEventListener("click", () => {
    const v = $("token").value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
    $("token").value = "";
    showToken();
  });
  const cv = $("equity-chart");
  cv.addEventListener("mousemove", (e) => { hoverX = e.offsetX; scheduleDraw(); });
  cv.addEventListener("mouseleave", () => { hoverX = null; scheduleDraw(); });
  new ResizeObserver(scheduleDraw).observe(cv);
  showToken();
  tick();
  setInterval(tick, 1000);
  setInterval(() => { if (!state.offlineSince) pollStatus().catch(() => {}); }, STATUS_POLL_MS);
  connect();
});
