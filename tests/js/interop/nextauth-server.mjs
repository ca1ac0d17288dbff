#!/usr/bin/env node
// nextauth-server.mjs: the REAL next-auth 4.24.15 `NextAuth()` pages-API handler behind plain node:http,
// so the Rust tests can compare the Rust server with the original, or mix the two (tokens, cookies).
// `next` itself is not installed: this file emulates the small part of the Next.js pages API runtime that
// next-auth's `NextAuthApiHandler` (node_modules/next-auth/next/index.js) uses:
//   req.query   = parsed query string (node:querystring, repeated keys become arrays, like Next)
//                 + `nextauth` = the decoded path segments after /api/auth/ (the [...nextauth] catch-all)
//   req.body    = JSON.parse for application/json, querystring.parse for x-www-form-urlencoded,
//                 else the raw string ("" when there is no body), like Next's default bodyParser (1 MB limit;
//                 invalid JSON -> 400 "Invalid JSON")
//   req.cookies = cookie.parse(Cookie header), with the same `cookie` package next-auth uses
//   res.status(), res.send(), res.json(), res.redirect() as in Next's api-utils sendData/sendJson/redirect;
//   setHeader/getHeader/end are node:http's own. (Next's ETag / 304 handling is left out.)
// Paths outside /api/auth/<something> get 404; a handler exception gets 500 "Internal Server Error".
//
// Config: one Credentials provider "anon" whose authorize() returns { id: "anon-<uuid>" }, JWT sessions,
// jwt callback = identity, session callback adds { userId: token.sub ?? null, isGuest: token.gst != null }.
//
// Env:
//   AUTH_SECRET   required; the next-auth `secret`
//   PORT          port on 127.0.0.1 (default 0 = any free port)
//   NEXTAUTH_URL  optional; default http://127.0.0.1:<actual port>/api/auth. It is set before next-auth is
//                 imported (next-auth is imported only once the port is known).
// Stdout: exactly one line `listening <port>` once the server accepts requests; all logging goes to stderr.
// Exits 0 on SIGTERM/SIGINT; 2 when AUTH_SECRET is missing; 1 when it cannot listen.
//
// Manual check (repo root; needs curl):
//   AUTH_SECRET=s3cret PORT=39123 node tests/js/interop/nextauth-server.mjs &      # -> listening 39123
//   B=http://127.0.0.1:39123/api/auth; J=/tmp/jar.txt; rm -f $J
//   CSRF=$(curl -s -c $J -b $J $B/csrf | node -pe 'JSON.parse(require("fs").readFileSync(0)).csrfToken')
//   curl -s -c $J -b $J -d "csrfToken=$CSRF&json=true&callbackUrl=http://127.0.0.1:39123/" $B/callback/anon
//     -> {"url":"http://127.0.0.1:39123/"}
//   curl -s -b $J $B/session
//     -> {"user":{},"expires":"...","userId":"anon-<uuid>","isGuest":false}
//   T=$(awk '$6=="next-auth.session-token"{print $7}' $J)
//   echo "{\"op\":\"decode\",\"secret\":\"s3cret\",\"token\":\"$T\"}" | node tests/js/interop/jwt.mjs
//     -> {"claims":{"sub":"anon-<uuid>","iat":...,"exp":...,"jti":"..."}}
//   T2=$(echo '{"op":"encode","secret":"s3cret","claims":{"sub":"guest-1","gst":1}}' | node tests/js/interop/jwt.mjs | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
//   curl -s -H "Cookie: next-auth.session-token=$T2" $B/session
//     -> {"user":{},"expires":"...","userId":"guest-1","isGuest":true}
//   kill %1                                                                        # exits 0

import http from "node:http";
import querystring from "node:querystring";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

// Stdout carries only the `listening` line; next-auth's logger (console.error/warn) already uses stderr.
const out = process.stdout.write.bind(process.stdout);
for (const k of ["log", "info", "debug"]) console[k] = (...a) => console.error(...a);

const SECRET = process.env.AUTH_SECRET;
if (!SECRET) {
  process.stderr.write("nextauth-server.mjs: AUTH_SECRET must be set\n");
  process.exit(2);
}
const PORT = Number(process.env.PORT ?? 0);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  process.stderr.write(`nextauth-server.mjs: bad PORT ${JSON.stringify(process.env.PORT)}\n`);
  process.exit(2);
}

const BASE_PATH = "/api/auth/";
const BODY_LIMIT = 1024 * 1024; // Next's default bodyParser sizeLimit ("1mb")
let handler; // set once next-auth is loaded (before the `listening` line is printed)

