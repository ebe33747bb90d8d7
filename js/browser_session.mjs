// Keeps one page open in headless Chromium and answers commands on stdin, one per line, with one
// JSON line on stdout each, so that a Rust test can cut the network or restart the server while
// the page lives. Records every event the page receives (instant.addListener), every
// `instant:resync`, and every disconnection.
// Usage: node browser_session.mjs <page-url>
// Commands:
//   subscribed           wait until the page is connected and every channel subscribed
//   resubscribed         wait until the page was disconnected at least once, then as subscribed
//   collect <ch> <n>     wait until the page has <n> events of channel <ch> (or 30 s)
//   resync <ch>          wait until the page saw `instant:resync` for <ch> (or 30 s)
//   report               the events, resyncs and disconnections so far
//   quit
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "package.json"));
const { chromium } = require("playwright-core");

const [url] = process.argv.slice(2);
const say = (step, detail = {}) => console.log(JSON.stringify({ step, ...detail }));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const page = await browser.newPage();
page.on("pageerror", (error) => say("pageerror", { message: String(error) }));
await page.addInitScript(() => {
  window.__events = {};
  window.__resync = [];
  window.__drops = 0;
  document.addEventListener("instant:resync", (e) => window.__resync.push(e.detail.channel));
  document.addEventListener("instant:event", (e) => {
    const event = e.detail;
    (window.__events[event.channel] = window.__events[event.channel] || []).push(event.data && event.data.n);
  });
});
await page.goto(url);
await page.waitForFunction(() => window.instant && window.instant.centrifuge, null, { timeout: 10000 });
await page.evaluate(() => {
  window.instant.centrifuge.on("disconnected", () => { window.__drops += 1; });
  window.instant.centrifuge.on("connecting", (ctx) => { if (ctx.code !== 0) { window.__drops += 1; } });
});

const allSubscribed = () => window.instant.centrifuge.state === "connected"
  && Object.values(window.instant.subscriptions).every((s) => s.state === "subscribed");
const report = () => page.evaluate(() => ({
  events: window.__events, resync: window.__resync, drops: window.__drops,
  state: window.instant.centrifuge.state,
}));

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, ...args] = line.trim().split(/\s+/);
  try {
    if (command === "subscribed") {
      await page.waitForFunction(allSubscribed, null, { timeout: 20000 });
      say("subscribed", await report());
    } else if (command === "resubscribed") {
      await page.waitForFunction(() => window.__drops > 0, null, { timeout: 20000 });
      await page.waitForFunction(allSubscribed, null, { timeout: 30000 });
      say("resubscribed", await report());
    } else if (command === "collect") {
      const [channel, n] = [args[0], Number(args[1])];
      await page.waitForFunction(([c, n]) => (window.__events[c] || []).length >= n, [channel, n], { timeout: 30000 })
        .catch(() => {});
      say("collected", await report());
    } else if (command === "resync") {
      await page.waitForFunction((c) => window.__resync.includes(c), args[0], { timeout: 30000 }).catch(() => {});
      say("resync", await report());
    } else if (command === "report") {
      say("report", await report());
    } else if (command === "quit") {
      break;
    } else {
      say("error", { message: "unknown command " + command });
    }
  } catch (error) {
    say("error", { message: String(error), ...(await report().catch(() => ({}))) });
  }
}
await browser.close();
