// The real next-auth/react client against examples/guest_checkout.rs (started by
// tests/client_js_guests.rs with a per-client burst of 2 guests): a guest fills a cart and keeps
// it when signing in; the guest limit reaches the client as { ok: false, error: "RateLimited" }.
// Not named *.test.mjs: `node --test` in tests/js must not pick it up for the anonymous example.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authOrigin, fetchFrom, makeFetch, sessionCookies } from "./lib.mjs";

const ORIGIN = authOrigin();
const BASE = ORIGIN + "/api/auth";
process.env.NEXTAUTH_URL = BASE;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;

const realFetch = globalThis.fetch;
let current = realFetch;
globalThis.fetch = (...args) => current(...args);
async function withJar(jar, fn, from = realFetch) {
  const f = makeFetch({ jar, realFetch: from });
  current = f;
  try {
    return await fn(f);
  } finally {
    current = realFetch;
  }
}

const { getProviders, getSession, signIn } = await import("next-auth/react");
const CB = new URL("/", ORIGIN).href;
const shopper = new Map();

test("the shop lists the Anonymous provider as credentials, next to the passkey and password providers", async () => {
  const providers = await withJar(shopper, () => getProviders());
  assert.deepEqual(Object.keys(providers), ["anon", "passkey", "password"]);
  assert.equal(providers.anon.type, "credentials");
  assert.equal(providers.passkey.type, "webauthn");
  assert.equal(providers.anon.callbackUrl, `${BASE}/callback/anon`);
});

test("signIn('anon') makes a guest who fills a cart, then signs in and keeps it", async () => {
  const r = await withJar(shopper, () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { error: null, status: 200, ok: true, url: CB });
  assert.ok(sessionCookies(shopper).length >= 1);
  const guest = await withJar(shopper, () => getSession());
  assert.equal(guest.isGuest, true);
  await withJar(shopper, (f) =>
    f(ORIGIN + "/api/cart", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ product: "tea", qty: 2 }),
    }),
  );
  const signedIn = await withJar(shopper, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "alice", password: "alice-password" }),
  );
  assert.deepEqual(signedIn, { error: null, status: 200, ok: true, url: CB });
  const member = await withJar(shopper, () => getSession());
  assert.equal(member.isGuest, false);
  assert.equal(member.user.name, "alice");
  assert.equal(member.userId, guest.userId, "promoted: the same id");
  const cart = await withJar(shopper, async (f) => (await f(ORIGIN + "/api/cart")).json());
  assert.deepEqual(cart.items, { tea: 2 });
});

test("a wrong password is { ok: false, error: 'CredentialsSignin' } and the member stays signed in", async () => {
  const r = await withJar(shopper, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "alice", password: "nope" }),
  );
  assert.equal(r.ok, false);
  assert.equal(r.error, "CredentialsSignin");
  assert.equal((await withJar(shopper, () => getSession())).user.name, "alice");
});

test("over the per-client guest limit, signIn('anon') resolves { ok: false, error: 'RateLimited', status: 429 }", async () => {
  // The shopper used one guest of this address's burst of 2; a second browser uses the other.
  const second = await withJar(new Map(), () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.equal(second.ok, true);
  const third = await withJar(new Map(), () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.deepEqual(third, { error: "RateLimited", status: 429, ok: false, url: null });
});

test("the sign_in callback: a refusal is { ok: false, error: 'AccessDenied' }, a redirect is followed, and neither signs in", async () => {
  const visitor = new Map();
  const refused = await withJar(visitor, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "carol", password: "carol-password" }),
  );
  assert.deepEqual(refused, { error: "AccessDenied", status: 403, ok: false, url: null });
  assert.equal(sessionCookies(visitor).length, 0, "no session for a refused sign-in");
  const sent = await withJar(visitor, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "dave", password: "dave-password" }),
  );
  assert.deepEqual(sent, { error: null, status: 200, ok: true, url: new URL("/?accept-terms=1", ORIGIN).href });
  assert.equal(sessionCookies(visitor).length, 0, "no session for a redirected sign-in");
  assert.equal(await withJar(visitor, () => getSession()), null);
});

