#!/usr/bin/env node
// Passkey sign-ins per second against any server that speaks Auth.js v5's passkey protocol
// (docs: /work/shared/reference/authjs-v5-passkey-protocol.md): a software authenticator
// (ES256 through node:crypto, attestation "none", CBOR written by hand, what
// auth-runtime/src/providers/passkey/soft_authenticator.rs sends) and virtual browsers, each with
// a cookie jar of its own. No dependency beyond Node's own modules.
//
//   node bench/passkey_signins.mjs register BASE_URL USERS_FILE   registers USERS passkey users
//                                                                (one browser each, not timed)
//   node bench/passkey_signins.mjs run BASE_URL USERS_FILE        C browsers sign in for D seconds
//
// BASE_URL is the server's origin, e.g. http://localhost:3200 (the WebAuthn RP id is its host).
// Requests go to 127.0.0.1:PORT with `Host: localhost:PORT`.
//
// Environment: USERS (register: how many, 1000), EMAIL_PREFIX (register: "u<time>-"),
// CONNECTIONS (run: concurrent browsers, 32), DURATION (run: measured seconds, 10), WARMUP (run:
// seconds before, 2), SLICE (run: "k/n": this process takes users k, k+n, k+2n, ... so that
// several processes never share a passkey; "0/1").
//
// A sign-in, as next-auth/webauthn's signIn("passkey") does it from a signed-out browser:
//   1. GET  /api/auth/csrf                                   -> csrfToken (+ cookie)
//   2. GET  /api/auth/webauthn-options/passkey?action=authenticate  -> options (+ challenge cookie)
//   3. the authenticator signs authenticatorData || sha256(clientDataJSON)
//   4. POST /api/auth/callback/passkey  action=authenticate, data, csrfToken, callbackUrl,
//      json=true; header X-Auth-Return-Redirect: 1
// It counts as a success only when the answer is 200 with a JSON `url` that has no `error=` and a
// session cookie (`*session-token`) is set; the browser then drops its session cookie (the next
// sign-in starts signed out) and keeps its other cookies. Each browser uses its own passkeys, one
// at a time, so the signature counters only go forward.
//
// Prints one line: RESULT signins=N failures=N failures_short_signature=N (failures whose ECDSA
// signature had an r or s under 32 bytes) seconds=S rate=R p50_ms=.. p99_ms=.. requests=N
// (and FIRST_FAILURE ... when one failed).
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";

const [mode, baseArg, usersFile] = process.argv.slice(2);
if (!["register", "run"].includes(mode) || !baseArg || !usersFile) {
  console.error("usage: passkey_signins.mjs register|run BASE_URL USERS_FILE");
  process.exit(2);
}
const BASE = new URL(baseArg);
const ORIGIN = BASE.origin;
const RP_ID = BASE.hostname;
const PORT = Number(BASE.port || 80);
const HOST_HEADER = BASE.host;
const CALLBACK_URL = ORIGIN + "/";
const API = "/api/auth";

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over one keep-alive socket per browser: a request is written whole, the answer read
// (Content-Length or chunked), then the next request. Hand-written so that the driver spends its
// CPU on the protocol, not on an HTTP client's machinery: Node's speed caps the load it sends.

