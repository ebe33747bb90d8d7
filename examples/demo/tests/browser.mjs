// Drives headless Chromium through the demo: log in as admin, open /a/path, publish an event on a
// channel that only that path joins, and wait for the page's per-channel handler to add it to the
// DOM; then the order pages as `user` (see `orders`). Prints one JSON line per step; exits
// non-zero on failure.
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
  await orders(page);
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

// Publishes through the superuser frontend's route, from the admin's page.
async function publishAs(adminPage, channel, message) {
  return adminPage.evaluate(async ([channel, message]) => {
    const response = await fetch("/instant/publish", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ channel, message, event_class: "object edited" }),
    });
    return { status: response.status, body: await response.json() };
  }, [channel, message]);
}

// Opens `url` in `userPage` with centrifuge.js held back: the page is rendered (its config holds
// the stream positions) but its client has not subscribed yet. `whileHeld(config)` runs in that
// gap; then the client loads.
async function openHeld(userPage, url, whileHeld) {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  let requested;
  const held = new Promise((resolve) => { requested = resolve; });
  await userPage.route("**/instant/static/centrifuge.js", async (route) => {
    requested();
    await gate;
    await route.continue();
  });
  await userPage.goto(url, { waitUntil: "commit" });
  await held;
  await userPage.waitForSelector("#instant-config", { state: "attached" });
  const config = JSON.parse(await userPage.textContent("#instant-config"));
  await whileHeld(config);
  release();
  await userPage.waitForLoadState("load");
  await userPage.unroute("**/instant/static/centrifuge.js");
  return config;
}

