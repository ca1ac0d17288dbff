// The real next-auth v5 client (`next-auth/react` 5.0.0-beta.32, `@auth/core` 0.41.3) from plain
// Node with a cookie jar, against the anonymous example serving the `authjs-v5` token format.
//
// v5's wire, as read in node_modules (what this suite and the server rely on):
// - next-auth/react.js `signIn`/`signOut`: POST form bodies with `csrfToken` and `callbackUrl`
//   (no `json` field) and the header `X-Auth-Return-Redirect: 1`; they `await res.json()` whatever
//   the status. `signIn` returns `{ error, code, status, ok, url: error ? null : data.url }`, with
//   `error` and `code` read from `new URL(data.url).searchParams` (`undefined` when absent);
//   `signOut({redirect:false})` returns the body `{url}`.
// - next-auth/lib/client.js `fetchData` (getSession, getCsrfToken, getProviders, update): GET
//   (POST with a JSON body for update) and returns the parsed body as it is (`{}` would be a
//   session); non-2xx gives `null`. `update(data)` is POST /session `{csrfToken, data}`.
// - @auth/core/index.js `Auth`: `X-Auth-Return-Redirect` (its presence) turns a redirect into
//   200 `{url}`; a thrown error becomes `{origin}{basePath}/{error.kind}?error=<type>` (`signin` for
//   SignInError, else `error`; types outside the client-safe list are `Configuration`), plus
//   `&code=<code>` for CredentialsSignin; POST /session failing is 400 `null`.
// - @auth/core/lib/actions/session.js: the session body starts as `null` (no/invalid token).
// - @auth/core/lib/index.js + lib/actions/callback/oauth/csrf-token.js: a POST to credentials'
//   callback, signin, signout or session without the double-submit throws MissingCSRF (a
//   SignInError: `{base}/signin?error=MissingCSRF`).
// - @auth/core/errors.js: CredentialsSignin (`code = "credentials"`) is what `authorize`
//   returning null throws.
// The server honours only `X-Auth-Return-Redirect: 1` (v5 takes any value): checked below.
import { test } from "node:test";
import assert from "node:assert/strict";
import { originFrom, makeFetch, sessionCookies, assertGuestSession, withoutBroadcastChannel, SESSION_COOKIE, CSRF_COOKIE } from "./lib.mjs";

const ORIGIN = originFrom("AUTH_ORIGIN");
const BASE = ORIGIN + "/api/auth";
// The client computes its base URL once, at import time: NEXTAUTH_URL goes first.
process.env.NEXTAUTH_URL = BASE;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;
withoutBroadcastChannel();

const realFetch = globalThis.fetch;
let current = realFetch;
globalThis.fetch = (...args) => current(...args);
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
assert.equal(typeof window, "undefined");

const CB = new URL("/dashboard?from=v5", ORIGIN).href;
const jar = new Map();

test("getProviders() lists the anon credentials provider", async () => {
  const providers = await withJar(jar, () => getProviders());
  assert.deepEqual(Object.keys(providers), ["anon"]);
  assert.equal(providers.anon.type, "credentials");
});

test("getCsrfToken() is 64 hex in an authjs.csrf-token cookie, stable", async () => {
  const [a, b] = await withJar(jar, async () => [await getCsrfToken(), await getCsrfToken()]);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(b, a);
  assert.equal([...jar.keys()].filter((k) => CSRF_COOKIE.test(k)).length, 1, `${[...jar.keys()]}`);
});

test("GET /session without a session answers the JSON null, and getSession() is null", async () => {
  const res = await withJar(jar, () => fetch(`${BASE}/session`));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /^application\/json/);
  assert.equal(await res.text(), "null");
  assert.equal(await withJar(jar, () => getSession()), null);
});

test("an invalid session cookie is null too, and the cookie is cleared", async () => {
  const bad = new Map(jar);
  bad.set("authjs.session-token", "not-a-token");
  const res = await withJar(bad, () => fetch(`${BASE}/session`));
  assert.equal(await res.text(), "null");
  assert.deepEqual(sessionCookies(bad), []);
});

