#!/usr/bin/env node
// jwt.mjs: one-shot CLI around the REAL session-token code of
//   * next-auth 4.24.15  (`next-auth/jwt`: JWE dir/A256GCM, HKDF salt "" by default)   format "nextauth-v4"
//   * @auth/core 0.41.3  (`@auth/core/jwt`: JWE dir/A256CBC-HS512 + kid, salt = cookie name) format "authjs-v5"
// so the Rust tests can check that their tokens and the libraries' tokens are interchangeable.
// Packages resolve from tests/js/node_modules (this file's location), whatever the cwd.
// No network is used.
//
// Contract (see README.md in this folder):
//   stdin : ONE JSON object
//     { "op": "encode"|"decode"|"getToken",
//       "format"?: "nextauth-v4"|"authjs-v5"          (default "nextauth-v4"),
//       "secret": string | string[]                    (v4 takes a single string only),
//       "salt"?: string                                (v4 default ""; v5 default "authjs.session-token"),
//       "token"?: string                               (decode),
//       "claims"?: object                              (encode; default {}),
//       "maxAge"?: number                              (encode; seconds, library default 30 days),
//       "cookies"?: {name: value}, "headers"?: {name: value}, "secureCookie"?: boolean   (getToken) }
//   stdout: ONE line of JSON
//     encode   -> {"token": "<JWE>"}                 | {"token": null, "error": "<message>"}
//     decode   -> {"claims": {...}}                   | {"claims": null, "error": "<message>", "code"?: "<jose code>"}
//     getToken -> {"claims": {...}|null, "token": "<reassembled raw token>"|null}
//   exit  : 0 whenever the input was well-formed (library failures are reported in the JSON);
//           2 with a message on stderr when stdin is not a well-formed request.
// Library log output (next-auth's logger, warnings) goes to stderr, never stdout.
//
// Manual checks (run from the repo root):
//   echo '{"op":"encode","format":"nextauth-v4","secret":"s3cret","claims":{"sub":"u1"}}' | node tests/js/interop/jwt.mjs
//     -> {"token":"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..<iv>.<ct>.<tag>"}
//   T=$(echo '{"op":"encode","format":"nextauth-v4","secret":"s3cret","claims":{"sub":"u1"}}' | node tests/js/interop/jwt.mjs | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
//   echo "{\"op\":\"decode\",\"format\":\"nextauth-v4\",\"secret\":\"s3cret\",\"token\":\"$T\"}" | node tests/js/interop/jwt.mjs
//     -> {"claims":{"sub":"u1","iat":...,"exp":...,"jti":"..."}}
//   same with "secret":"wrong" -> {"claims":null,"error":"decryption operation failed","code":"ERR_JWE_DECRYPTION_FAILED"}
//   v5: '{"op":"encode","format":"authjs-v5","secret":["new","old"],"claims":{"sub":"u1"}}' then decode with
//       "secret":["other","new"] -> claims; header is {"alg":"dir","enc":"A256CBC-HS512","kid":"..."}
//   getToken with a chunked cookie (a > 3933-char token split into .0 / .1, as next-auth writes it):
//   node -e 'process.stdout.write(JSON.stringify({op:"encode",secret:"s3cret",claims:{sub:"big",blob:"x".repeat(5000)}}))' \
//    | node tests/js/interop/jwt.mjs \
//    | node -e 'const t=JSON.parse(require("fs").readFileSync(0)).token; process.stdout.write(JSON.stringify({op:"getToken",
//        secret:"s3cret",cookies:{"next-auth.session-token.0":t.slice(0,3933),"next-auth.session-token.1":t.slice(3933)}}))' \
//    | node tests/js/interop/jwt.mjs          -> {"claims":{"sub":"big","blob":"xxxx…",...},"token":"<the whole ~6.9k-char JWE>"}
//   malformed: echo 'nope' | node tests/js/interop/jwt.mjs; echo $?   -> message on stderr, 2

// Keep stdout for our single result line: anything a library prints goes to stderr instead.
const out = process.stdout.write.bind(process.stdout);
for (const k of ["log", "info", "debug", "warn"]) console[k] = (...a) => console.error(...a);
const stderrLogger = { error: (...a) => console.error(...a), warn: (...a) => console.error(...a), debug: () => {} };

/** Malformed request: explain on stderr and exit 2 (nothing on stdout). */
function fail(msg) {
  process.stderr.write(`jwt.mjs: ${msg}\n`);
  process.exit(2);
}

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStrMap = (v) => isObj(v) && Object.values(v).every((x) => typeof x === "string");

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