// The order pages as `user`, who owns order 1 (a row of the demo's SQLite database) and not
// order 2: an event published between the page's rendering and its subscription is received,
// through the pattern's own handler; the personal channel gets `to_user`-style events; order 2's
// channel is refused at every door; a stale position is reported through the resync hook.
async function orders(adminPage) {
  const context = await browser.newContext();
  const userPage = await context.newPage();
  userPage.on("pageerror", (error) => report("pageerror", { message: String(error) }));
  await userPage.goto(base + "/login");
  await userPage.fill("input[name=username]", "user");
  await userPage.fill("input[name=password]", "demo");
  await Promise.all([userPage.waitForURL(base + "/"), userPage.click("button[type=submit]")]);

  const gapMessage = "Published before the page subscribed " + Date.now();
  const config = await openHeld(userPage, base + "/orders/1", async () => {
    report("order-gap-published", await publishAs(adminPage, "$order_1", gapMessage));
  });
  const order = config.channels.find((c) => c.name === "$order_1");
  report("order-config", {
    channels: config.channels.map((c) => c.name),
    order,
    user: config.user,
    path: config.path,
  });
  const gapItem = await userPage.waitForSelector(`#order-events li[data-order="1"]`, { timeout: 20000 });
  report("order-gap-handled", { text: await gapItem.textContent(), channel: await gapItem.getAttribute("data-channel") });
  // Live, from the frontend's form: a pattern is chosen, then one of its channels named.
  const liveMessage = "Order 1 shipped " + Date.now();
  await adminPage.selectOption("#instant-channel", "$order_{id}");
  const prefilled = await adminPage.inputValue("#instant-name");
  await adminPage.fill("#instant-name", "$order_1");
  await adminPage.fill("#instant-message", liveMessage);
  await adminPage.click("#instant-publish button[type=submit]");
  await adminPage.waitForFunction(() => document.getElementById("instant-publish-result").textContent === "Published.",
    null, { timeout: 20000 });
  report("order-form", { prefilled, result: await adminPage.textContent("#instant-publish-result") });
  await userPage.waitForFunction((text) => Array.from(document.querySelectorAll("#order-events li"))
    .some((li) => li.textContent.includes(text)), liveMessage, { timeout: 20000 });
  try {
    await userPage.waitForFunction(() => document.querySelector("#instant-status").textContent === "connected"
      && document.querySelectorAll('#instant-joined li[data-state="subscribed"]').length
        === window.instant.config.channels.length, null, { timeout: 20000 });
  } catch (error) {
    report("order-page-state", {
      status: await userPage.textContent("#instant-status"),
      joined: await userPage.$$eval("#instant-joined li", (items) => items.map((li) => li.outerHTML)),
    });
    throw error;
  }
  report("order-page", {
    access: await userPage.getAttribute("#order-access", "data-joined"),
    status: await userPage.textContent("#instant-status"),
    joined: await userPage.$$eval("#instant-joined li", (items) => items.map((li) => li.getAttribute("data-channel"))),
    events: await userPage.$$eval("#order-events li", (items) => items.map((li) => li.textContent)),
  });

  // The personal channel: only `user` gets it, through the default handler (no handler of its own).
  const personalMessage = "Your invoice is ready " + Date.now();
  report("personal-published", await publishAs(adminPage, "personal:#user", personalMessage));
  const note = await userPage.waitForSelector(".instant-notification", { timeout: 20000 });
  report("personal-handled", { text: await note.textContent() });
  await userPage.screenshot({ path: path.join(artifacts, "demo-order-1.png"), fullPage: true });
  // The admin's client may not subscribe to user's personal channel, token or not.
  report("personal-refused", await adminPage.evaluate(() => new Promise((resolve) => {
    const sub = window.instant.centrifuge.newSubscription("personal:#user");
    sub.on("subscribed", () => resolve({ subscribed: true }));
    sub.on("error", (ctx) => resolve({ subscribed: false, code: ctx.error && ctx.error.code }));
    sub.on("unsubscribed", (ctx) => resolve({ subscribed: false, code: ctx.code }));
    sub.subscribe();
  })));

  // Order 2 is not user's: the page leaves its channel out, the auth route refuses its token and
  // the server refuses a subscription without one.
  await userPage.goto(base + "/orders/2");
  const refusedConfig = JSON.parse(await userPage.textContent("#instant-config"));
  await userPage.waitForFunction(() => document.querySelector("#instant-status").textContent === "connected", null, { timeout: 20000 });
  const tokenStatus = await userPage.evaluate(async () => (await fetch("/instant/auth/subscription", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ channel: "$order_2" }),
  })).status);
  const subscribe = await userPage.evaluate(() => new Promise((resolve) => {
    const sub = window.instant.centrifuge.newSubscription("$order_2");
    sub.on("subscribed", () => resolve({ subscribed: true }));
    sub.on("error", (ctx) => resolve({ subscribed: false, code: ctx.error && ctx.error.code }));
    sub.on("unsubscribed", (ctx) => resolve({ subscribed: false, code: ctx.code }));
    sub.subscribe();
  }));
  report("order-refused", {
    channels: refusedConfig.channels.map((c) => c.name),
    access: await userPage.getAttribute("#order-access", "data-joined"),
    text: await userPage.textContent("#order-access"),
    tokenStatus,
    subscribe,
  });
  await userPage.screenshot({ path: path.join(artifacts, "demo-order-2.png"), fullPage: true });

  // A position the history cannot serve (another epoch): the subscription is not recovered and
  // the page hears it through the resync hook (`instant:resync`).
  await openHeld(userPage, base + "/orders/1", async () => {
    await userPage.evaluate(() => {
      window.__resyncs = [];
      document.addEventListener("instant:resync", (e) => window.__resyncs.push(e.detail.channel));
      const element = document.getElementById("instant-config");
      const stale = JSON.parse(element.textContent);
      stale.channels.forEach((c) => { if (c.since) { c.since.epoch = "stale"; } });
      element.textContent = JSON.stringify(stale);
    });
  });
  await userPage.waitForFunction(() => window.__resyncs && window.__resyncs.length > 0, null, { timeout: 20000 });
  report("resync", { channels: await userPage.evaluate(() => window.__resyncs) });
  await context.close();
}
