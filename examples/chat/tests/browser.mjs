// Drives headless Chromium through the chat: Alice and Bob log in (two browser contexts), both
// see both in "Here"; Alice sends a message; it shows once in her tab (the local echo, her tab
// skips the event published to others) and once in Bob's (through the event). Prints one JSON
// line per step; exits non-zero on failure.
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
async function enter(name) {
  const page = await (await browser.newContext()).newPage();
  page.on("pageerror", (error) => report("pageerror", { name, message: String(error) }));
  await page.goto(base + "/");
  await page.fill("input[name=name]", name);
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
  await page.waitForSelector("#me");
  return page;
}
const who = (page) => page.$$eval("#who li", (items) => items.map((li) => li.textContent));
const messages = (page) => page.$$eval("#messages li", (items) => items.map((li) => li.textContent));
let alice;
try {
  alice = await enter("alice");
  const bob = await enter("bob");
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.querySelectorAll("#who li").length === 2, null, { timeout: 20000 });
  }
  report("here", { alice: await who(alice), bob: await who(bob) });
  await alice.fill("#text", "Hello Bob");
  await alice.click("#send button[type=submit]");
  await bob.waitForSelector("#messages li", { timeout: 20000 });
  await alice.waitForSelector("#messages li[data-id]", { timeout: 20000 });
  // Time for a second copy to arrive, if one were coming.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  report("messages", { alice: await messages(alice), bob: await messages(bob) });
  await alice.screenshot({ path: path.join(artifacts, "chat-alice.png"), fullPage: true });
  await bob.screenshot({ path: path.join(artifacts, "chat-bob.png"), fullPage: true });
  await alice.context().close();
  await bob.waitForFunction(() => document.querySelectorAll("#who li").length === 1, null, { timeout: 20000 });
  report("left", { bob: await who(bob) });
  await browser.close();
  report("done");
} catch (error) {
  report("error", { message: String(error && error.stack || error) });
  await browser.close();
  process.exit(1);
}
