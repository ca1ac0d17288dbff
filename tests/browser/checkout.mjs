// The guest checkout page (examples/guest_checkout.rs) in a real headless Chromium, driven by
// playwright-core: a visitor lands and is a guest without clicking anything, adds a product to
// the cart, signs in as alice through the page's own form, and the cart is still there (also
// after a reload). One PNG screenshot per step.
//
// Started by tests/browser_checkout.rs. Environment:
//   SHOP_ORIGIN      the shop, e.g. http://127.0.0.1:40123 (required)
//   SCREENSHOT_DIR   where the step screenshots go (required; created if missing)
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// Exits 0 when every step passed; prints one line per step.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const origin = process.env.SHOP_ORIGIN;
const shots = process.env.SCREENSHOT_DIR;
if (!origin || !shots) {
  console.error("SHOP_ORIGIN and SCREENSHOT_DIR must be set");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_TIMEOUT = 15_000;

// A fresh profile each run; the flags that work on this machine's closed network.
const profile = mkdtempSync(path.join(tmpdir(), "shop-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 900, height: 700 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const problems = [];
let step = 0;
const started = Date.now();
async function shot(page, name) {
  step += 1;
  const file = path.join(shots, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${step} ${name}: ok (${Date.now() - started} ms) -> ${file}`);
}

/** The cart as the page shows it (its table, with the items as JSON in `data-items`). */
async function shownCart(page) {
  const text = (await page.getByTestId("cart").getAttribute("data-items")) || "{}";
  return JSON.parse(text);
}

/** What the server says, with the browser's own cookies. */
function fromServer(page) {
  return page.evaluate(async () => {
    const session = await fetch("/api/auth/session").then((r) => r.json());
    const cart = await fetch("/api/cart").then((r) => r.json());
    return { session, cart };
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

let exitCode = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Console errors and failed requests are failures, but for the favicon the page has none of.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") {
      problems.push(`${r.request().method()} ${r.url()} answered ${r.status()}`);
    }
  });
  // The page alerts "Sign-in failed" on a rejected sign-in: that is a failure here.
  page.on("dialog", async (d) => {
    problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });

  // 1. Land: the page makes the visitor a guest by itself; nothing is clicked.
  await page.goto(origin + "/");
  const who = page.getByTestId("session");
  await page.waitForSelector('[data-testid="session"][data-session="guest"]');
  await page.waitForSelector('[data-testid="cart"][data-session="guest"]');
  check((await who.textContent()) === "Guest", `status line: ${await who.textContent()}`);
  check(Object.keys(await shownCart(page)).length === 0, "a new guest's cart is not empty");
  const guest = await fromServer(page);
  check(guest.session.isGuest === true && guest.session.userId, `not a guest: ${JSON.stringify(guest.session)}`);
  const cookies = (await context.cookies(origin)).map((c) => c.name);
  check(cookies.some((n) => n.includes("session-token")), `no session cookie: ${cookies}`);
  await shot(page, "landed-as-guest");

  // 2. Add a product: click the tea's "Add" button.
  await page.getByTestId("products").getByText("Green tea", { exact: false }).waitFor();
  await page.getByTestId("add-tea").click();
  await page.waitForFunction(() => {
    try {
      return JSON.parse(document.querySelector('[data-testid="cart"]').dataset.items).tea === 1;
    } catch {
      return false;
    }
  });
  check((await fromServer(page)).cart.items.tea === 1, "the server's cart has no tea");
  await shot(page, "added-tea-to-cart");

  // 3. Sign in as alice through the page's own form.
  const form = page.getByTestId("sign-in");
  await form.locator('input[name="username"]').fill("alice");
  await form.locator('input[name="password"]').fill("alice-password");
  await shot(page, "sign-in-form-filled");
  await form.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector('[data-testid="session"][data-session="member"]');
  await page.waitForSelector('[data-testid="cart"][data-session="member"]');
  check((await who.textContent()) === "Signed in as alice", `status line: ${await who.textContent()}`);
  check((await shownCart(page)).tea === 1, `cart after sign-in: ${JSON.stringify(await shownCart(page))}`);
  const member = await fromServer(page);
  check(member.session.isGuest === false, `still a guest: ${JSON.stringify(member.session)}`);
  check(member.session.user?.name === "alice", `not alice: ${JSON.stringify(member.session)}`);
  check(member.session.userId === guest.session.userId, "alice (a new account) did not keep the guest's id");
  check(member.cart.guest === false && member.cart.items.tea === 1, `server cart: ${JSON.stringify(member.cart)}`);
  await shot(page, "signed-in-cart-kept");

  // 4. Reload: a fresh page load shows the member and the same cart.
  await page.reload();
  await page.waitForSelector('[data-testid="session"][data-session="member"]');
  await page.waitForSelector('[data-testid="cart"][data-session="member"]');
  check((await who.textContent()) === "Signed in as alice", "status line after reload");
  check((await shownCart(page)).tea === 1, "cart after reload");
  await shot(page, "reloaded-still-signed-in");

  if (problems.length) throw new Error(problems.join("\n"));
  console.log(`PASS: guest -> cart -> sign-in kept the cart (${step} screenshots in ${shots})`);
} catch (e) {
  exitCode = 1;
  console.error(`FAIL after step ${step}: ${e.stack || e}`);
  if (problems.length) console.error(problems.join("\n"));
  try {
    const page = context.pages()[0];
    if (page) {
      const file = path.join(shots, "failure.png");
      await page.screenshot({ path: file, fullPage: true });
      console.error(`failure screenshot: ${file}`);
    }
  } catch {
    // the browser may be gone
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
