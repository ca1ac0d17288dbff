//! Passkeys: the smallest app that signs in with a passkey (WebAuthn) and nothing else, as
//! Auth.js v5's `Passkey` provider does for `next-auth/webauthn`'s `signIn("passkey")`.
//!
//! - `/` is a page with "Create a passkey" (an e-mail address, signed out: a new user) and
//!   "Sign in with a passkey" (the browser offers the site's passkeys; no e-mail needed).
//! - The page calls `NextAuthWebAuthn.signIn("passkey", { action, email, redirect: false })` from
//!   `/passkey-client.js`. That script is, by default, a hand-written stand-in for
//!   `next-auth/webauthn` (the same requests in a few lines, see [`BUILT_IN_CLIENT`]). With
//!   `PASSKEY_CLIENT_JS` naming a file, that file is served instead: a bundle of the real client
//!   that sets `window.NextAuthWebAuthn` (`tests/browser/passkey.entry.mjs`, bundled with esbuild
//!   by `tests/browser_passkeys.rs`).
//! - Users, their passkeys (the authenticator table) and the ceremonies' challenges live in the
//!   SQLite file `passkeys.db`, or PostgreSQL when `DATABASE_URL` is a `postgres://` URL.
//!
//! ```sh
//! cargo run --example passkeys     # then open http://localhost:3000
//! ```
//!
//! A passkey belongs to a host name (the relying party id is AUTH_URL's host): browsers refuse
//! an IP address, so open `http://localhost:3000`, not `http://127.0.0.1:3000`. `PORT` (default
//! 3000), `AUTH_URL` (default `http://localhost:PORT/api/auth`), `AUTH_SECRET` (a development
//! secret is used in debug builds without it), `DATABASE_URL` (default the SQLite file
//! `passkeys.db`, or `PASSKEYS_DB`) and `PASSKEY_CLIENT_JS` configure it.

use std::sync::Arc;

use auth_runtime::axum::{ServeConfig, no_store, serve_app_with_shutdown, shutdown_signal};
use auth_runtime::guests::GuestDatabase;
use auth_runtime::next_auth;
use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

// ANCHOR: config
next_auth! {
    providers: [
        /// Sign in (and up) with a passkey.
        Passkey {},
    ],
    pages: { sign_in: "/" },
}
// ANCHOR_END: config

/// The application: the page, its client script (`client_js`, see [`client_script`]) and the
/// auth API under `/api/auth`.
pub fn app(auth: Auth, client_js: Arc<str>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/passkey-client.js",
            get(move || async move {
                let js = String::from(&*client_js);
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    js,
                )
                    .into_response()
            }),
        )
        .layer(axum::middleware::map_response(no_store))
        .nest("/api/auth", auth.router())
}

/// The script served as `/passkey-client.js`: the file `PASSKEY_CLIENT_JS` names (a bundle of
/// `next-auth/webauthn` that sets `window.NextAuthWebAuthn`), else [`BUILT_IN_CLIENT`].
pub fn client_script() -> std::io::Result<Arc<str>> {
    match std::env::var_os("PASSKEY_CLIENT_JS") {
        Some(path) => Ok(std::fs::read_to_string(path)?.into()),
        None => Ok(BUILT_IN_CLIENT.into()),
    }
}

