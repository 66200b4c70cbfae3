// The backtest's HTML report (`qtr backtest --html`) in headless chromium
// (see run_e2e.sh), read the way a user reads it:
//  - it loads from a file with nothing else fetched, no script error, no
//    console error;
//  - four charts, each drawn (a line of many points) at a readable size;
//  - every label of every chart (values, times, trade markers) lies inside
//    its drawing: none is cut at the edge, whatever the size of the numbers
//    (a run of 10,000 and one of 1,000,000 starting equity);
//  - one table row per trade, as the JSON report counts them;
//  - at 1280 and at 800 px the page is no wider than the window, and at
//    1280 px no table scrolls sideways inside it.
// Leaves a screenshot of each in $SHOT_DIR (report-<name>.png).
import { launchChromium } from "./browser.mjs";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const QTR = process.env.QTR_BIN;
const PLUGINS = process.env.QTR_PLUGIN_DIR;
const SRC = process.env.QTR_SOURCE_DIR;
const WORK = process.env.WORK_DIR;
const SHOTS = process.env.SHOT_DIR;
const DATA = path.join(SRC, "..", "shared", "data");

function backtest(name, extra) {
  const html = path.join(WORK, name + ".html"), json = path.join(WORK, name + ".json");
  execFileSync(QTR, ["backtest", "-c", path.join(SRC, "examples", "backtest-xrp.lua"),
    "--data", path.join(DATA, "XRPUSDT-perp-5m.csv"), "--funding", path.join(DATA, "XRPUSDT-perp-funding-8h.csv"),
    "--html", html, "--json", json, "--quiet", ...extra],
    { env: { ...process.env, QTR_PLUGIN_PATH: PLUGINS }, timeout: 60000, stdio: ["ignore", "ignore", "inherit"] });
  return { html, report: JSON.parse(fs.readFileSync(json, "utf8")) };
}

const context = await launchChromium({ width: 1280, height: 900 });
try {
  for (const [name, extra] of [["report-10k", []], ["report-1m", ["--set", "account.starting_balance=1000000"]]]) {
    const { html, report } = backtest(name, extra);
    const url = "file://" + html;
    const problems = [];
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
    page.on("request", (r) => { if (r.url() !== url) problems.push("request: " + r.url()); });
    page.setDefaultTimeout(15000);
    await page.goto(url);

    const charts = await page.evaluate(() => [...document.querySelectorAll("svg")].map((svg) => {
      const vb = svg.viewBox.baseVal, box = svg.getBoundingClientRect();
      const line = svg.querySelector("polyline");
      const outside = [];
      for (const t of svg.querySelectorAll("text")) {
        const b = t.getBBox();
        if (b.x < vb.x || b.y < vb.y || b.x + b.width > vb.x + vb.width || b.y + b.height > vb.y + vb.height)
          outside.push(`'${t.textContent}' at x ${b.x.toFixed(1)}..${(b.x + b.width).toFixed(1)}, ` +
                       `y ${b.y.toFixed(1)}..${(b.y + b.height).toFixed(1)}`);
      }
      return { title: svg.previousElementSibling ? svg.previousElementSibling.textContent : "?",
               view: `${vb.x} ${vb.y} ${vb.width} ${vb.height}`, width: box.width, height: box.height,
               points: line ? line.points.numberOfItems : 0, texts: svg.querySelectorAll("text").length, outside };
    }));
    assert.equal(charts.length, 4, `${name}: equity, drawdown, price with trades, position`);
    for (const c of charts) {
      assert.ok(c.width >= 600 && c.height >= 120, `${name} '${c.title}': drawn at ${c.width}x${c.height}`);
      assert.ok(c.points > 100, `${name} '${c.title}': a line of ${c.points} points`);
      assert.ok(c.texts >= 4, `${name} '${c.title}': ${c.texts} labels (high, low, start, end)`);
      assert.deepEqual(c.outside, [], `${name} '${c.title}' (viewBox ${c.view}): labels cut at its edge`);
    }
    // the price chart carries a marker at each trade's opening and closing
    assert.equal(charts[2].texts, 4 + 2 * report.trades, `${name}: a marker each side of each trade`);
    const rows = await page.locator("h2:has-text('Trades') + table tr").count();
    assert.equal(rows - 1, report.trades, `${name}: one row per trade`);
    // a narrow window scrolls the page down, never sideways: a wide table
    // scrolls inside itself
    for (const width of [1280, 800]) {
      await page.setViewportSize({ width, height: 900 });
      const wide = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(wide[0] <= wide[1], `${name} at ${width} px: the page is ${wide[0]} px wide in a ${wide[1]} px window`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    // ... and at 1280 px no table needs its own scroll bar: every column shows
    const scrolled = await page.evaluate(() => [...document.querySelectorAll("table")]
      .filter((t) => t.scrollWidth > t.clientWidth + 1)
      .map((t) => `${t.previousElementSibling ? t.previousElementSibling.textContent : "the first table"}: ` +
                  `${t.scrollWidth} px in ${t.clientWidth}`));
    assert.deepEqual(scrolled, [], `${name} at 1280 px: tables cut, to be scrolled sideways`);
    await page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
    assert.deepEqual(problems, [], `${name}: nothing fetched, no error`);
    await page.close();
    console.log(`${name}: 4 charts, every label inside its chart, ${report.trades} trades`);
  }
} finally {
  await context.close();
}
