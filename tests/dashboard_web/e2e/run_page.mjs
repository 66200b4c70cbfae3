// The operator's page against a real `qtr run` (see run_e2e.sh): recorded
// candles for eight symbols are replayed while the page is open, so orders,
// fills, positions and equity reach it both in the snapshot and over the
// WebSocket. Checks, the way an operator reads the page:
//  - the equity chart runs left to right, oldest to newest (hover read-out);
//  - one row per order, with its latest state, while events arrive and after
//    a reload, matching /api/orders;
//  - every table newest first;
//  - a tripped ESS, an API error and a lost feed are shown, and the page
//    comes back by itself when the server does.
//  - a narrow window keeps the ESS badge on screen;
//  - a stuck server (SIGSTOP) is reported, and a trip sent to it is not
//    claimed as done.
// Leaves screenshots in $SHOT_DIR (page-run.png, page-offline.png, page-back.png).
import { launchChromium } from "./browser.mjs";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const QTR = process.env.QTR_BIN;
const PLUGINS = process.env.QTR_PLUGIN_DIR;
const SRC = process.env.QTR_SOURCE_DIR;
const WORK = process.env.WORK_DIR;
const SHOTS = process.env.SHOT_DIR;
const TOKEN = process.env.QTR_API_TOKEN;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "1000SHIBUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT"];
const CANDLES = 70;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 20000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(every);
  }
}

/* ---- the market: one-minute candles ending now, a calm rise, then swings
 * (each symbol out of phase) that make the moving averages cross ---------- */
const minute = 60000;
const end = Math.floor(Date.now() / minute) * minute;
const files = SYMBOLS.map((sym, k) => {
  const f = path.join(WORK, sym + ".csv");
  const base = 20 + 13 * k;
  let prev = base, out = "open_time_ms,open,high,low,close,volume\n";
  for (let i = 0; i < CANDLES; i++) {
    const close = i < 25 ? base + i * 0.01 * base / 20 : base * (1.02 + 0.03 * Math.sin((i - 25 + k) / 1.7));
    out += `${end - (CANDLES - i) * minute},${prev.toFixed(4)},${(Math.max(prev, close) * 1.001).toFixed(4)},` +
           `${(Math.min(prev, close) * 0.999).toFixed(4)},${close.toFixed(4)},1000\n`;
    prev = close;
  }
  fs.writeFileSync(f, out);
  return f;
});
const policy = fs.readFileSync(path.join(SRC, "policies", "default.lua"), "utf8")
  .replace(/max_positions = \d+/, "max_positions = 20").replace(/max_symbols = \d+/, "max_symbols = 20");
fs.writeFileSync(path.join(WORK, "policy.lua"), policy);
const config = (port) => {
  const f = path.join(WORK, "qtr.lua");
  fs.writeFileSync(f, `return {
  state_dir = ${JSON.stringify(path.join(WORK, "var"))},
  plugin_path = { ${JSON.stringify(PLUGINS)} },
  market = { source = "csv", files = { ${files.map((x) => JSON.stringify(x)).join(", ")} }, replay_interval_ms = 12 },
  policy = { file = ${JSON.stringify(path.join(WORK, "policy.lua"))} },
  signals = { cycle_ms = 10 },
  plugins = {
    { kind = "exchange", name = "paper" },
    { kind = "risk", name = "policy" },
    { kind = "dashboard", name = "dashboard", file = "dashboard_web.so",
      options = { listen = "127.0.0.1:${port}", batch_max_ms = 50 } },
    { kind = "strategy", name = "ma_cross", options = { fast = 2, slow = 5, order_notional = "150" } },
  },
}
`);
  return f;
};