/** Validate the request; returns it with defaults filled in, or exits 2. */
function parseRequest(text) {
  let req;
  try {
    req = JSON.parse(text);
  } catch (e) {
    fail(`stdin is not JSON (${e.message})`);
  }
  if (!isObj(req)) fail("stdin must be one JSON object");
  const { op, format = "nextauth-v4", secret, salt } = req;
  if (!["encode", "decode", "getToken"].includes(op)) fail(`"op" must be "encode", "decode" or "getToken", got ${JSON.stringify(op)}`);
  if (!["nextauth-v4", "authjs-v5"].includes(format)) fail(`"format" must be "nextauth-v4" or "authjs-v5", got ${JSON.stringify(format)}`);
  const okSecret = typeof secret === "string" ? secret.length > 0
    : Array.isArray(secret) && secret.length > 0 && secret.every((s) => typeof s === "string" && s.length > 0);
  if (!okSecret) fail('"secret" must be a non-empty string or a non-empty array of non-empty strings');
  if (format === "nextauth-v4" && typeof secret !== "string") fail('format "nextauth-v4" takes a single string "secret" (next-auth v4 has no key rotation)');
  if (salt !== undefined && typeof salt !== "string") fail('"salt" must be a string');
  if (op === "encode") {
    if (req.claims !== undefined && !isObj(req.claims)) fail('"claims" must be a JSON object');
    if (req.maxAge !== undefined && (typeof req.maxAge !== "number" || !Number.isFinite(req.maxAge))) fail('"maxAge" must be a finite number');
  }
  if (op === "decode" && typeof req.token !== "string") fail('"token" must be a string');
  if (op === "getToken") {
    if (req.cookies !== undefined && !isStrMap(req.cookies)) fail('"cookies" must be an object of string values');
    if (req.headers !== undefined && !isStrMap(req.headers)) fail('"headers" must be an object of string values');
    if (req.secureCookie !== undefined && typeof req.secureCookie !== "boolean") fail('"secureCookie" must be a boolean');
  }
  return { ...req, format };
}

/** The two libraries behind one interface: {encode, decode, getToken, defaultSalt}. */
async function library(format) {
  if (format === "nextauth-v4") {
    const m = await import("next-auth/jwt"); // CommonJS: named exports are detected by Node
    return { encode: m.encode, decode: m.decode, getToken: m.getToken, defaultSalt: "" };
  }
  const m = await import("@auth/core/jwt"); // ESM
  return { encode: m.encode, decode: m.decode, getToken: m.getToken, defaultSalt: "authjs.session-token" };
}

const errInfo = (e) => ({ error: String(e?.message ?? e), ...(e?.code ? { code: e.code } : {}) });

async function run(req) {
  const lib = await library(req.format);
  const salt = req.salt ?? lib.defaultSalt;
  switch (req.op) {
    case "encode":
      try {
        const params = { token: req.claims ?? {}, secret: req.secret, salt };
        if (req.maxAge !== undefined) params.maxAge = req.maxAge; // else the library default (2592000)
        return { token: await lib.encode(params) };
      } catch (e) {
        return { token: null, ...errInfo(e) };
      }
    case "decode":
      try {
        const claims = await lib.decode({ token: req.token, secret: req.secret, salt });
        // Both libraries return null (no throw) for an empty token.
        return claims ? { claims } : { claims: null, error: "decode returned null (empty token)" };
      } catch (e) {
        return { claims: null, ...errInfo(e) };
      }
    case "getToken": {
      const cookies = req.cookies ?? {};
      const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      let fakeReq;
      if (req.format === "nextauth-v4") {
        // next-auth v4 reads req.cookies (an object, like Next's pages API) and req.headers.authorization.
        fakeReq = { cookies, headers };
      } else {
        // @auth/core reads only headers: put the cookies into a Cookie header unless one was given.
        if (headers.cookie === undefined && Object.keys(cookies).length)
          headers.cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; ");
        fakeReq = { headers };
      }
      const params = { req: fakeReq, secret: req.secret, logger: stderrLogger };
      if (req.secureCookie !== undefined) params.secureCookie = req.secureCookie; // v4 default: NEXTAUTH_URL is https
      if (req.format === "authjs-v5" && req.salt !== undefined) params.salt = req.salt; // v5 default: the cookie name
      // getToken swallows decode errors and returns null; the raw call shows what it reassembled.
      try {
        const claims = await lib.getToken(params);
        const token = await lib.getToken({ ...params, raw: true });
        return { claims: claims ?? null, token: token || null };
      } catch (e) {
        return { claims: null, token: null, ...errInfo(e) };
      }
    }
  }
}

const req = parseRequest(await readStdin());
const result = await run(req);
out(JSON.stringify(result) + "\n");