test("signIn() without a provider goes to the sign-in page, which sends the browser on to the shop's own page (pages.sign_in)", async () => {
  // A browser's window, as far as signIn() uses it: the client then speaks relative URLs.
  const visited = [];
  globalThis.window = { location: { get href() { return CB; }, set href(url) { visited.push(url); } } };
  try {
    const f = makeFetch({ jar: new Map(), base: ORIGIN, realFetch });
    current = f;
    await signIn(undefined, { callbackUrl: CB });
  } finally {
    current = realFetch;
    delete globalThis.window;
  }
  assert.equal(visited.length, 1, String(visited));
  const signinPage = new URL(visited[0], ORIGIN);
  assert.equal(signinPage.pathname, "/api/auth/signin");
  assert.equal(signinPage.searchParams.get("callbackUrl"), CB);
  // The browser follows: the built-in page is replaced by the shop's own.
  const r = await realFetch(signinPage, { redirect: "manual" });
  assert.equal(r.status, 302);
  const own = new URL(r.headers.get("location"), ORIGIN);
  assert.equal(own.pathname, "/");
  assert.equal(own.searchParams.get("callbackUrl"), CB);
  assert.match(r.headers.get("cache-control") || "", /no-store/);
});

test("30 wrong passwords from one address meet 429 RateLimited; bob's own browser still signs in, a new one waits", async () => {
  // Bob signed in from his laptop before (127.0.0.2): his browser holds a device cookie.
  const bobsLaptop = new Map();
  const from2 = fetchFrom("127.0.0.2");
  const before = await withJar(bobsLaptop, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "bob", password: "bob-password" }),
    from2,
  );
  assert.deepEqual(before, { error: null, status: 200, ok: true, url: CB });
  assert.ok([...bobsLaptop.keys()].some((name) => name.endsWith(".device")), [...bobsLaptop.keys()].join());
  // Signed out (the session cookie gone); the device cookie stays, as a browser keeps it.
  for (const name of [...bobsLaptop.keys()]) if (/session-token/.test(name)) bobsLaptop.delete(name);

  const attacker = new Map();
  const results = [];
  for (let i = 0; i < 30; i++) {
    results.push(
      await withJar(attacker, () =>
        signIn("password", { redirect: false, callbackUrl: CB, username: "bob", password: `guess-${i}` }),
      ),
    );
  }
  const firstLimited = results.findIndex((r) => r.error === "RateLimited");
  // The address's burst is 10 attempts (alice's wrong password above came from her own browser,
  // which signed in as alice before: it counted on that browser's device cookie, not here).
  assert.equal(firstLimited, 10, JSON.stringify(results.slice(0, 12)));
  for (const r of results.slice(0, firstLimited)) assert.deepEqual(r, { error: "CredentialsSignin", status: 401, ok: false, url: null });
  for (const r of results.slice(firstLimited)) assert.deepEqual(r, { error: "RateLimited", status: 429, ok: false, url: null });
  // Even the right password waits on this address...
  const blocked = await withJar(attacker, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "bob", password: "bob-password" }),
  );
  assert.equal(blocked.error, "RateLimited");
  // ...and in a browser that never signed in as bob: the 10 guesses spent bob's identifier.
  const stranger = await withJar(new Map(), () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "bob", password: "bob-password" }),
    fetchFrom("127.0.0.3"),
  );
  assert.equal(stranger.error, "RateLimited");
  // Bob's own browser is counted on its own: it signs in.
  const ok = await withJar(bobsLaptop, () =>
    signIn("password", { redirect: false, callbackUrl: CB, username: "bob", password: "bob-password" }),
    from2,
  );
  assert.deepEqual(ok, { error: null, status: 200, ok: true, url: CB });
  const session = await withJar(bobsLaptop, () => getSession(), from2);
  assert.equal(session.user.name, "bob");
  assert.equal(session.isGuest, false);
});
