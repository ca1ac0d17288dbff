// The real next-auth v5 client against the minimal example (a `password` Credentials provider,
// password `demo`) serving the `authjs-v5` token format: a refusal is reported as v5 reports it
// (200 `{url: "{base}/signin?error=CredentialsSignin&code=credentials"}`, see anonymous.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { originFrom, makeFetch, sessionCookies, withoutBroadcastChannel } from "./lib.mjs";

const ORIGIN = originFrom("AUTH_PASSWORD_ORIGIN");
const BASE = ORIGIN + "/api/auth";
process.env.NEXTAUTH_URL = BASE;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;
withoutBroadcastChannel();

const jar = new Map();
const log = [];
globalThis.fetch = makeFetch({ jar, realFetch: globalThis.fetch, log });
const { getSession, signIn, signOut } = await import("next-auth/react");
const CB = new URL("/account", ORIGIN).href;

test("a wrong password: error CredentialsSignin with code credentials, 200, no session", async () => {
  const r = await signIn("password", { redirect: false, callbackUrl: CB, username: "alice", password: "wrong" });
  assert.deepEqual(r, { error: "CredentialsSignin", code: "credentials", status: 200, ok: true, url: null });
  const post = log.findLast((e) => e.method === "POST");
  assert.equal(post.status, 200);
  assert.deepEqual(sessionCookies(jar), []);
  assert.equal(await getSession(), null);
});

test("the right password signs in: url is the callback URL, then a session", async () => {
  const r = await signIn("password", { redirect: false, callbackUrl: CB, username: "alice", password: "demo" });
  assert.deepEqual(r, { error: undefined, code: undefined, status: 200, ok: true, url: CB });
  const session = await getSession();
  assert.ok(session && session.user && typeof session.expires === "string", JSON.stringify(session));
});

test("signOut({redirect:false}) then getSession() is null", async () => {
  assert.deepEqual(await signOut({ redirect: false, callbackUrl: CB }), { url: CB });
  assert.deepEqual(sessionCookies(jar), []);
  assert.equal(await getSession(), null);
});