// The `cookie` package exactly as next-auth resolves it (cookie 0.7.2), used like Next's req.cookies.
const requireFromNextAuth = createRequire(createRequire(import.meta.url).resolve("next-auth"));
const { parse: parseCookies } = requireFromNextAuth("cookie");

/** Read the request body into a string, rejecting bodies over BODY_LIMIT. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > BODY_LIMIT) reject(Object.assign(new Error("Body exceeded 1mb limit"), { status: 413 }));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Next's default bodyParser: JSON, urlencoded, or the raw string. */
function parseBody(raw, contentType) {
  const type = (contentType || "text/plain").split(";")[0].trim().toLowerCase();
  if (type === "application/json" || type === "application/ld+json") {
    if (raw.length === 0) return {}; // Next: an empty JSON body parses to {}
    try {
      return JSON.parse(raw);
    } catch {
      throw Object.assign(new Error("Invalid JSON"), { status: 400 });
    }
  }
  if (type === "application/x-www-form-urlencoded") return { ...querystring.parse(raw) };
  return raw;
}

/** Add the NextApiResponse helpers next-auth calls to a node:http ServerResponse. */
function decorateResponse(res) {
  res.status = (code) => {
    res.statusCode = code;
    return res;
  };
  res.send = (body) => {
    // Next's sendData (minus ETag): objects/numbers/booleans become JSON; strings are sent as they are.
    if (body === null || body === undefined) return res.end();
    if (Buffer.isBuffer(body)) {
      if (!res.getHeader("Content-Type")) res.setHeader("Content-Type", "application/octet-stream");
      res.setHeader("Content-Length", body.length);
      return res.end(body);
    }
    const jsonLike = ["object", "number", "boolean"].includes(typeof body);
    const text = jsonLike ? JSON.stringify(body) : String(body);
    if (jsonLike) res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(text));
    return res.end(text);
  };
  res.json = (body) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    return res.send(JSON.stringify(body));
  };
  res.redirect = (statusOrUrl, url) => {
    if (typeof statusOrUrl === "string") [url, statusOrUrl] = [statusOrUrl, 307];
    res.writeHead(statusOrUrl, { Location: url });
    res.write(url);
    return res.end();
  };
  return res;
}

async function onRequest(req, res) {
  decorateResponse(res);
  if (!handler) {
    // Only possible with a fixed PORT, before the `listening` line: next-auth is still loading.
    res.statusCode = 503;
    return res.end("Starting");
  }
  const url = new URL(req.url, "http://internal");
  if (!url.pathname.startsWith(BASE_PATH) || url.pathname.length === BASE_PATH.length) {
    res.statusCode = 404;
    return res.end("Not Found");
  }
  try {
    const segments = url.pathname.slice(BASE_PATH.length).split("/").filter(Boolean).map(decodeURIComponent);
    req.query = { ...querystring.parse(url.search.slice(1)), nextauth: segments };
    req.cookies = parseCookies(req.headers.cookie || "");
    req.body = parseBody(await readBody(req), req.headers["content-type"]);
    await handler(req, res);
  } catch (e) {
    if (!e?.status) console.error("nextauth-server.mjs: handler error", e);
    if (!res.headersSent) {
      res.statusCode = e?.status ?? 500;
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.end(e?.status ? e.message : "Internal Server Error");
    } else res.end();
  }
}

const server = http.createServer((req, res) => void onRequest(req, res));
server.on("error", (e) => {
  process.stderr.write(`nextauth-server.mjs: ${e.message}\n`);
  process.exit(1);
});

function shutdown() {
  process.stderr.write("nextauth-server.mjs: shutting down\n");
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

server.listen(PORT, "127.0.0.1", async () => {
  const port = server.address().port;
  process.env.NEXTAUTH_URL ??= `http://127.0.0.1:${port}/api/auth`; // before next-auth is imported
  // CommonJS modules with __esModule: the real export is at .default (sometimes .default.default).
  const unwrap = (m) => (typeof m.default === "function" ? m.default : m.default.default);
  const NextAuth = unwrap(await import("next-auth"));
  const Credentials = unwrap(await import("next-auth/providers/credentials"));
  handler = NextAuth({
    secret: SECRET,
    providers: [
      Credentials({
        id: "anon",
        name: "Anonymous",
        credentials: {},
        authorize: async () => ({ id: "anon-" + randomUUID() }),
      }),
    ],
    session: { strategy: "jwt" },
    callbacks: {
      jwt: ({ token }) => token,
      session: ({ session, token }) => ({ ...session, userId: token.sub ?? null, isGuest: token.gst != null }),
    },
  });
  out(`listening ${port}\n`);
});
