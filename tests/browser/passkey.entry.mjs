// The real Auth.js v5 client for the page of examples/passkeys.rs: next-auth 5.0.0-beta.32's
// `next-auth/webauthn` (signIn("passkey"), @simplewebauthn/browser 9 inside) and
// `next-auth/react`'s getSession (a plain fetch of /api/auth/session; no React rendering).
// tests/browser_passkeys.rs bundles this file with esbuild (an IIFE, see bundle.mjs) and serves
// it as /passkey-client.js through PASSKEY_CLIENT_JS.
import { signIn } from "next-auth/webauthn";
import { getSession } from "next-auth/react";

window.NextAuthWebAuthn = { signIn, getSession, real: "next-auth@5.0.0-beta.32" };