class Connection {
  constructor() {
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    this.pending = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: PORT });
      socket.setNoDelay(true);
      socket.once("connect", () => resolve());
      socket.once("error", (err) => {
        if (this.pending) this.pending.reject(err);
        reject(err);
      });
      socket.on("data", (chunk) => this.onData(chunk));
      socket.on("close", () => {
        this.socket = null;
        if (this.pending) {
          const { reject: fail } = this.pending;
          this.pending = null;
          fail(new Error("connection closed"));
        }
      });
      this.socket = socket;
    });
  }

  async request(method, path, headers, body) {
    if (!this.socket) {
      this.buffer = Buffer.alloc(0);
      await this.connect();
    }
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${HOST_HEADER}\r\n`;
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    head += "\r\n";
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body === undefined ? head : head + body);
    });
  }

  onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const response = parseResponse(this.buffer);
    if (!response) return;
    this.buffer = this.buffer.subarray(response.consumed);
    const pending = this.pending;
    this.pending = null;
    if (pending) pending.resolve(response);
    if (response.close && this.socket) {
      this.socket.destroy();
      this.socket = null;
    }
  }
}

/** A whole response at the start of `buf`, or null if more bytes are needed. */
function parseResponse(buf) {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const setCookies = [];
  let length = -1;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "set-cookie") setCookies.push(value);
    else if (name === "content-length") length = Number(value);
    else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
    else if (name === "connection") close = value.toLowerCase() === "close";
  }
  let offset = end + 4;
  let body;
  if (chunked) {
    const parts = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", offset);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString("latin1", offset, lineEnd), 16);
      const start = lineEnd + 2;
      if (buf.length < start + size + 2) return null;
      if (size === 0) {
        offset = start + 2; // no trailers expected
        break;
      }
      parts.push(buf.subarray(start, start + size));
      offset = start + size + 2;
    }
    body = Buffer.concat(parts).toString("utf8");
  } else {
    if (length < 0) length = 0;
    if (buf.length < offset + length) return null;
    body = buf.toString("utf8", offset, offset + length);
    offset += length;
  }
  return { status, setCookies, body, close, consumed: offset };
}

// ---------------------------------------------------------------------------------------------
// A browser: one connection, one cookie jar.

class Browser {
  constructor() {
    this.connection = new Connection();
    this.jar = new Map();
    this.requests = 0;
  }

  cookieHeader() {
    let out = "";
    for (const [name, value] of this.jar) out += (out ? "; " : "") + name + "=" + value;
    return out;
  }

  store(setCookies) {
    for (const line of setCookies) {
      const semi = line.indexOf(";");
      const pair = semi < 0 ? line : line.slice(0, semi);
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attributes = semi < 0 ? "" : line.slice(semi).toLowerCase();
      const expired =
        /max-age=0\b/.test(attributes) ||
        /max-age=-/.test(attributes) ||
        /expires=thu, 01 jan 1970/.test(attributes);
      if (expired || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async send(method, path, extraHeaders = [], body) {
    const headers = [...extraHeaders];
    const cookie = this.cookieHeader();
    if (cookie) headers.push(["Cookie", cookie]);
    const response = await this.connection.request(method, path, headers, body);
    this.requests++;
    this.store(response.setCookies);
    return response;
  }

  async getJson(path) {
    const response = await this.send("GET", path, [["Accept", "application/json"]]);
    if (response.status !== 200) throw new Failure(`GET ${path}: ${response.status} ${response.body.slice(0, 300)}`);
    try {
      return JSON.parse(response.body);
    } catch {
      throw new Failure(`GET ${path}: not JSON: ${response.body.slice(0, 300)}`);
    }
  }

  async csrf() {
    return (await this.getJson(`${API}/csrf`)).csrfToken;
  }

  /** POST /callback/passkey; returns the session cookie's name when signed in, or throws. */
  async answer(action, data) {
    const csrfToken = await this.csrf();
    const form = new URLSearchParams({
      action,
      data: JSON.stringify(data),
      csrfToken,
      callbackUrl: CALLBACK_URL,
      json: "true",
    }).toString();
    const response = await this.send(
      "POST",
      `${API}/callback/passkey`,
      [
        ["Content-Type", "application/x-www-form-urlencoded"],
        ["X-Auth-Return-Redirect", "1"],
        ["Accept", "application/json"],
      ],
      form,
    );
    let url;
    try {
      url = JSON.parse(response.body).url;
    } catch {
      url = undefined;
    }
    const sessionCookie = [...this.jar.keys()].find((name) => name.endsWith("session-token"));
    const setSession = response.setCookies.some((line) => /^[^=]*session-token=[^;]/.test(line));
    if (response.status !== 200 || typeof url !== "string" || url.includes("error=") || !setSession) {
      throw new Failure(
        `${action}: ${response.status} url=${url} session_cookie_set=${setSession} body=${response.body.slice(0, 300)}`,
      );
    }
    return sessionCookie;
  }

  signOutLocally() {
    for (const name of [...this.jar.keys()]) if (name.endsWith("session-token")) this.jar.delete(name);
  }
}

class Failure extends Error {}

// ---------------------------------------------------------------------------------------------
// The software authenticator.

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const sha256 = (data) => crypto.createHash("sha256").update(data).digest();
const RP_ID_HASH = sha256(RP_ID);
const FLAGS = 0x01 | 0x04 | 0x08 | 0x10; // UP | UV | BE | BS
const FLAG_AT = 0x40;

function cborHead(major, length) {
  major <<= 5;
  if (length < 24) return Buffer.from([major | length]);
  if (length < 0x100) return Buffer.from([major | 24, length]);
  if (length < 0x10000) return Buffer.from([major | 25, length >> 8, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = major | 26;
  out.writeUInt32BE(length, 1);
  return out;
}
const cborBytes = (bytes) => Buffer.concat([cborHead(2, bytes.length), bytes]);
const cborText = (text) => Buffer.concat([cborHead(3, Buffer.byteLength(text)), Buffer.from(text)]);

function authenticatorData(flags, counter, attested = Buffer.alloc(0)) {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter >>> 0);
  return Buffer.concat([RP_ID_HASH, Buffer.from([flags]), count, attested]);
}

function clientData(type, challenge) {
  // Members in the order browsers write them.
  return JSON.stringify({ type, challenge, origin: ORIGIN, crossOrigin: false });
}

class Passkey {
  constructor(saved) {
    if (saved) {
      this.email = saved.email;
      this.credentialId = Buffer.from(saved.credentialId, "base64url");
      this.userHandle = saved.userHandle;
      this.privateKey = crypto.createPrivateKey({ key: saved.jwk, format: "jwk" });
      this.counter = saved.counter;
    } else {
      const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
      this.privateKey = privateKey;
      this.credentialId = crypto.randomBytes(16);
      this.counter = 0;
    }
  }

  get id() {
    return b64url(this.credentialId);
  }

  save() {
    return {
      email: this.email,
      credentialId: this.id,
      userHandle: this.userHandle,
      jwk: this.privateKey.export({ format: "jwk" }),
      counter: this.counter,
    };
  }

  coseKey() {
    const jwk = this.privateKey.export({ format: "jwk" });
    return Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01]), // kty EC2, alg ES256, crv P-256
      Buffer.from([0x21]),
      cborBytes(Buffer.from(jwk.x, "base64url")),
      Buffer.from([0x22]),
      cborBytes(Buffer.from(jwk.y, "base64url")),
    ]);
  }

  register(options) {
    this.userHandle = options.user.id;
    const data = clientData("webauthn.create", options.challenge);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.coseKey()]);
    const authData = authenticatorData(FLAGS | FLAG_AT, this.counter, attested);
    const attestationObject = Buffer.concat([
      Buffer.from([0xa3]),
      cborText("fmt"),
      cborText("none"),
      cborText("attStmt"),
      Buffer.from([0xa0]),
      cborText("authData"),
      cborBytes(authData),
    ]);
    return {
      id: this.id,
      rawId: this.id,
      response: {
        clientDataJSON: b64url(data),
        attestationObject: b64url(attestationObject),
        transports: ["internal", "hybrid"],
        publicKeyAlgorithm: -7,
        authenticatorData: b64url(authData),
      },
      type: "public-key",
      clientExtensionResults: { credProps: { rk: true } },
      authenticatorAttachment: "platform",
    };
  }

  authenticate(options) {
    this.counter += 1;
    const data = clientData("webauthn.get", options.challenge);
    const authData = authenticatorData(FLAGS, this.counter);
    const signature = crypto.sign("sha256", Buffer.concat([authData, sha256(data)]), {
      key: this.privateKey,
      dsaEncoding: "der",
    });
    // DER drops an integer's leading zero bytes: an r or s below 2^248 (about 1 in 128
    // signatures) comes out shorter than 32 bytes, which @simplewebauthn/server 9 does not pad
    // back, and refuses.
    const short = (at) => signature[at] < 32 || (signature[at] === 32 && signature[at + 1] === 0);
    this.lastShort = short(3) || short(4 + signature[3] + 1);
    return {
      id: this.id,
      rawId: this.id,
      response: {
        clientDataJSON: b64url(data),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: this.userHandle ? b64url(Buffer.from(this.userHandle)) : undefined,
      },
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}

// ---------------------------------------------------------------------------------------------

async function registerOne(email) {
  const browser = new Browser();
  const reply = await browser.getJson(
    `${API}/webauthn-options/passkey?action=register&email=${encodeURIComponent(email)}`,
  );
  if (reply.action !== "register") throw new Failure(`register options: ${JSON.stringify(reply).slice(0, 300)}`);
  const passkey = new Passkey();
  passkey.email = email;
  await browser.answer("register", passkey.register(reply.options));
  browser.connection.socket?.destroy();
  return passkey;
}

async function register() {
  const count = Number(process.env.USERS ?? 1000);
  const prefix = process.env.EMAIL_PREFIX ?? `u${Date.now().toString(36)}-`;
  const parallel = 8;
  const passkeys = new Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        passkeys[i] = await registerOne(`${prefix}${i}@bench.example`);
      }
    }),
  );
  fs.writeFileSync(usersFile, JSON.stringify(passkeys.map((p) => p.save())));
  const seconds = (performance.now() - started) / 1000;
  console.log(`# registered ${count} passkey users in ${seconds.toFixed(1)} s -> ${usersFile}`);
}

