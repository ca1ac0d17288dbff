// Passkeys in a real headless Chromium with a virtual authenticator (CDP `WebAuthn.*`: CTAP2,
// internal, resident keys, user verification, presence simulated), driven by playwright-core.
//
// - SHOP_ORIGIN set: the tea shop (examples/guest_checkout.rs, its own inline ceremonies): a guest
//   adds tea, saves the cart with a passkey (promoted in place: same id, cart kept), signs out,
//   signs in again with the passkey (the button), and the cart is there. Then autofill: signed out
//   once more, the username field's conditional request (mediation: 'conditional') is tried.
// - PASSKEYS_ORIGIN set: the page of examples/passkeys.rs with the REAL next-auth/webauthn client of
//   next-auth 5.0.0-beta.32 (bundled from passkey.entry.mjs): register (signed out, an e-mail),
//   session, sign out, authenticate, session again; next-auth/react's getSession agrees. (Or,
//   with PASSKEY_CLIENT=built-in, the example's stand-in client, served without a bundle.)
//
// Started by tests/browser_passkeys.rs. Environment:
//   SHOP_ORIGIN / PASSKEYS_ORIGIN   the app, e.g. http://localhost:40123 (one of them)
//   PASSKEY_CLIENT=built-in         expect the example's stand-in client instead of next-auth's
//   SCREENSHOT_DIR                  where the step screenshots go (required; created if missing)
//   CHROMIUM                        the browser binary (default /usr/bin/chromium)
// Exits 0 when every step passed; prints one line per step, and `AUTOFILL: ...` saying whether
// conditional mediation signed in.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const shop = process.env.SHOP_ORIGIN;
const passkeys = process.env.PASSKEYS_ORIGIN;
const shots = process.env.SCREENSHOT_DIR;
// PASSKEY_CLIENT=built-in: the example's own stand-in client is expected, not next-auth's.
const builtIn = process.env.PASSKEY_CLIENT === "built-in";
if (!(shop || passkeys) || !shots) {
  console.error("SHOP_ORIGIN or PASSKEYS_ORIGIN, and SCREENSHOT_DIR, must be set");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_TIMEOUT = 15_000;

const profile = mkdtempSync(path.join(tmpdir(), "passkeys-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 900, height: 760 },
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

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A virtual platform authenticator on `page`, as a phone's or laptop's passkey store. */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    },
  };
}

/** Records the mediation of each `navigator.credentials.get` ("modal" without one). */
async function recordRequests(page) {
  await page.addInitScript(() => {
    const get = navigator.credentials.get.bind(navigator.credentials);
    window.__passkeyRequests = [];
    navigator.credentials.get = (options) => {
      window.__passkeyRequests.push(options?.mediation || "modal");
      return get(options);
    };
  });
}

