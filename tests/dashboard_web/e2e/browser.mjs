// Headless Debian chromium for the browser tests (run_e2e.sh): one profile
// folder ($USER_DATA_DIR) a script, no network of its own (no sync, no
// component updates, no QUIC), a fixed window size.
import { chromium } from "playwright-core";

export function launchChromium(viewport) {
  return chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport,
  });
}