/// What `next-auth/webauthn`'s `signIn("passkey", ..)` does, without a bundler: `GET
/// /webauthn-options/passkey` with the options as the query, the browser's ceremony
/// (`navigator.credentials`, the base64url conversions of `@simplewebauthn/browser` 9), then
/// `POST /callback/passkey` with `action`, `data` (the answer's JSON), `csrfToken` and
/// `callbackUrl`. With `redirect: false` it answers `{ ok, status, error, url }`, else it goes
/// to the answer's URL.
pub const BUILT_IN_CLIENT: &str = r#"// A stand-in for next-auth/webauthn's signIn("passkey"): the same requests.
(() => {
  const base = '/api/auth';
  const fromB64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const toB64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const credentials = (list) => list && list.map((c) => ({ ...c, id: fromB64(c.id) }));
  async function ceremony({ action, options }) {
    if (action === 'register') {
      const c = await navigator.credentials.create({ publicKey: {
        ...options, challenge: fromB64(options.challenge),
        // @simplewebauthn/browser 9 (next-auth 5's) passes the user handle as UTF-8.
        user: { ...options.user, id: new TextEncoder().encode(options.user.id) },
        excludeCredentials: credentials(options.excludeCredentials) || [] } });
      return { id: c.id, rawId: toB64(c.rawId), type: c.type,
        response: { clientDataJSON: toB64(c.response.clientDataJSON), attestationObject: toB64(c.response.attestationObject),
          transports: c.response.getTransports ? c.response.getTransports() : undefined },
        clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment };
    }
    const c = await navigator.credentials.get({ publicKey: {
      ...options, challenge: fromB64(options.challenge), allowCredentials: credentials(options.allowCredentials) } });
    return { id: c.id, rawId: toB64(c.rawId), type: c.type,
      response: { clientDataJSON: toB64(c.response.clientDataJSON), authenticatorData: toB64(c.response.authenticatorData),
        signature: toB64(c.response.signature), userHandle: c.response.userHandle ? new TextDecoder().decode(c.response.userHandle) : undefined },
      clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment };
  }
  async function signIn(provider, { callbackUrl, redirectTo = callbackUrl || location.href, redirect = true, ...params } = {}) {
    const reply = await fetch(`${base}/webauthn-options/${provider}?${new URLSearchParams(params)}`);
    if (!reply.ok) { console.error(await reply.text()); return; }
    const started = await reply.json();
    const data = await ceremony(started);
    const { csrfToken } = await fetch(`${base}/csrf`).then((r) => r.json());
    const res = await fetch(`${base}/callback/${provider}`, {
      method: 'post',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Auth-Return-Redirect': '1' },
      body: new URLSearchParams({ ...params, data: JSON.stringify(data), action: started.action, csrfToken, callbackUrl: redirectTo }),
    });
    const { url } = await res.json();
    if (redirect) { location.href = url || redirectTo; return; }
    const error = new URL(url).searchParams.get('error');
    return { error, code: new URL(url).searchParams.get('code'), status: res.status, ok: res.ok, url: error ? null : url };
  }
  const getSession = () => fetch(`${base}/session`).then((r) => r.json());
  window.NextAuthWebAuthn = { signIn, getSession };
})();
"#;

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Passkeys</title>
<style>
[hidden]{display:none!important}body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;color:#1f2a24}
.card{border:1px solid #e3e8e4;border-radius:.6rem;padding:1rem 1.2rem;margin:1rem 0}form{display:grid;gap:.5rem}
input{font:inherit;padding:.35rem .5rem;border:1px solid #cdd5cf;border-radius:.4rem}
button{font:inherit;border:0;border-radius:.4rem;padding:.4rem .9rem;background:#2f6d4f;color:#fff;cursor:pointer}
button.quiet{background:none;color:#2f6d4f;border:1px solid #cdd5cf}#out{color:#8a2b2b}
</style></head>
<body>
<h1>Passkeys</h1>
<p id="who" data-testid="session" data-session="loading">…</p>
<section class="card" id="signed-out" hidden>
<form id="register" data-testid="register"><strong>New here? Create a passkey</strong>
<input name="email" type="email" required placeholder="you@example.com" autocomplete="username webauthn"><button>Create a passkey</button></form>
<p><strong>Have one?</strong> <button class="quiet" id="sign-in" data-testid="sign-in">Sign in with a passkey</button></p>
</section>
<p><button class="quiet" id="sign-out" data-testid="sign-out" hidden>Sign out</button></p>
<p id="out" data-testid="out"></p>
<script src="/passkey-client.js"></script>
<script>
// json: 'true' asks for {url} as NextAuth v4's client does; next-auth/webauthn asks with the
// header X-Auth-Return-Redirect, which the server reads in the authjs-v5 token format only.
const { signIn } = window.NextAuthWebAuthn;
const out = document.getElementById('out');
async function refresh() {
  const session = await fetch('/api/auth/session').then(r => r.json());
  const user = session && session.user;
  const who = document.getElementById('who');
  who.textContent = user ? 'Signed in as ' + user.email : 'Signed out';
  who.dataset.session = user ? 'signed-in' : 'signed-out';
  document.getElementById('signed-out').hidden = !!user;
  document.getElementById('sign-out').hidden = !user;
}
async function passkey(options) {
  out.textContent = '';
  try {
    const result = await signIn('passkey', { ...options, redirect: false, json: 'true' });
    if (!result || result.error) out.textContent = 'That did not work' + (result ? ' (' + result.error + ')' : '') + '.';
  } catch (e) {
    out.textContent = 'The browser said: ' + e.message;
  }
  refresh();
}
document.getElementById('register').onsubmit = (e) => {
  e.preventDefault();
  passkey({ action: 'register', email: new FormData(e.target).get('email') });
};
document.getElementById('sign-in').onclick = () => passkey({ action: 'authenticate' });
document.getElementById('sign-out').onclick = async () => {
  const { csrfToken } = await fetch('/api/auth/csrf').then(r => r.json());
  await fetch('/api/auth/signout', { method: 'POST', body: new URLSearchParams({ csrfToken, json: 'true' }) });
  refresh();
};
refresh();
</script></body></html>"#;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let default_file = std::env::var("PASSKEYS_DB").unwrap_or_else(|_| "passkeys.db".to_owned());
    let db = GuestDatabase::from_env(&default_file).await?;
    let client_js =
        client_script().map_err(|e| format!("PASSKEY_CLIENT_JS cannot be read: {e}"))?;
    // Users, accounts, passkeys, challenges (and database sessions) in that database.
    let mut builder = Auth::builder(()).adapter(db.adapter());
    if std::env::var_os("AUTH_URL").is_none() && std::env::var_os("NEXTAUTH_URL").is_none() {
        // A host name, not 127.0.0.1: it is the passkeys' relying party id.
        builder = builder.url(format!("http://localhost:{port}/api/auth"));
    }
    let auth = builder.build()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("listening on http://localhost:{port}");
    serve_app_with_shutdown(
        listener,
        app(auth, client_js),
        ServeConfig::default(),
        shutdown_signal(),
    )
    .await?;
    db.close().await;
    Ok(())
}
