// The real next-auth v5 SessionProvider / useSession under jsdom + React 19, against the anonymous
// example serving the `authjs-v5` token format. This is the issue's failure: with `{}` for "no
// session" the provider said `authenticated` to a signed-out visitor; with `null` it must not.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { originFrom, makeFetch, sessionCookies, assertGuestSession, waitFor, withoutBroadcastChannel } from "./lib.mjs";

const ORIGIN = originFrom("AUTH_ORIGIN");
const PAGE = ORIGIN + "/page";
process.env.NEXTAUTH_URL = ORIGIN + "/api/auth"; // only its path (basePath) matters once `window` exists
withoutBroadcastChannel();

const dom = new JSDOM("<!doctype html><html><body><div id=root></div></body></html>", { url: PAGE, pretendToBeVisual: true });
for (const k of ["window", "document", "navigator", "localStorage", "location"])
  Object.defineProperty(globalThis, k, { value: dom.window[k], configurable: true, writable: true });

const jar = new Map();
const log = [];
const net = makeFetch({ jar, base: PAGE, realFetch: globalThis.fetch, log });
globalThis.fetch = dom.window.fetch = net;

const React = (await import("react")).default;
const { createRoot } = await import("react-dom/client");
const { SessionProvider, useSession, signIn, signOut } = await import("next-auth/react");
const h = React.createElement;
after(() => dom.window.close());

test("SessionProvider: unauthenticated -> signIn -> authenticated -> update() -> signOut -> unauthenticated", async () => {
  const probe = { api: null, statuses: [] };
  function Probe() {
    const s = useSession();
    probe.api = s;
    React.useEffect(() => {
      if (probe.statuses.at(-1) !== s.status) probe.statuses.push(s.status);
    }, [s.status, s.data]);
    return h("span", null, s.status);
  }
  const el = document.getElementById("root");
  const root = createRoot(el);
  root.render(h(SessionProvider, null, h(Probe)));
  try {
    await waitFor(() => probe.statuses.at(-1) === "unauthenticated", { what: "unauthenticated after mount" });
    assert.deepEqual(probe.statuses, ["loading", "unauthenticated"]);
    assert.equal(probe.api.data, null);

    const res = await signIn("anon", { redirect: false }); // callbackUrl defaults to location.href
    assert.deepEqual(res, { error: undefined, code: undefined, status: 200, ok: true, url: PAGE });
    await waitFor(() => probe.statuses.at(-1) === "authenticated", { what: "authenticated after signIn" });
    assertGuestSession(probe.api.data);
    assert.equal(location.href, PAGE, "redirect:false must not navigate");

    const updated = await probe.api.update({ cart: ["sku-1"] });
    assertGuestSession(updated);
    await waitFor(() => probe.statuses.at(-1) === "authenticated" && probe.api.data, { what: "authenticated after update" });
    const post = log.find((e) => e.method === "POST" && new URL(e.url).pathname === "/api/auth/session");
    assert.ok(post && post.status === 200, "update() must POST /api/auth/session and get 200");

    assert.deepEqual(await signOut({ redirect: false }), { url: PAGE });
    await waitFor(() => probe.statuses.at(-1) === "unauthenticated", { what: "unauthenticated after signOut" });
    assert.equal(probe.api.data, null);
    assert.deepEqual(sessionCookies(jar), []);
    assert.deepEqual(probe.statuses, ["loading", "unauthenticated", "authenticated", "loading", "authenticated", "unauthenticated"]);
    assert.ok(log.every((e) => e.status === 200), log.map((e) => `${e.method} ${e.url} ${e.status}`).join("\n"));
  } finally {
    root.unmount();
  }
});
