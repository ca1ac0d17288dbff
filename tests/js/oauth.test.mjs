// The real next-auth/react client signing in with an OAuth provider: signIn(<oauth id>) POSTs to
// /signin/<id> and then navigates (window.location.href = the provider's URL); this test plays the
// browser from there, following every redirect with one cookie jar, as recipe "OAuth in Node" says.
//
// Run by tests/oidc_e2e.rs against examples/third_party_token.rs and a real OpenID provider:
// AUTH_ORIGIN (the app) and AUTH_OAUTH_PROVIDER (the provider id, "user"). Skipped without them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authOrigin, makeFetch } from "./lib.mjs";

const PROVIDER = process.env.AUTH_OAUTH_PROVIDER;
const skip = PROVIDER ? false : "AUTH_OAUTH_PROVIDER is not set (tests/oidc_e2e.rs runs this file)";

test("signIn(oauth) navigates to the provider; the redirects end signed in, the guest carried over", { skip }, async () => {
  const ORIGIN = authOrigin();
  process.env.NEXTAUTH_URL = ORIGIN + "/api/auth";
  const jar = new Map();
  const realFetch = globalThis.fetch;
  const fetchWithJar = makeFetch({ jar, base: ORIGIN, realFetch });
  globalThis.fetch = fetchWithJar;
  // OAuth signIn always navigates: a window whose location records where it was sent.
  globalThis.window = { location: { href: ORIGIN + "/", reload() {} } };
  const { signIn, getSession, getProviders } = await import("next-auth/react");

  const providers = await getProviders();
  assert.equal(providers[PROVIDER].type, "oauth");

  // The guide's guest first.
  const guest = await signIn("anon", { redirect: false, callbackUrl: ORIGIN + "/" });
  assert.equal(guest.ok, true, JSON.stringify(guest));
  const before = await (await fetchWithJar(ORIGIN + "/api/me")).json();
  assert.equal(before.isLoggedIn, false);
  assert.match(before.thirdPartyToken, /^anon-/);

  // signIn('user', ..., { login_hint }) returns nothing and navigates to the provider.
  const result = await signIn(PROVIDER, { callbackUrl: ORIGIN + "/account" }, { login_hint: "carol" });
  assert.equal(result, undefined);
  let url = window.location.href;
  const provider = new URL(url);
  assert.notEqual(provider.origin, ORIGIN, `expected to leave for the provider, got ${url}`);
  assert.equal(provider.searchParams.get("code_challenge_method"), "S256");
  assert.equal(provider.searchParams.get("login_hint"), "carol");

  // The browser's part: provider -> interaction -> provider -> /api/auth/callback/user -> /account.
  const visited = [url];
  for (let hops = 0; hops < 20; hops++) {
    const res = await fetchWithJar(url);
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) break;
    url = new URL(location, url).href;
    visited.push(url);
  }
  assert.ok(visited.some((u) => u.startsWith(ORIGIN + "/api/auth/callback/" + PROVIDER + "?")), visited.join("\n"));
  assert.equal(url, ORIGIN + "/account", visited.join("\n"));

  const session = await getSession();
  assert.equal(session.isLoggedIn, true, JSON.stringify(session));
  assert.equal(session.user.email, "carol@example.com");
  const after = await (await fetchWithJar(ORIGIN + "/api/me")).json();
  assert.equal(after.sub, "carol");
  assert.match(after.thirdPartyToken, /^user-carol-\d+-merged$/);
  assert.equal(after.guestToken, before.thirdPartyToken, "the guest's token was carried over");
});
