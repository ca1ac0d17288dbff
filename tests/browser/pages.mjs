// The built-in pages (sign-in, error, sign-out) of a themed app in a real headless Chromium:
// each is rendered with the theme's brand colour on its buttons and links, its logo loads, and
// the dark scheme is dark. One PNG screenshot per page and scheme.
//
// Started by tests/browser_checkout.rs. Environment:
//   PAGES_ORIGIN     the app, e.g. http://127.0.0.1:40123 (required)
//   SCREENSHOT_DIR   where the screenshots go (required; created if missing)
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// Exits 0 when every page passed; prints one line per screenshot.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const origin = process.env.PAGES_ORIGIN;
const shots = process.env.SCREENSHOT_DIR;
if (!origin || !shots) {
  console.error("PAGES_ORIGIN and SCREENSHOT_DIR must be set");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(path.join(tmpdir(), "pages-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 720, height: 640 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const BRAND = "rgb(15, 118, 110)";
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
const pages = [
  ["signin", "/api/auth/signin"],
  ["error", "/api/auth/error?error=AccessDenied"],
  ["signout", "/api/auth/signout"],
];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, url] of pages) {
      const response = await page.goto(origin + url, { waitUntil: "load" });
      check(response.status() < 500, `${name}: status ${response.status()}`);
      const look = await page.evaluate(() => {
        const button = document.querySelector("button");
        const link = document.querySelector("a");
        const logo = document.querySelector("img.logo");
        return {
          button: button && getComputedStyle(button).backgroundColor,
          buttonText: button && getComputedStyle(button).color,
          link: link && getComputedStyle(link).color,
          logo: logo ? logo.naturalWidth : -1,
          background: getComputedStyle(document.body).backgroundColor,
        };
      });
      if (look.button) check(look.button === BRAND, `${name}/${scheme}: button ${look.button}`);
      if (look.button) check(look.buttonText === "rgb(255, 255, 255)", `${name}/${scheme}: button text ${look.buttonText}`);
      if (look.link) check(look.link === BRAND, `${name}/${scheme}: link ${look.link}`);
      check(look.logo > 0, `${name}/${scheme}: the logo did not load`);
      const [r, g, b] = look.background.match(/\d+/g).map(Number);
      const dark = r + g + b < 3 * 80;
      check(dark === (scheme === "dark"), `${name}/${scheme}: background ${look.background}`);
      const file = path.join(shots, `${name}-${scheme}.png`);
      await page.screenshot({ path: file });
      console.log(`${name} (${scheme}): ok -> ${file}`);
    }
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (problems.length) {
  console.error("FAIL:\n" + problems.join("\n"));
  process.exit(1);
}
console.log("PASS: the built-in pages wear the theme in light and dark");
