// The real next-auth/react client signing in by e-mail (magic link): signIn('email', { email,
// redirect: false }) answers the verify-request URL, the mail arrives at a real SMTP server
// (aiosmtpd, writing a Maildir), following its link signs the browser in, and the link works once.
//
// Run by tests/email_sign_in.rs: AUTH_ORIGIN (the app) and EMAIL_MAILDIR (where the SMTP server
// delivers). Skipped without them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { authOrigin, makeFetch } from "./lib.mjs";

const MAILDIR = process.env.EMAIL_MAILDIR;
const skip = MAILDIR ? false : "EMAIL_MAILDIR is not set (tests/email_sign_in.rs runs this file)";

/** The first mail in the Maildir for `to`, waiting up to 10 s for it. */
async function mailTo(to) {
  const dir = path.join(MAILDIR, "new");
  for (let i = 0; i < 200; i++) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const text = fs.readFileSync(path.join(dir, name), "utf8");
      if (new RegExp(`^To: ${to.replace(/[.]/g, "\\.")}\\s*$`, "mi").test(text)) return text;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${to} in ${dir}`);
}

/** The sign-in link of a mail's plain-text part (quoted-printable decoded). */
function linkOf(mail) {
  const decoded = mail.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  const match = decoded.match(/https?:\/\/\S+\/callback\/email\?\S+/);
  assert.ok(match, `no sign-in link in the mail:\n${mail}`);
  return match[0];
}

test("signIn('email') mails a link; following it signs in; the link works once", { skip }, async () => {
  const ORIGIN = authOrigin();
  process.env.NEXTAUTH_URL = ORIGIN + "/api/auth";
  const jar = new Map();
  const realFetch = globalThis.fetch;
  const fetchWithJar = makeFetch({ jar, base: ORIGIN, realFetch });
  globalThis.fetch = fetchWithJar;
  const { signIn, getSession, getProviders } = await import("next-auth/react");

  const providers = await getProviders();
  assert.equal(providers.email.type, "email");

  const email = "Ada.Lovelace@Example.com";
  const callbackUrl = ORIGIN + "/account";
  const result = await signIn("email", { email, redirect: false, callbackUrl });
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.error, null);
  assert.match(result.url, /\/api\/auth\/verify-request\?provider=email&type=email$/);
  assert.equal(await getSession(), null, "no session before the link is followed");

  // The address is normalized; the mail goes to it.
  const mail = await mailTo("ada.lovelace@example.com");
  assert.match(mail, /^Subject: Sign in to 127\.0\.0\.1:\d+\s*$/m);
  const link = linkOf(mail);
  assert.ok(link.startsWith(ORIGIN + "/api/auth/callback/email?"), link);

  const followed = await fetchWithJar(link);
  assert.equal(followed.status, 302);
  assert.equal(followed.headers.get("location"), callbackUrl);
  const session = await getSession();
  assert.equal(session?.user?.email, "ada.lovelace@example.com", JSON.stringify(session));

  // The same link again, from another browser: refused.
  const again = await makeFetch({ jar: new Map(), base: ORIGIN, realFetch })(link);
  assert.equal(again.status, 302);
  assert.match(again.headers.get("location"), /\/api\/auth\/error\?error=Verification/);

  // A refused address: the client gets the error, nothing is mailed.
  const refused = await signIn("email", { email: "a@b.c\r\nBcc: x@y.z", redirect: false, callbackUrl });
  assert.equal(refused.error, "EmailSignin", JSON.stringify(refused));
  globalThis.fetch = realFetch;
});
