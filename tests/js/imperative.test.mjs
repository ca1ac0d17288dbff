// Recipe A: the real next-auth/react client (imperative API) from plain Node, with a cookie-jar fetch shim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authOrigin, makeFetch, sessionCookies, sessionToken, assertGuestSession, decodeSession, SESSION_COOKIE, CSRF_COOKIE } from "./lib.mjs";

const ORIGIN = authOrigin();
const BASE = ORIGIN + "/api/auth";
// The client computes its base URL once, at import time: set NEXTAUTH_URL BEFORE importing it.
process.env.NEXTAUTH_URL = BASE;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;

const realFetch = globalThis.fetch;
let current = realFetch;
globalThis.fetch = (...args) => current(...args);
/** Run `fn` with the client's fetch bound to `jar` (null = no cookies at all, like Node's bare fetch). */
async function withJar(jar, fn) {
  const f = makeFetch({ jar, realFetch });
  current = f;
  try {
    return await fn(f.log);
  } finally {
    current = realFetch;
  }
}

const { getProviders, getCsrfToken, getSession, signIn, signOut } = await import("next-auth/react");
assert.equal(typeof window, "undefined", "recipe A must run without a window (absolute NEXTAUTH_URL requests)");

const CB = new URL("/dashboard?from=tests", ORIGIN).href; // always pass callbackUrl in Node (no window.location)
const jar1 = new Map();
const jar2 = new Map();
let firstSession, firstClaims, firstToken;

test("getProviders() lists exactly the anon credentials provider with absolute URLs", async () => {
  const providers = await withJar(jar1, () => getProviders());
  assert.ok(providers, "getProviders() returned null (non-2xx or non-JSON /providers)");
  assert.deepEqual(Object.keys(providers), ["anon"]);
  const p = providers.anon;
  assert.equal(p.id, "anon");
  assert.equal(p.name, "Anonymous");
  assert.equal(p.type, "credentials");
  assert.equal(p.signinUrl, `${BASE}/signin/anon`);
  assert.equal(p.callbackUrl, `${BASE}/callback/anon`);
});

test("getCsrfToken() is 64 lowercase hex, set as a cookie, and stable for the same jar", async () => {
  const [a, b, log] = await withJar(jar1, async (log) => [await getCsrfToken(), await getCsrfToken(), log]);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(b, a, "a valid csrf cookie must be reused, not rotated");
  const csrf = [...jar1.keys()].filter((k) => CSRF_COOKIE.test(k));
  assert.equal(csrf.length, 1, `expected one csrf cookie in the jar, got ${[...jar1.keys()]}`);
  const [tok, hash] = decodeURIComponent(jar1.get(csrf[0])).split("|");
  assert.equal(tok, a, "csrf cookie is <token>|<hash>");
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(log.length, 2);
  assert.equal(log[1].setCookies.filter((c) => CSRF_COOKIE.test(c.split("=")[0])).length, 0,
    "the second /csrf must not re-issue the csrf cookie");
});

test("getSession() is null before sign-in", async () => {
  const s = await withJar(jar1, () => getSession());
  assert.equal(s, null);
  assert.equal(sessionCookies(jar1).length, 0);
});

test("signIn('anon', {redirect:false, callbackUrl}) succeeds and sets a session cookie", async () => {
  const r = await withJar(jar1, () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { error: null, status: 200, ok: true, url: CB });
  assert.equal(new URL(r.url).searchParams.get("csrf"), null, "csrf=true means the CSRF double-submit failed");
  assert.ok(sessionCookies(jar1).length >= 1, `no session cookie after sign-in: ${[...jar1.keys()]}`);
  firstToken = sessionToken(jar1);
});

test("getSession() after sign-in is a guest session (user fields null, isLoggedIn false, expires ~30 d)", async () => {
  const s = await withJar(jar1, () => getSession());
  assertGuestSession(s);
  firstSession = s;
  firstClaims = await decodeSession(jar1);
  if (firstClaims) {
    assert.equal(typeof firstClaims.thirdPartyToken, "string", "jwt callback must add thirdPartyToken at anon sign-in");
    assert.ok(firstClaims.thirdPartyToken.length > 0);
    assert.equal(firstClaims.sub, undefined, "a guest token carries no sub (isLoggedIn = sub !== undefined)");
  }
});