/** Failures the page shows: console errors, error statuses (but the favicon), dialogs. */
function watch(page) {
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
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
  page.on("dialog", async (d) => {
    problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
}

/** The shop's session and cart, with the browser's cookies. */
function shopState(page) {
  return page.evaluate(async () => {
    const session = await fetch("/api/auth/session").then((r) => r.json());
    const cart = await fetch("/api/cart").then((r) => r.json());
    return { session, cart };
  });
}

async function shopCart(page) {
  return JSON.parse((await page.getByTestId("cart").getAttribute("data-items")) || "{}");
}

async function theShop(page) {
  const authenticator = await virtualAuthenticator(page);
  await recordRequests(page);
  const who = page.getByTestId("session");
  const out = page.locator("#out");

  // 1. A guest adds tea.
  await page.goto(shop + "/");
  await page.waitForSelector('[data-testid="session"][data-session="guest"]');
  await page.getByTestId("add-tea").click();
  await page.waitForFunction(() => {
    try {
      return JSON.parse(document.querySelector('[data-testid="cart"]').dataset.items).tea === 1;
    } catch {
      return false;
    }
  });
  const guest = await shopState(page);
  check(guest.session.isGuest === true, `not a guest: ${JSON.stringify(guest.session)}`);
  await page.getByTestId("passkey-save").locator('input[name="email"]').fill("shopper@example.com");
  await shot(page, "shop-guest-with-tea");

  // 2. "Save my cart with a passkey": the guest becomes shopper@example.com, same id, same cart.
  await page.getByTestId("passkey-save").getByRole("button", { name: "Save my cart with a passkey" }).click();
  await page.waitForSelector('[data-testid="session"][data-session="member"]');
  await page.waitForSelector('[data-testid="cart"][data-session="member"]');
  check((await who.textContent()) === "Signed in as shopper@example.com", `status line: ${await who.textContent()}`);
  const saved = await shopState(page);
  check(saved.session.isGuest === false, `still a guest: ${JSON.stringify(saved.session)}`);
  check(saved.session.user?.email === "shopper@example.com", `not the shopper: ${JSON.stringify(saved.session)}`);
  check(saved.session.userId === guest.session.userId, "the guest was not promoted in place (another id)");
  check(saved.cart.items.tea === 1, `cart after saving: ${JSON.stringify(saved.cart)}`);
  const stored = await authenticator.credentials();
  check(stored.length === 1 && stored[0].isResidentCredential, `authenticator: ${JSON.stringify(stored)}`);
  await shot(page, "shop-cart-saved-with-passkey");

  // 3. Sign out: a new guest, an empty cart. The page would at once start its autofill request
  // (mediation: 'conditional'), which Chromium's virtual authenticator answers without a click
  // (it simulates the user's presence, and picks the only passkey): to try the button first, the
  // page is told conditional mediation is unavailable.
  await page.evaluate(() => {
    window.__conditional = PublicKeyCredential.isConditionalMediationAvailable;
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.locator("#signout").click();
  await page.waitForSelector('[data-testid="session"][data-session="guest"]');
  await page.waitForSelector('[data-testid="cart"][data-session="guest"]');
  const second = await shopState(page);
  check(second.session.userId !== guest.session.userId, "signing out kept the user's id");
  check(Object.keys(second.cart.items).length === 0, `a new guest's cart: ${JSON.stringify(second.cart)}`);
  await shot(page, "shop-signed-out");

  // 4. "Sign in with a passkey" (a modal request): the same user, and the cart is there.
  await page.getByTestId("passkey-sign-in").click();
  await page.waitForSelector('[data-testid="session"][data-session="member"]');
  await page.waitForSelector('[data-testid="cart"][data-session="member"]');
  const back = await shopState(page);
  check(back.session.userId === guest.session.userId, `another user: ${JSON.stringify(back.session)}`);
  check(back.cart.items.tea === 1, `cart after the passkey sign-in: ${JSON.stringify(back.cart)}`);
  check((await shopCart(page)).tea === 1, "the page does not show the tea");
  check(!(await out.textContent()), `message: ${await out.textContent()}`);
  const requests = await page.evaluate(() => window.__passkeyRequests);
  check(requests.at(-1) === "modal", `the button's request: ${JSON.stringify(requests)}`);
  await shot(page, "shop-signed-in-with-passkey-button");

  // 5. Autofill: conditional mediation back, signed out again. The new guest's page offers the
  // passkey on the username field (autocomplete="username webauthn"); the virtual authenticator
  // answers the conditional request as a user picking the passkey would, and the cart is back.
  await page.evaluate(() => {
    PublicKeyCredential.isConditionalMediationAvailable = window.__conditional;
  });
  check(
    await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable()),
    "this Chromium offers no conditional mediation (passkey autofill)",
  );
  const before = (await page.evaluate(() => window.__passkeyRequests)).length;
  await page.locator("#signout").click();
  await page.waitForFunction(
    (n) => window.__passkeyRequests.length > n && document.querySelector('[data-testid="session"]').dataset.session === "member",
    before,
  );
  await page.waitForSelector('[data-testid="cart"][data-session="member"]');
  const filled = await shopState(page);
  const all = await page.evaluate(() => window.__passkeyRequests);
  check(
    all.slice(before).every((m) => m === "conditional"),
    `autofill used a modal request: ${JSON.stringify(all.slice(before))}`,
  );
  check(filled.session.userId === guest.session.userId, `autofill signed in another user: ${JSON.stringify(filled.session)}`);
  check(filled.cart.items.tea === 1, `cart after autofill: ${JSON.stringify(filled.cart)}`);
  check((await credentialCount(authenticator)) === 1, "the authenticator holds another passkey");
  console.log("AUTOFILL: conditional mediation signed in (the virtual authenticator answers it at once)");
  await shot(page, "shop-signed-in-by-autofill");
}

async function credentialCount(authenticator) {
  return (await authenticator.credentials()).length;
}

async function theRealClient(page) {
  const authenticator = await virtualAuthenticator(page);
  const who = page.getByTestId("session");
  const out = page.getByTestId("out");
  const session = () =>
    page.evaluate(async () => {
      const own = await fetch("/api/auth/session").then((r) => r.json());
      // next-auth/react's getSession, from the same bundle as signIn.
      const client = await window.NextAuthWebAuthn.getSession({ broadcast: false });
      return { own, client };
    });

  // 1. Signed out, the real client is on the page.
  await page.goto(passkeys + "/");
  await page.waitForSelector('[data-testid="session"][data-session="signed-out"]');
  const client = await page.evaluate(() => window.NextAuthWebAuthn?.real ?? "built-in");
  check(client === (builtIn ? "built-in" : "next-auth@5.0.0-beta.32"), `the page runs the client ${client}`);
  await page.getByTestId("register").locator('input[name="email"]').fill("new@example.com");
  await shot(page, "client-signed-out");

  // 2. Register: signIn("passkey", { action: "register", email }).
  await page.getByTestId("register").getByRole("button", { name: "Create a passkey" }).click();
  await page.waitForSelector('[data-testid="session"][data-session="signed-in"]');
  check((await who.textContent()) === "Signed in as new@example.com", `status line: ${await who.textContent()}`);
  const first = await session();
  check(first.own?.user?.email === "new@example.com", `session: ${JSON.stringify(first.own)}`);
  check(first.client?.user?.email === "new@example.com", `getSession: ${JSON.stringify(first.client)}`);
  check((await authenticator.credentials()).length === 1, "no credential in the authenticator");
  await shot(page, "client-registered");

  // 3. Sign out.
  await page.getByTestId("sign-out").click();
  await page.waitForSelector('[data-testid="session"][data-session="signed-out"]');
  const none = await session();
  check(!none.own?.user && !none.client?.user, `still a session: ${JSON.stringify(none)}`);
  await shot(page, "client-signed-out-again");

  // 4. Authenticate: signIn("passkey", { action: "authenticate" }), no e-mail.
  await page.getByTestId("sign-in").click();
  await page.waitForSelector('[data-testid="session"][data-session="signed-in"]');
  const again = await session();
  check(again.own?.user?.email === "new@example.com", `session: ${JSON.stringify(again.own)}`);
  check(again.client?.user?.email === "new@example.com", `getSession: ${JSON.stringify(again.client)}`);
  check(!(await out.textContent()), `message: ${await out.textContent()}`);
  await shot(page, "client-signed-in-with-passkey");
}

let exitCode = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  if (shop) await theShop(page);
  if (passkeys) await theRealClient(page);
  if (problems.length) throw new Error(problems.join("\n"));
  console.log(`PASS: ${shop ? "the shop" : builtIn ? "the built-in client" : "next-auth/webauthn"} with passkeys (${step} screenshots in ${shots})`);
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