async function run() {
  const connections = Number(process.env.CONNECTIONS ?? 32);
  const duration = Number(process.env.DURATION ?? 10) * 1000;
  const warmup = Number(process.env.WARMUP ?? 2) * 1000;
  const [slice, slices] = (process.env.SLICE ?? "0/1").split("/").map(Number);
  const saved = JSON.parse(fs.readFileSync(usersFile, "utf8"));
  const mine = saved.filter((_, i) => i % slices === slice).map((s) => new Passkey(s));
  if (mine.length < connections) {
    console.error(`only ${mine.length} users for ${connections} browsers in slice ${slice}/${slices}`);
    process.exit(2);
  }
  const start = performance.now();
  const measureFrom = start + warmup;
  const stopAt = measureFrom + duration;
  let signins = 0;
  let failures = 0;
  let failuresShort = 0;
  let requests = 0;
  let firstFailure = null;
  const latencies = [];

  async function browse(b) {
    const browser = new Browser();
    // Browser b owns passkeys b, b + C, b + 2C, ...: one sign-in at a time per passkey.
    const own = mine.filter((_, i) => i % connections === b);
    let turn = 0;
    while (performance.now() < stopAt) {
      const passkey = own[turn++ % own.length];
      const began = performance.now();
      let ok = false;
      try {
        const reply = await browser.getJson(`${API}/webauthn-options/passkey?action=authenticate`);
        if (reply.action !== "authenticate") throw new Failure(`options: ${JSON.stringify(reply).slice(0, 300)}`);
        await browser.answer("authenticate", passkey.authenticate(reply.options));
        ok = true;
      } catch (err) {
        if (!firstFailure && performance.now() >= measureFrom) firstFailure = String(err.message ?? err);
        if (!(err instanceof Failure)) await new Promise((r) => setTimeout(r, 10));
      }
      browser.signOutLocally();
      const ended = performance.now();
      // A sign-in counts when it ends inside the measured window (throughput, as wrk counts).
      if (ended >= measureFrom && ended <= stopAt) {
        if (ok) {
          signins++;
          latencies.push(ended - began);
        } else {
          failures++;
          if (passkey.lastShort) failuresShort++;
        }
      }
    }
    requests += browser.requests;
    browser.connection.socket?.destroy();
  }

  await Promise.all(Array.from({ length: connections }, (_, b) => browse(b)));
  latencies.sort((a, b) => a - b);
  const pct = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0);
  const seconds = duration / 1000;
  console.log(
    `RESULT signins=${signins} failures=${failures} seconds=${seconds} rate=${(signins / seconds).toFixed(1)}` +
      ` failures_short_signature=${failuresShort} p50_ms=${pct(0.5).toFixed(2)} p99_ms=${pct(0.99).toFixed(2)} requests=${requests}` +
      ` slice=${slice}/${slices} connections=${connections}`,
  );
  if (firstFailure) console.log(`FIRST_FAILURE ${firstFailure}`);
}

await (mode === "register" ? register() : run());
