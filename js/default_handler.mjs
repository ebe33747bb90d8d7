// Drives headless Chromium to a page served by an app with the default handler: once the page is
// subscribed, publishes events whose data.admin_url is javascript:, data:, relative and https, and
// prints one JSON line with the link each notification got. Exits non-zero on failure.
// Usage: node default_handler.mjs <base-url> <api-url> <api-key> <channel>
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "package.json"));
const { chromium } = require("playwright-core");

const [base, apiUrl, apiKey, channel] = process.argv.slice(2);
const urls = ["javascript:alert(1)", " JavaScript:alert(2)", "data:text/html,x", "/orders/7", "https://shop.example/orders/8"];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.goto(base + "/");
  await page.waitForSelector("html[data-instant-subscribed]", { timeout: 10000 });
  for (const [i, url] of urls.entries()) {
    const response = await fetch(apiUrl + "/publish", {
      method: "POST",
      headers: { "X-API-Key": apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ channel, data: { channel, site: "s", message: "m" + i, event_class: "", data: { admin_url: url }, uid: "u" + i, timestamp: 0 } }),
    });
    if (!response.ok) { throw new Error("publish failed: " + response.status); }
  }
  await page.waitForFunction((n) => document.querySelectorAll(".instant-notification").length >= n, urls.length, { timeout: 10000 });
  const notes = await page.$$eval(".instant-notification", (els) => els.map((el) => {
    const a = el.querySelector("a");
    return { text: el.textContent, href: a ? a.getAttribute("href") : null };
  }));
  console.log(JSON.stringify({ notes }));
} finally {
  await browser.close();
}
