import http from "node:http";
// Shared helpers for the next-auth/react client suite (not a test file).
import assert from "node:assert/strict";

/** The server under test, from $AUTH_ORIGIN (e.g. http://127.0.0.1:41234). Exits loudly if unset. */
export function authOrigin() {
  const raw = process.env.AUTH_ORIGIN;
  if (!raw) {
    const msg =
      "AUTH_ORIGIN is not set. Start the server under test and run e.g.\n" +
      "  AUTH_ORIGIN=http://127.0.0.1:41234 npm test --prefix tests/js";
    console.error(msg);
    throw new Error(msg);
  }
  const u = new URL(raw);
  if (u.pathname !== "/" || u.search) throw new Error(`AUTH_ORIGIN must be an origin only, got ${raw}`);
  return u.origin;
}

export const SESSION_COOKIE = /^(__Secure-)?(next-auth|authjs)\.session-token(\.\d+)?$/;
export const CSRF_COOKIE = /^(__Host-)?(next-auth|authjs)\.csrf-token$/;

/**
 * A browser-like fetch over Node's global fetch, bound to one cookie jar (a Map name -> raw value).
 * Host-only jar: Domain/Path/Secure are ignored (the server is a single origin).
 * `base` resolves relative URLs (needed once `window` exists: the client then uses "/api/auth/...").
 * `jar === null` sends no cookies at all (like Node's bare fetch) but still records Set-Cookie headers.
 * Every exchange is appended to `log` as {method, url, status, setCookies}.
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
    log.push({ method: (init.method || "GET").toUpperCase(), url: String(target), status: res.status, setCookies });
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
        else jar.set(name, value); // keep the raw (percent-encoded) value, as a browser does
      }
    }
    return res;
  };
  fetchWithJar.log = log;
  return fetchWithJar;
}

/**
 * A `fetch` whose connections come from `localAddress` (another loopback address, 127.0.0.2):
 * the server sees another client. Node's own fetch cannot choose its source address.
 */
export function fetchFrom(localAddress) {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = {};
      new Headers(init.headers || {}).forEach((value, name) => (headers[name] = value));
      const request = http.request(new URL(url), { method: init.method || "GET", headers, localAddress }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const h = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const body = [204, 304].includes(res.statusCode) ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status: res.statusCode, headers: h }));
        });
        res.on("error", reject);
      });
      request.on("error", reject);
      if (init.body != null) request.write(String(init.body));
      request.end();
    });
}

export const sessionCookies = (jar) => [...jar].filter(([k]) => SESSION_COOKIE.test(k));

/** Concatenate chunked session cookie values (name, name.0, name.1 ...) into one token string. */
export function sessionToken(jar) {
  const parts = sessionCookies(jar).sort(([a], [b]) => (+a.split(".").pop() || 0) - (+b.split(".").pop() || 0));
  return parts.length ? parts.map(([, v]) => decodeURIComponent(v)).join("") : null;
}

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

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const DAY = 86_400_000;

/**
 * The session JSON of a guest: {user:{name:null,email:null,image:null}, expires:<ISO ~30 d ahead>, isLoggedIn:false}.
 * Note: the real next-auth server drops undefined user fields (authorize returns only {id}), so a missing
 * field is accepted as well as null; any non-null value fails.
 */
export function assertGuestSession(s, { now = Date.now() } = {}) {
  assert.ok(s && typeof s === "object", `expected a session object, got ${JSON.stringify(s)}`);
  assert.ok(s.user && typeof s.user === "object", `session.user must be an object: ${JSON.stringify(s)}`);
  for (const k of ["name", "email", "image"])
    assert.equal(s.user[k] ?? null, null, `session.user.${k} must be null for a guest: ${JSON.stringify(s)}`);
  assert.strictEqual(s.isLoggedIn, false, `isLoggedIn must be false for a guest: ${JSON.stringify(s)}`);
  assert.equal(typeof s.expires, "string");
  assert.match(s.expires, ISO, "expires must be an ISO-8601 UTC timestamp");
  const delta = Date.parse(s.expires) - (now + 30 * DAY);
  assert.ok(Math.abs(delta) < 10 * 60_000, `expires ${s.expires} should be ~30 days from now (off by ${delta} ms)`);
}

/**
 * Optional: when AUTH_TEST_SECRET is the server's secret, decrypt the session JWE with next-auth's own
 * `decode` (A256GCM, HKDF "NextAuth.js Generated Encryption Key"). Returns null when no secret is given.
 */
export async function decodeSession(jar) {
  const secret = process.env.AUTH_TEST_SECRET;
  if (!secret) return null;
  const { decode } = await import("next-auth/jwt");
  const token = sessionToken(jar);
  assert.ok(token, "no session cookie to decode");
  const claims = await decode({ token, secret });
  assert.ok(claims, "session cookie did not decrypt with AUTH_TEST_SECRET");
  return claims;
}
