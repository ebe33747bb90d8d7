// Drives headless Chromium through the demo: log in as admin, open /a/path, publish an event on a
// channel that only that path joins, and wait for the page's per-channel handler to add it to the
// DOM. Prints one JSON line per step; exits non-zero on failure.
// Usage: node browser.mjs <base-url> <screenshot-dir>   (INSTANT_JS_DIR = the js/ directory)
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.INSTANT_JS_DIR, "package.json"));
const { chromium } = require("playwright-core");

const [base, artifacts] = process.argv.slice(2);
const report = (step, detail = {}) => console.log(JSON.stringify({ step, ...detail }));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync"],
});
let page;
try {
  const context = await browser.newContext();
  page = await context.newPage();
  const consoleLines = [];
  const tokenRequests = { connection: 0, subscription: 0 };
  page.on("request", (request) => {
    if (request.url().endsWith("/instant/auth/connection")) { tokenRequests.connection += 1; }
    if (request.url().endsWith("/instant/auth/subscription")) { tokenRequests.subscription += 1; }
  });
  page.on("console", (msg) => consoleLines.push(msg.text()));
  page.on("pageerror", (error) => report("pageerror", { message: String(error) }));

  await page.goto(base + "/login");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "demo");
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
  report("logged-in", { text: await page.textContent("body > p") });

  await page.goto(base + "/a/path");
  const config = JSON.parse(await page.textContent("#instant-config"));
  report("config", { channels: config.channels.map((c) => c.name), token: config.token !== "", ws_url: config.ws_url });

  const channel = "$mysite_admin1";
  await page.waitForFunction((name) => window.instant && window.instant.subscriptions[name]
    && window.instant.subscriptions[name].state === "subscribed", channel, { timeout: 20000 });
  report("subscribed", { channel });
  await page.evaluate(() => {
    window.__instantDrops = 0;
    window.instant.centrifuge.on("disconnected", () => { window.__instantDrops += 1; });
    window.instant.centrifuge.on("connecting", () => { window.__instantDrops += 1; });
  });

  // Tokens live a few seconds (INSTANT_TOKEN_TTL): centrifuge-js renews them through getToken,
  // which calls the auth routes, and the page stays connected and subscribed.
  const deadline = Date.now() + 30000;
  while ((tokenRequests.connection === 0 || tokenRequests.subscription === 0) && Date.now() < deadline) {
    await page.waitForTimeout(250);
  }
  await page.waitForTimeout(1000);
  report("refreshed", { ...tokenRequests, drops: await page.evaluate(() => window.__instantDrops) });

  const message = "Hello from the browser test " + Date.now();
  const reply = await page.evaluate(async ([channel, message]) => {
    const response = await fetch("/instant/publish", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ channel, message, event_class: "object created", data: { n: 1 } }),
    });
    return { status: response.status, body: await response.json() };
  }, [channel, message]);
  report("published", reply);

  const item = await page.waitForSelector(`#events li[data-channel="${channel}"]`, { timeout: 20000 });
  report("handled", {
    text: await item.textContent(),
    label: await item.$eval(".i-label", (el) => el.className),
  });
  await page.screenshot({ path: path.join(artifacts, "demo-a-path.png"), fullPage: true });
  report("screenshot", { path: path.join(artifacts, "demo-a-path.png") });
  // The superuser frontend joins every channel whatever its paths, and publishes from its form.
  await page.goto(base + "/instant/");
  const frontendChannels = JSON.parse(await page.textContent("#instant-config")).channels.map((c) => c.name);
  report("frontend-config", { channels: frontendChannels });
  await page.waitForFunction(() => window.instant && Object.values(window.instant.subscriptions).length > 0
    && Object.values(window.instant.subscriptions).every((s) => s.state === "subscribed"), null, { timeout: 20000 });
  await page.selectOption("#instant-channel", "$mysite_staff1");
  await page.fill("#instant-message", "From the frontend form");
  await page.click(".quick button[data-class=warning]");
  await page.click("#instant-publish button[type=submit]");
  const row = await page.waitForSelector("#instant-feed tr", { timeout: 20000 });
  report("frontend-feed", {
    row: await row.textContent(),
    label: await row.$eval(".i-label", (el) => el.className),
    count: await page.textContent('#instant-channels li[data-channel="$mysite_staff1"] .count'),
    result: await page.textContent("#instant-publish-result"),
  });
  await page.screenshot({ path: path.join(artifacts, "demo-frontend.png"), fullPage: true });
  // An anonymous visitor connects without a token and gets public events only.
  const anonymous = await (await browser.newContext()).newPage();
  await anonymous.goto(base + "/");
  const anonymousConfig = JSON.parse(await anonymous.textContent("#instant-config"));
  report("anonymous-config", { channels: anonymousConfig.channels.map((c) => c.name), token: anonymousConfig.token });
  await anonymous.waitForFunction(() => window.instant && Object.values(window.instant.subscriptions).length > 0
    && Object.values(window.instant.subscriptions).every((s) => s.state === "subscribed"), null, { timeout: 20000 });
  await page.selectOption("#instant-channel", "mysite_public2");
  await page.fill("#instant-message", "For everyone");
  await page.click("#instant-publish button[type=submit]");
  const publicItem = await anonymous.waitForSelector('#events li[data-channel="mysite_public2"]', { timeout: 20000 });
  report("anonymous-handled", { text: await publicItem.textContent() });

  report("console", { lines: consoleLines.filter((l) => l.startsWith("instant")).slice(0, 200) });
  await browser.close();
  report("done");
} catch (error) {
  report("error", { message: String(error && error.stack || error) });
  if (page) {
    try { await page.screenshot({ path: path.join(artifacts, "demo-a-path-failure.png"), fullPage: true }); } catch {}
  }
  await browser.close();
  process.exit(1);
}