test("a second getSession() returns the same guest (the session cookie is honoured)", async () => {
  const s = await withJar(jar1, () => getSession());
  assertGuestSession(s);
  const { expires: _a, ...rest1 } = firstSession;
  const { expires: _b, ...rest2 } = s;
  assert.deepEqual(rest2, rest1);
  assert.ok(Date.parse(s.expires) >= Date.parse(firstSession.expires), "expires must not go backwards");
  assert.ok(sessionCookies(jar1).length >= 1, "the session cookie must survive a GET /session");
  const claims = await decodeSession(jar1);
  if (claims) assert.equal(claims.thirdPartyToken, firstClaims.thirdPartyToken, "same guest, same thirdPartyToken");
});

test("POST /session (what useSession().update() sends) returns 200 and the session", async () => {
  await withJar(jar1, async () => {
    const csrfToken = await getCsrfToken();
    const res = await fetch(`${BASE}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrfToken, data: { cart: ["sku-1"] } }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") || "", /^application\/json/);
    const body = await res.json();
    assertGuestSession(body);
    assert.ok(sessionCookies(jar1).length >= 1);
    const claims = await decodeSession(jar1);
    if (claims) assert.equal(claims.thirdPartyToken, firstClaims.thirdPartyToken, "update keeps the same guest");
  });
});

test("POST /session with a wrong csrfToken is refused with 400 and does not sign out", async () => {
  await withJar(jar1, async () => {
    const res = await fetch(`${BASE}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrfToken: "0".repeat(64), data: { cart: [] } }),
    });
    assert.equal(res.status, 400);
    await res.arrayBuffer();
    assertGuestSession(await getSession());
  });
});

test("signOut({redirect:false, callbackUrl}) returns {url} and ends the session", async () => {
  const r = await withJar(jar1, () => signOut({ redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { url: CB });
  assert.deepEqual(sessionCookies(jar1), [], "signout must delete the session cookie");
  const s = await withJar(jar1, () => getSession());
  assert.equal(s, null);
  assert.deepEqual(sessionCookies(jar1), []);
});

test("a fresh jar signs in as a different guest", async () => {
  const r = await withJar(jar2, () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { error: null, status: 200, ok: true, url: CB });
  const s = await withJar(jar2, () => getSession());
  assertGuestSession(s);
  const token2 = sessionToken(jar2);
  assert.ok(token2 && firstToken);
  assert.notEqual(token2, firstToken, "two guests must not share a session cookie");
  const claims = await decodeSession(jar2);
  if (claims) assert.notEqual(claims.thirdPartyToken, firstClaims.thirdPartyToken, "each guest gets its own thirdPartyToken");
  // The first jar is signed out; the second one's session is independent of that.
  assert.equal(await withJar(jar1, () => getSession()), null);
  await withJar(jar2, () => signOut({ redirect: false, callbackUrl: CB }));
});

test("signIn without cookies (bare fetch) is not a sign-in: csrf=true URL and no session", async () => {
  const [r, log] = await withJar(null, async (log) => [await signIn("anon", { redirect: false, callbackUrl: CB }), log]);
  // The v4 client reports this as ok:true; only the url tells the CSRF check failed.
  assert.equal(r.status, 200);
  assert.equal(r.error, null);
  assert.ok(r.url, "expected the csrf=true redirect URL");
  const u = new URL(r.url);
  assert.equal(u.origin + u.pathname, `${BASE}/signin`);
  assert.equal(u.searchParams.get("csrf"), "true");
  const post = log.find((e) => e.method === "POST");
  assert.ok(post, "signIn must POST the callback");
  assert.equal(post.url, `${BASE}/callback/anon`);
  assert.equal(post.setCookies.filter((c) => SESSION_COOKIE.test(c.split("=")[0])).length, 0,
    `no session cookie may be issued on a CSRF failure: ${post.setCookies}`);
  assert.equal(await withJar(null, () => getSession()), null);
});
