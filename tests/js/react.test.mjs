// Recipe B: the real next-auth/react SessionProvider + useSession under jsdom + React, with a cookie-jar fetch.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { authOrigin, makeFetch, sessionCookies, assertGuestSession, waitFor } from "./lib.mjs";

const ORIGIN = authOrigin();
const PAGE = ORIGIN + "/page";
process.env.NEXTAUTH_URL = ORIGIN + "/api/auth"; // only its path (basePath) matters once `window` exists

// jsdom globals BEFORE importing react-dom / next-auth/react (the client checks `typeof window` per call).
const dom = new JSDOM("<!doctype html><html><body><div id=root></div></body></html>", { url: PAGE, pretendToBeVisual: true });
for (const k of ["window", "document", "navigator", "localStorage", "location", "StorageEvent"])
  Object.defineProperty(globalThis, k, { value: dom.window[k], configurable: true, writable: true });

// Browser-like fetch: relative URLs resolve against the page, cookies live in a swappable jar.
const realFetch = globalThis.fetch;
let jar = new Map();
let net = makeFetch({ jar, base: PAGE, realFetch });
const useJar = (j) => { jar = j; net = makeFetch({ jar: j, base: PAGE, realFetch }); return net.log; };
globalThis.fetch = dom.window.fetch = (...args) => net(...args);

const React = (await import("react")).default;
const { createRoot } = await import("react-dom/client");
const { SessionProvider, useSession, signIn, signOut } = await import("next-auth/react");
const h = React.createElement;

const mounted = new Set();
function mount(children) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const root = createRoot(el);
  root.render(h(SessionProvider, null, children));
  const r = { root, el };
  mounted.add(r);
  return r;
}
function unmount(r) {
  if (!mounted.delete(r)) return;
  r.root.unmount();
  r.el.remove();
}
after(() => {
  for (const r of [...mounted]) unmount(r); // roots left by a failed test
  dom.window.close();
});

/** A probe that exposes the latest useSession() value and the committed status transitions. */
function makeProbe() {
  const probe = { api: null, statuses: [] };
  probe.Component = function Probe() {
    const s = useSession();
    probe.api = s;
    React.useEffect(() => {
      if (probe.statuses.at(-1) !== s.status) probe.statuses.push(s.status);
    }, [s.status, s.data]);
    return h("span", { id: "status" }, s.status);
  };
  return probe;
}
const reqs = (log) => log.map((e) => `${e.method} ${new URL(e.url).pathname}`);

