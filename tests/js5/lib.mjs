// Shared helpers for the next-auth v5 client suite (not a test file).
import assert from "node:assert/strict";

/** The origin of a server under test, from the environment variable `name`. */
export function originFrom(name) {
  const raw = process.env[name];
  if (!raw) throw new Error(`${name} is not set: start the server under test (see README.md)`);
  const u = new URL(raw);
  if (u.pathname !== "/" || u.search) throw new Error(`${name} must be an origin only, got ${raw}`);
  return u.origin;
}

export const SESSION_COOKIE = /^(__Secure-)?authjs\.session-token(\.\d+)?$/;
export const CSRF_COOKIE = /^(__Host-)?authjs\.csrf-token$/;

/**
 * A browser-like fetch bound to one cookie jar (Map name -> raw value; `null` sends no cookies).
 * `base` resolves relative URLs (the client uses "/api/auth/..." once `window` exists). Every
 * exchange is appended to `log` as {method, url, status, sent (request headers), setCookies}.
 */
export function makeFetch({ jar, base, realFetch = globalThis.fetch, log = [] }) {
  const fetchWithJar = async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = base ? new URL(url, base) : url;
    const headers = new Headers(init.headers || {});
    if (jar && jar.size && !headers.has("cookie"))
      headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await realFetch(target, { ...init, headers, redirect: init.redirect ?? "manual" });
    const setCookies = res.headers.getSetCookie();
    log.push({ method: (init.method || "GET").toUpperCase(), url: String(target), status: res.status, sent: headers, setCookies });
    if (jar) {
      for (const sc of setCookies) {
        const [pair, ...attrs] = sc.split(";");
        const i = pair.indexOf("=");
        const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
        const dead =
          value === "" ||
          attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) ||
          attrs.some((a) => /^\s*expires\s*=/i.test(a) && new Date(a.split("=")[1]) < new Date());
        if (dead) jar.delete(name);
        else jar.set(name, value);
      }
    }
    return res;
  };
  fetchWithJar.log = log;
  return fetchWithJar;
}

export const sessionCookies = (jar) => [...jar].filter(([k]) => SESSION_COOKIE.test(k));

/** Poll `cond` until it returns a truthy value or `timeout` ms pass; returns that value. */
export async function waitFor(cond, { timeout = 10_000, interval = 20, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await cond();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` + (last instanceof Error ? `: ${last.message}` : ""));
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A guest of the anonymous example: null user fields, isLoggedIn false, an ISO expiry. */
export function assertGuestSession(s) {
  assert.ok(s && typeof s === "object", `expected a session object, got ${JSON.stringify(s)}`);
  assert.ok(s.user && typeof s.user === "object", `session.user must be an object: ${JSON.stringify(s)}`);
  for (const k of ["name", "email", "image"]) assert.equal(s.user[k] ?? null, null, JSON.stringify(s));
  assert.strictEqual(s.isLoggedIn, false, JSON.stringify(s));
  assert.match(s.expires, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/);
}

/**
 * The v5 client keeps a BroadcastChannel("next-auth") per call and never closes it; in Node an
 * open channel keeps the process (and so `node --test`) alive. Without the global the client
 * uses its own no-op channel; nothing on the wire changes.
 */
export function withoutBroadcastChannel() {
  delete globalThis.BroadcastChannel;
}