/* ---- qtr run ------------------------------------------------------------- */
let server = null;
function startServer(port) {
  const log = path.join(WORK, `qtr-${Date.now()}.log`);
  const out = fs.openSync(log, "w");
  const p = spawn(QTR, ["run", "-c", config(port)], { cwd: WORK, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  server = { p, log, text: () => fs.readFileSync(log, "utf8"), exited: null };
  p.on("exit", (code, sig) => { server.exited = { code, sig }; });
  return server;
}
async function stopServer() {
  if (!server || server.exited) return;
  const s = server;
  s.p.kill("SIGTERM");
  await until("qtr to stop", () => s.exited, 15000);
  assert.equal(s.exited.code, 0, "qtr stops cleanly: " + s.text().slice(-2000));
}
async function listening(s) {
  const m = await until("the dashboard to listen", () => {
    if (s.exited) throw new Error("qtr exited: " + s.text().slice(-3000));
    return /dashboard listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(s.text());
  });
  return Number(m[1]);
}
const replayDone = (s) => until("the replay to finish", () => s.text().includes("market replay finished"), 60000);

/* ---- what the page shows --------------------------------------------------- */
const rowsOf = (page, table) => page.$$eval(`#${table} tbody tr:not(.empty)`, (trs) => trs.map((tr) => ({
  t: Number(tr.dataset.t), id: tr.dataset.id, cells: [...tr.cells].map((c) => c.textContent) })));
/* What /api/orders says each order is now: the open list, else the newest
 * of its updates (the host lists them newest first). */
async function apiOrders(base) {
  const j = await (await fetch(base + "api/orders")).json();
  const latest = new Map(), updates = new Map();
  for (const o of j.recent) {
    updates.set(o.client_id, (updates.get(o.client_id) || 0) + 1);
    if (!latest.has(o.client_id)) latest.set(o.client_id, o);
  }
  for (const o of j.open) latest.set(o.client_id, o);
  return { latest, updates };
}
const plain = (s) => s.replace(/,/g, "");
/* Every order row against the API: one row per order, its state now. */
async function ordersMatch(page, base, exact) {
  const rows = await rowsOf(page, "t-orders");
  const { latest } = await apiOrders(base);
  const ids = rows.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, "one row per order: " + ids.join(" "));
  for (const r of rows) {
    const o = latest.get(r.id);
    if (!o) { assert.ok(!exact, `row ${r.id} is not in /api/orders`); continue; }
    assert.equal(r.cells[4], o.status, `order ${r.id}: the row says ${r.cells[4]}, /api/orders ${o.status}`);
    assert.equal(plain(r.cells[7]), o.filled_qty, `order ${r.id}: filled ${r.cells[7]} vs ${o.filled_qty}`);
  }
  // a fresh load shows every order the API knows (100 at least when it knows more)
  if (exact) assert.ok(latest.size <= 100 ? rows.length === latest.size : rows.length >= 100,
    `${rows.length} rows for the ${latest.size} orders of /api/orders`);
  return rows.length;
}
async function newestFirst(page) {
  for (const table of ["t-orders", "t-fills", "t-signals", "t-positions"]) {
    const rows = await rowsOf(page, table);
    assert.ok(rows.length >= 2, `${table} has rows to order (${rows.length})`);
    for (let i = 1; i < rows.length; i++)
      assert.ok(rows[i - 1].t >= rows[i].t, `${table} newest first: row ${i} (${rows[i].t}) is newer than row ${i - 1} (${rows[i - 1].t})`);
  }
}
/* Hover the chart's left and right ends and read the times it shows. */
async function chartEnds(page) {
  const box = await (await page.$("#equity-chart")).boundingBox();
  const read = async (x) => {
    await page.mouse.move(box.x + x, box.y + box.height / 2);
    await page.waitForSelector("#chart-tip:not([hidden])");
    const text = await page.textContent("#chart-tip");
    const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/.exec(text);
    assert.ok(m, "the hover read-out shows a time: " + text);
    return Date.parse(m[1].replace(" ", "T") + "Z");
  };
  const left = await read(66), right = await read(box.width - 14);
  await page.mouse.move(0, 0);
  return { left, right };
}

const problems = [];
const context = await launchChromium({ width: 1600, height: 1100 });
try {
  const s1 = startServer(0);
  const port = await listening(s1);
  const base = `http://127.0.0.1:${port}/`;
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  let expectErrors = false;    // the server is down on purpose, or an error is injected
  page.on("console", (m) => { if (m.type() === "error" && !expectErrors) problems.push("console error: " + m.text()); });
  page.setDefaultTimeout(20000);
  await page.goto(base);
  await page.waitForSelector("#conn.live");

  // while the candles replay: never two rows for one order
  let samples = 0, dupes = [];
  while (!s1.text().includes("market replay finished")) {
    const ids = (await rowsOf(page, "t-orders")).map((r) => r.id);
    if (new Set(ids).size !== ids.length) dupes.push(ids.join(" "));
    samples++;
    if (s1.exited) throw new Error("qtr exited: " + s1.text().slice(-3000));
    await sleep(40);
  }
  assert.deepEqual(dupes, [], "an order shown twice while its events arrived");
  assert.ok(samples >= 5, `the orders table was looked at while trading (${samples} times)`);
  await replayDone(s1);

  // an order the page saw pass through several states
  const { updates } = await apiOrders(base);
  assert.ok([...updates.values()].some((n) => n >= 2), "some order went through more than one state");

  // the live page settles on what the API says, then a fresh load agrees too
  await until("the live orders table to match /api/orders", async () => {
    try { await ordersMatch(page, base, false); return true; } catch (e) { return false; }
  }, 10000, 200);
  await ordersMatch(page, base, false);
  await newestFirst(page);
  // positions are published on fills only; the marks and uPnL shown must
  // still catch up with the server's (no reload)
  await until("the positions' marks and uPnL to match /api/positions", async () => {
    const api = (await (await fetch(base + "api/positions")).json()).positions.filter((p) => !/^-?0(\.0*)?$/.test(p.qty));
    const rows = await rowsOf(page, "t-positions");
    return rows.length === api.length && api.every((p) => {
      const r = rows.find((x) => x.id === p.symbol);
      return r && plain(r.cells[3]) === p.mark_price && plain(r.cells[4]).replace(/^\+/, "") === p.unrealized_pnl;
    });
  }, 12000, 250);
  await page.reload();
  await page.waitForSelector("#conn.live");
  await page.waitForSelector("#t-orders tbody tr:not(.empty)");
  await page.waitForSelector("#t-fills tbody tr:not(.empty)");
  await page.waitForSelector("#t-signals tbody tr:not(.empty)");
  const shown = await ordersMatch(page, base, true);
  assert.ok(shown >= 5, `orders shown after a reload: ${shown}`);
  await newestFirst(page);

  // the chart: the oldest equity point at the left, the newest at the right
  const eq = await (await fetch(base + "api/equity")).json();
  const times = eq.history.map((a) => a.time_ms);
  assert.ok(times.length >= 10, `equity history to draw (${times.length} points)`);
  await page.waitForFunction(() => document.querySelector("#equity-chart").dataset.rightMs);
  const ends = await chartEnds(page);
  assert.ok(ends.left < ends.right, `time runs left to right: ${new Date(ends.left).toISOString()} at the left, ${new Date(ends.right).toISOString()} at the right`);
  assert.equal(Math.floor(ends.left / 1000), Math.floor(Math.min(...times) / 1000), "the oldest point is at the left edge");
  assert.ok(ends.right >= Math.floor(Math.max(...times) / 1000) * 1000, "the newest point is at the right edge");
  const canvas = await page.$eval("#equity-chart", (c) => [Number(c.dataset.leftMs), Number(c.dataset.rightMs)]);
  assert.equal(canvas[0], Math.min(...times));
  assert.ok(canvas[1] >= Math.max(...times));
  const positions = await rowsOf(page, "t-positions");
  assert.ok(positions.length >= 4, `a long list of positions (${positions.length})`);
  await page.screenshot({ path: path.join(SHOTS, "page-run.png"), fullPage: true });

  // a narrow window (half a laptop screen): the ESS badge and the clock stay on screen
  await page.setViewportSize({ width: 800, height: 900 });
  const fit = await page.evaluate(() => {
    const right = (id) => Math.ceil(document.getElementById(id).getBoundingClientRect().right);
    return { width: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth,
             ess: right("b-ess"), clock: right("clock") };
  });
  assert.ok(fit.scroll <= fit.width && fit.ess <= fit.width && fit.clock <= fit.width,
    "nothing sticks out of an 800 px window: " + JSON.stringify(fit));
  await page.setViewportSize({ width: 1600, height: 1100 });

  // a server whose loop is stuck (SIGSTOP stands in for a policy that never
  // returns): its sockets stay open, so only a deadline tells the operator
  expectErrors = true;
  process.kill(s1.p.pid, "SIGSTOP");
  try {
    await page.waitForSelector('#banner >> text="/api/status: no answer within 4 s (server busy or stuck?)"', { timeout: 15000 });
    // the operator trips the ESS meanwhile: the page does not claim it happened
    await page.fill("#token", TOKEN);
    await page.click("#btn-token");
    await page.fill("#ess-reason", "e2e: operator halt");
    await page.fill("#ess-user", "e2e");
    await page.click("#btn-trip");
    await page.waitForSelector("#ess-msg.err >> text=Trip not confirmed: no answer within 10 s", { timeout: 15000 });
    assert.equal(await page.textContent("#ess-state"), "ARMED");
  } finally {
    process.kill(s1.p.pid, "SIGCONT");
  }
  await page.waitForSelector('#banner div:has-text("no answer")', { state: "detached", timeout: 15000 });
  expectErrors = false;

  // a tripped ESS: the page says trading is halted, above everything. (The
  // trip sent while the server was stuck may or may not have reached it.)
  const ess = await (await fetch(base + "api/ess")).json();
  if (ess.state === "ARMED") {
    const trip = await fetch(base + "api/ess/trip", { method: "POST", headers: { Authorization: "Bearer " + TOKEN },
      body: JSON.stringify({ reason: "e2e: operator halt", user: "e2e" }) });
    assert.equal(trip.status, 200);
  }
  await page.waitForSelector("#b-ess:is(.crit, .warn)");
  await page.waitForSelector("#banner >> text=/Trading halted: the ESS is (TRIPPED|COOLDOWN) \\(.*e2e: operator halt/");

  // the server goes away: the page says its figures may be stale and keeps them
  const before = await rowsOf(page, "t-orders");
  expectErrors = true;
  await page.route("**/api/orders", (r) => r.fulfill({ status: 500, contentType: "application/json",
    body: JSON.stringify({ error: "out of memory" }) }));
  await stopServer();
  await page.waitForSelector("#conn.down");
  await page.waitForSelector("#banner >> text=Live feed lost at");
  assert.equal((await rowsOf(page, "t-orders")).length, before.length, "the orders stay on screen while offline");
  await page.screenshot({ path: path.join(SHOTS, "page-offline.png"), fullPage: true });

  // it comes back on the same port: the page reconnects by itself; an
  // /api/orders that answers 500 is reported and the rows are kept, not blanked
  const s2 = startServer(port);
  await listening(s2);
  await page.waitForSelector("#conn.live", { timeout: 40000 });
  await page.waitForSelector('#banner >> text="/api/orders: HTTP 500: out of memory"');
  assert.equal(await page.$("#banner >> text=Live feed lost"), null, "the feed-lost notice goes when the feed is back");
  assert.ok((await rowsOf(page, "t-orders")).length > 0, "an API error does not blank the orders");
  // the ESS stayed tripped across the restart, and the page still says so
  await page.waitForSelector("#banner >> text=Trading halted");
  // the API recovers: the page retries by itself, clears the error and shows the new server's orders
  await page.unroute("**/api/orders");
  await page.waitForSelector('#banner div:has-text("/api/orders")', { state: "detached", timeout: 15000 });
  expectErrors = false;
  await replayDone(s2);
  await until("the orders after the restart to match /api/orders", async () => {
    try { await ordersMatch(page, base, true); return true; } catch (e) { return false; }
  }, 10000, 200);
  await ordersMatch(page, base, true);
  await page.screenshot({ path: path.join(SHOTS, "page-back.png"), fullPage: true });

  assert.deepEqual(problems, []);
  expectErrors = true;
  await stopServer();
  console.log(`page test against qtr run passed: ${shown} orders, ${positions.length} positions, chart ` +
              `${new Date(ends.left).toISOString()} -> ${new Date(ends.right).toISOString()}`);
} catch (e) {
  console.error("problems:", problems);
  if (server) console.error("qtr log tail:\n" + server.text().slice(-3000));
  throw e;
} finally {
  await context.close();
  if (server && !server.exited) server.p.kill("SIGKILL");
}