test("SessionProvider: loading -> unauthenticated -> signIn -> authenticated -> update -> signOut", async () => {
  const log = useJar(new Map());
  localStorage.clear();
  const probe = makeProbe();
  const r = mount(h(probe.Component));

  await waitFor(() => probe.statuses.at(-1) === "unauthenticated", { what: "unauthenticated after mount" });
  assert.deepEqual(probe.statuses, ["loading", "unauthenticated"]);
  assert.equal(probe.api.data, null);
  assert.equal(r.el.textContent, "unauthenticated");

  const res = await signIn("anon", { redirect: false }); // callbackUrl defaults to window.location.href
  assert.deepEqual(res, { error: null, status: 200, ok: true, url: PAGE });
  assert.ok(sessionCookies(jar).length >= 1, "no session cookie after sign-in");
  await waitFor(() => probe.statuses.at(-1) === "authenticated", { what: "authenticated after signIn" });
  assertGuestSession(probe.api.data);
  assert.equal(location.href, PAGE, "redirect:false must not navigate");

  // useSession().update(): status goes through loading while GET /csrf + POST /session run.
  const before = probe.statuses.length;
  const updated = await probe.api.update({ cart: ["sku-1"] });
  assertGuestSession(updated);
  await waitFor(() => probe.statuses.at(-1) === "authenticated" && probe.statuses.length >= before + 2, { what: "authenticated after update" });
  assert.deepEqual(probe.statuses.slice(before), ["loading", "authenticated"]);
  assertGuestSession(probe.api.data);
  const post = log.find((e) => e.method === "POST" && new URL(e.url).pathname === "/api/auth/session");
  assert.ok(post && post.status === 200, "update() must POST /api/auth/session and get 200");

  // Another tab broadcasts a session event: the provider refetches GET /session and stays signed in.
  const n = log.length;
  window.dispatchEvent(new StorageEvent("storage", {
    key: "nextauth.message",
    newValue: JSON.stringify({ event: "session", data: { trigger: "getSession" }, timestamp: Math.floor(Date.now() / 1000) }),
  }));
  await waitFor(() => log.slice(n).some((e) => e.method === "GET" && e.url.endsWith("/api/auth/session")), { what: "refetch on storage event" });
  await waitFor(() => probe.statuses.at(-1) === "authenticated" && probe.api.data, { what: "still authenticated" });

  const out = await signOut({ redirect: false });
  assert.deepEqual(out, { url: PAGE });
  await waitFor(() => probe.statuses.at(-1) === "unauthenticated", { what: "unauthenticated after signOut" });
  assert.equal(probe.api.data, null);
  assert.deepEqual(sessionCookies(jar), [], "signout must delete the session cookie");
  const msg = JSON.parse(localStorage.getItem("nextauth.message"));
  assert.equal(msg.event, "session");
  assert.deepEqual(msg.data, { trigger: "signout" });
  assert.equal(typeof msg.timestamp, "number");

  assert.deepEqual(probe.statuses, ["loading", "unauthenticated", "authenticated", "loading", "authenticated", "unauthenticated"]);
  assert.deepEqual(reqs(log.slice(0, n)), [
    "GET /api/auth/session", // mount
    "GET /api/auth/providers", "GET /api/auth/csrf", "POST /api/auth/callback/anon", // signIn
    "GET /api/auth/session", // provider refresh after signIn
    "GET /api/auth/csrf", "POST /api/auth/session", // update()
  ]);
  assert.deepEqual(reqs(log.slice(-3)), ["GET /api/auth/csrf", "POST /api/auth/signout", "GET /api/auth/session"]);
  assert.ok(log.every((e) => e.status === 200), `every request must be 200: ${log.map((e) => `${e.method} ${e.url} ${e.status}`)}`);
  unmount(r);
});

// The guide's frontend snippet, verbatim in behaviour: sign in as a guest whenever unauthenticated.
function makeGuestPage() {
  const page = { calls: 0, responses: [], api: null };
  page.Component = function GuestPage() {
    const { status, data } = useSession();
    page.api = { status, data };
    React.useEffect(() => {
      if (status === "unauthenticated") {
        page.calls++;
        signIn("anon", { redirect: false }).then((response) => page.responses.push(response));
      }
    }, [status]);
    return h("p", null, status === "authenticated" ? `guest:${data.isLoggedIn}` : status);
  };
  return page;
}

const guestJar = new Map();

test("guide snippet: useEffect signs in as anon when unauthenticated; ends authenticated, isLoggedIn false", async () => {
  const log = useJar(guestJar);
  const page = makeGuestPage();
  const r = mount(h(page.Component));
  await waitFor(() => page.api?.status === "authenticated", { what: "authenticated via the guide's useEffect" });
  await waitFor(() => page.responses.length === 1, { what: "the signIn promise" });
  assert.equal(page.calls, 1, "signIn must run exactly once");
  assert.deepEqual(page.responses[0], { error: null, status: 200, ok: true, url: PAGE });
  assert.strictEqual(page.api.data.isLoggedIn, false);
  assertGuestSession(page.api.data);
  assert.equal(r.el.textContent, "guest:false");
  assert.ok(sessionCookies(guestJar).length >= 1);
  assert.equal(reqs(log).filter((x) => x === "POST /api/auth/callback/anon").length, 1);
  unmount(r);
});

test("guide snippet after a reload: the guest cookie persists, no second signIn", async () => {
  const log = useJar(guestJar); // same browser, new page load
  const page = makeGuestPage();
  const r = mount(h(page.Component));
  await waitFor(() => page.api?.status === "authenticated", { what: "authenticated from the existing cookie" });
  assert.equal(page.calls, 0, "an existing guest must not be signed in again");
  assert.strictEqual(page.api.data.isLoggedIn, false);
  assertGuestSession(page.api.data);
  assert.deepEqual(reqs(log), ["GET /api/auth/session"]);
  unmount(r);
});
