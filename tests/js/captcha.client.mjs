// The real next-auth/react client against the shop with a CAPTCHA on guest creation (started by
// tests/captcha.rs, mode "always", a local verify endpoint that passes the token "pass"):
// signIn('anon', { captchaToken }) carries the widget's token in the form, and each refusal
// reaches the page as { ok: false, error } with the code to act on.
// Not named *.test.mjs: `node --test` in tests/js must not pick it up for the anonymous example.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authOrigin, makeFetch } from "./lib.mjs";

const ORIGIN = authOrigin();
const BASE = ORIGIN + "/api/auth";
process.env.NEXTAUTH_URL = BASE;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;

const realFetch = globalThis.fetch;
let current = realFetch;
globalThis.fetch = (...args) => current(...args);
async function withJar(jar, fn) {
  current = makeFetch({ jar, realFetch });
  try {
    return await fn();
  } finally {
    current = realFetch;
  }
}

const { getSession, signIn } = await import("next-auth/react");
const CB = new URL("/", ORIGIN).href;
const visitor = new Map();

test("without a token, signIn('anon') resolves { ok: false, error: 'CaptchaRequired', status: 400 }", async () => {
  const r = await withJar(visitor, () => signIn("anon", { redirect: false, callbackUrl: CB }));
  assert.deepEqual(r, { error: "CaptchaRequired", status: 400, ok: false, url: null });
  assert.equal(await withJar(visitor, () => getSession()), null);
});

test("a token the provider refuses resolves { ok: false, error: 'CaptchaInvalid', status: 403 }", async () => {
  const r = await withJar(visitor, () =>
    signIn("anon", { redirect: false, callbackUrl: CB, captchaToken: "forged" }),
  );
  assert.deepEqual(r, { error: "CaptchaInvalid", status: 403, ok: false, url: null });
});

test("signIn('anon', { captchaToken }) with a solved CAPTCHA makes the guest", async () => {
  const r = await withJar(visitor, () =>
    signIn("anon", { redirect: false, callbackUrl: CB, captchaToken: "pass" }),
  );
  assert.deepEqual(r, { error: null, status: 200, ok: true, url: CB });
  const session = await withJar(visitor, () => getSession());
  assert.equal(session.isGuest, true);
});
