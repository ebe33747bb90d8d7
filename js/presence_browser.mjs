// Drives headless Chromium through presence and "to others" on an app whose channel `$room` has
// presence: Alice opens a tab, Bob opens one, Alice opens a second tab; Alice's first tab sends a
// fetch that publishes to others (her second tab and Bob's get it); Alice closes her second tab,
// then her first. The app's presence handlers and
// the channel handler record what they see in `window.__log`. Prints one JSON line with every
// tab's log; exits non-zero on failure.
// Usage: node presence_browser.mjs <base-url>
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "package.json"));
const { chromium } = require("playwright-core");

const [base] = process.argv.slice(2);
const channel = "$room";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync"],
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));
async function open(context) {
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("pageerror", String(error)));
  await page.goto(base + "/");
  // Subscribed and the first `here` handled.
  await page.waitForFunction(() => (window.__log || []).some((entry) => entry[0] === "here"), null, { timeout: 20000 });
  return page;
}
const log = (page) => page.evaluate(() => window.__log);
async function user(name) {
  const context = await browser.newContext();
  await context.addCookies([{ name: "user", value: name, url: base }]);
  return context;
}

try {
  const alice = await user("alice");
  const bob = await user("bob");
  const a1 = await open(alice);
  const b1 = await open(bob);
  await a1.waitForFunction(() => window.__log.some((e) => e[0] === "joining"), null, { timeout: 20000 });
  // A second tab of Alice: Bob hears nothing, Alice's first tab neither.
  const a2 = await open(alice);
  await settle();
  const hereInA2 = await a2.evaluate((name) => window.instant.here(name), channel);
  const beforeClose = await log(b1);
  // To others: Alice's first tab posts; the event reaches Bob's tab and Alice's second, not hers.
  const reply = await a1.evaluate(async () => {
    const response = await fetch("/act", { method: "POST" });
    return { status: response.status, body: await response.json(), clientId: window.instant.clientId };
  });
  // The same through XMLHttpRequest (what htmx and jQuery send).
  const xhrReply = await a1.evaluate(() => new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/act");
    xhr.onload = () => resolve({ status: xhr.status, body: JSON.parse(xhr.responseText) });
    xhr.send();
  }));
  for (const page of [b1, a2]) {
    await page.waitForFunction(() => window.__log.filter((e) => e[0] === "event").length === 2, null, { timeout: 20000 });
  }
  await settle();
  const a2Log = await log(a2);
  await a2.close();
  await settle();
  const afterSecondTabClosed = await log(b1);
  const a1BeforeLeaving = await log(a1);
  await a1.close();
  await b1.waitForFunction(() => window.__log.some((e) => e[0] === "leaving"), null, { timeout: 20000 });
  await settle();
  console.log(JSON.stringify({
    a1: a1BeforeLeaving,
    a2: a2Log,
    b1: await log(b1),
    b1BeforeClose: beforeClose,
    b1AfterSecondTabClosed: afterSecondTabClosed,
    hereInA2,
    reply,
    xhrReply,
  }));
  await browser.close();
} catch (error) {
  console.error(String(error && error.stack || error));
  await browser.close();
  process.exit(1);
}