test("signIn('anon', {redirect:false}) sends X-Auth-Return-Redirect and succeeds", async () => {
  const [r, log] = await withJar(jar, async (log) => [await signIn("anon", { redirect: false, callbackUrl: CB }), log]);
  assert.deepEqual(r, { error: undefined, code: undefined, status: 200, ok: true, url: CB });
  const post = log.find((e) => e.method === "POST");
  assert.equal(post.url, `${BASE}/callback/anon?`);
  assert.equal(post.sent.get("x-auth-return-redirect"), "1");
  assert.ok(sessionCookies(jar).length >= 1, `no session cookie: ${[...jar.keys()]}`);
});

test("getSession() after sign-in is the guest's session, twice the same", async () => {
  const first = await withJar(jar, () => getSession());
  assertGuestSession(first);
  const second = await withJar(jar, () => getSession());
  assertGuestSession(second);
  assert.deepEqual({ ...second, expires: 0 }, { ...first, expires: 0 });
});

test("POST /session (update) with the CSRF token answers the session; without it 400 null", async () => {
  await withJar(jar, async () => {
    const csrfToken = await getCsrfToken();
    const ok = await fetch(`${BASE}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrfToken, data: { cart: ["sku-1"] } }),
    });
    assert.equal(ok.status, 200);
    assertGuestSession(await ok.json());
    const bad = await fetch(`${BASE}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrfToken: "0".repeat(64), data: {} }),
    });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), "null");
    assertGuestSession(await getSession());
  });
});

test("signOut({redirect:false}) answers {url} and ends the session; getSession() is null", async () => {
  const [r, log] = await withJar(jar, async (log) => [await signOut({ redirect: false, callbackUrl: CB }), log]);
  assert.deepEqual(r, { url: CB });
  const post = log.find((e) => e.method === "POST");
  assert.equal(post.status, 200);
  assert.equal(post.sent.get("x-auth-return-redirect"), "1");
  assert.deepEqual(sessionCookies(jar), []);
  assert.equal(await withJar(jar, () => getSession()), null);
});

test("signIn without cookies is refused as v5 reports it: error MissingCSRF, no session", async () => {
  const [r, log] = await withJar(null, async (log) => [await signIn("anon", { redirect: false, callbackUrl: CB }), log]);
  assert.deepEqual(r, { error: "MissingCSRF", code: undefined, status: 200, ok: true, url: null });
  const post = log.find((e) => e.method === "POST");
  assert.equal(post.setCookies.filter((c) => SESSION_COOKIE.test(c.split("=")[0])).length, 0);
});

test("signOut without cookies answers {url} of the sign-in page with MissingCSRF", async () => {
  const r = await withJar(null, () => signOut({ redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { url: `${BASE}/signin?error=MissingCSRF` });
});

// Hostile values of the header: only `1` asks for JSON; anything else is a plain redirect.
for (const [value, json] of [["1", true], [" 1 ", true], ["0", false], ["", false], ["true", false], ["yes", false], ["1, 1", false]]) {
  test(`X-Auth-Return-Redirect: ${JSON.stringify(value)} ${json ? "answers {url}" : "is a redirect"}`, async () => {
    const own = new Map();
    await withJar(own, async () => {
      const csrfToken = await getCsrfToken();
      const res = await fetch(`${BASE}/signout`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": value },
        body: new URLSearchParams({ csrfToken, callbackUrl: CB }),
      });
      if (json) {
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { url: CB });
      } else {
        assert.equal(res.status, 302);
        assert.equal(res.headers.get("location"), CB);
        assert.equal((await res.arrayBuffer()).byteLength, 0);
      }
    });
  });
}

test("the v4 body field json=true still answers {url} (v4-style callers keep working)", async () => {
  const own = new Map();
  await withJar(own, async () => {
    const csrfToken = await getCsrfToken();
    const res = await fetch(`${BASE}/signout`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken, callbackUrl: CB, json: "true" }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { url: CB });
  });
});
