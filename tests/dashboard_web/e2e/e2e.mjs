// Drives the operator's page in headless chromium (see run_e2e.sh).
import { launchChromium } from "./browser.mjs";
import assert from "node:assert/strict";

const url = process.env.DASH_URL;
const token = process.env.DASH_TOKEN;
const shot = process.env.SHOT;

const context = await launchChromium({ width: 1600, height: 1000 });
const problems = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // the one expected error: the deliberate wrong-token request below (401)
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("status of 401")) problems.push("console error: " + m.text());
  });
  // nothing may be fetched from outside the server
  page.on("request", (r) => { if (!r.url().startsWith(url.replace(/\/$/, "")) && !r.url().startsWith("ws://127.0.0.1") && !r.url().startsWith("data:")) problems.push("outside request: " + r.url()); });
  page.setDefaultTimeout(15000);

  await page.goto(url);
  await page.waitForSelector("#conn.live");
  await page.waitForFunction(() => document.querySelector("#k-equity").textContent !== "—");
  await page.waitForSelector("#t-positions tbody tr >> text=BTCUSDT");
  await page.waitForSelector("#health-list li.DEGRADED");
  // exit plans next to the positions, from /api/exits; the take-profit's order update on the
  // WebSocket shows on its plan's row, tied by client id (the list itself carries no status)
  await page.waitForSelector("#t-exits tbody tr[data-symbol=BTCUSDT]");
  await page.waitForSelector('#t-exits [data-cid="qtr-demo-e1"]');
  await page.waitForSelector('#t-exits [data-cid="qtr-demo-e2"][data-status="NEW"]', { timeout: 20000 });
  assert.equal(await page.getAttribute('#t-exits [data-cid="qtr-demo-e1"]', "data-status"), null);
  // the regime panel: the latest from /api/status, then each change over the WebSocket
  await page.waitForSelector("#t-regimes tbody tr >> text=BTCUSDT");
  await page.waitForSelector("#t-regimes td.regime-range");
  await page.waitForSelector("#t-regimes td.regime-trend_up");

  // a live update arrives over the WebSocket
  const eventsBefore = await page.evaluate(() => parseInt(document.querySelector("#log-stats").textContent) || 0);
  await page.waitForFunction((n) => (parseInt(document.querySelector("#log-stats").textContent) || 0) > n + 3, eventsBefore);
  await page.waitForSelector("#log li >> text=equity");
  await page.waitForSelector("#t-fills tbody tr:not(.empty)", { timeout: 20000 });

  // trip needs a reason
  await page.click("#btn-trip");
  await page.waitForSelector("#ess-msg.err >> text=reason is required");

  // a wrong token is refused and nothing changes
  await page.fill("#token", "not-the-token");
  await page.click("#btn-token");
  await page.fill("#ess-reason", "e2e wrong token");
  await page.click("#btn-trip");
  await page.waitForSelector("#ess-msg.err >> text=Token missing or wrong");
  assert.equal(await page.textContent("#ess-state"), "ARMED");

  // the right token: trip, then reset, each with a reason
  await page.fill("#token", token);
  await page.click("#btn-token");
  await page.waitForSelector("#token-state >> text=token set");
  await page.fill("#ess-user", "e2e");
  await page.fill("#ess-reason", "e2e trip from the browser");
  await page.click("#btn-trip");
  await page.waitForSelector("#ess-state.TRIPPED");
  await page.waitForSelector("#b-ess.crit");
  await page.waitForSelector("#log li >> text=e2e trip from the browser");   // the ESS event came back live
  await page.fill("#ess-reason", "e2e reset after check");
  await page.click("#btn-reset");
  await page.waitForSelector("#ess-state.ARMED");
  const ess = await (await fetch(url + "api/ess")).json();
  assert.equal(ess.state, "ARMED");
  assert.equal(ess.trips, 1);
  assert.equal(ess.resets, 1);

  // the token lives in sessionStorage, not in the page
  assert.equal(await page.evaluate(() => sessionStorage.getItem("qtr_api_token")), token);
  assert.equal(await page.inputValue("#token"), "");

  await page.fill("#ess-reason", "");
  await page.waitForTimeout(600);          // let the chart take a few more points
  await page.screenshot({ path: shot, fullPage: true });
  assert.deepEqual(problems, []);
  console.log("browser test passed: live updates, ESS trip and reset, screenshot " + shot);
} catch (e) {
  console.error("problems:", problems);
  throw e;
} finally {
  await context.close();
}
