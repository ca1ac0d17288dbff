//! `GET /session` (read, with sliding renewal) and `POST /session` (`update()`).

use http::StatusCode;

use crate::clock;
use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, SessionShape, TokenClaims};
use crate::engine::{Auth, RequestContext};
use crate::protocol::reply::Reply;
use crate::session_version::{self, Check};
use crate::token::Decoded;
use crate::user::{JwtEvent, SessionUser};

const EMPTY: &[u8] = b"{}";

/// `GET /session`: the session JSON, or `{}` when there is none.
pub(crate) async fn get<D: AuthDefinition>(auth: &Auth<D>, cookies: &RequestCookies<'_>) -> Reply {
    respond(auth, cookies, JwtEvent::Refresh, false)
        .await
        .no_cache()
}

/// `POST /session`: runs the jwt callback with the client's data and always renews the token.
pub(crate) async fn update<D: AuthDefinition>(
    auth: &Auth<D>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    if !context.csrf_verified() {
        return Reply::json(StatusCode::BAD_REQUEST, EMPTY);
    }
    let data = context.body.value("data").cloned().unwrap_or_default();
    respond(auth, cookies, JwtEvent::Update { data }, true).await
}

async fn respond<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
    event: JwtEvent<D::Provider, D::Token>,
    always_renew: bool,
) -> Reply {
    let inner = auth.inner();
    let settings = &inner.settings;
    let name = &settings.cookies.session_token;
    let present = cookies.chunk_names(name);
    if present.is_empty() {
        return Reply::json(StatusCode::OK, EMPTY);
    }
    let signed_out = || {
        Reply::json(StatusCode::OK, EMPTY).with_cookies(cookies::clear_session(
            name,
            settings.secure,
            &present,
        ))
    };

    let Some(raw) = cookies.chunked(name) else {
        return signed_out();
    };
    let decoded = match inner.codec.decode::<D::Token>(&raw) {
        Ok(decoded) => decoded,
        Err(error) => {
            tracing::debug!(%error, "session token refused; clearing the session cookies");
            return signed_out();
        }
    };
    match session_version::check(inner.versions.as_deref(), decoded.version.as_ref()).await {
        Check::Valid => {}
        Check::Revoked => return signed_out(),
        Check::Unavailable(error) => {
            tracing::warn!(%error, "cannot check the session version; refusing this read");
            return Reply::json(StatusCode::SERVICE_UNAVAILABLE, EMPTY);
        }
    }
    if !guest_active(auth, decoded.guest.as_deref()).await {
        return signed_out();
    }
    // NextAuth builds `session.user` from the token as decoded, before the jwt callback.
    let user = session_user(&decoded.claims);
    let now = clock::now();
    let issued_at = decoded.claims.issued_at().unwrap_or(i64::MIN / 2);
    let due = always_renew
        || decoded.reissue
        || now.saturating_sub(issued_at) >= settings.update_age as i64;
    let mut token = match D::jwt(decoded.claims, event, &inner.state).await {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(%error, "the jwt callback failed while reading a session; signing the user out");
            return signed_out();
        }
    };
    // Not due for renewal: re-issue only if the jwt callback changed the claims.
    let renew = due || !serialises_to(&token, &decoded.payload);
    let mut set_cookies = Vec::new();
    let expires_at = if renew {
        match inner.codec.encode_session(
            &mut token,
            now,
            settings.max_age,
            decoded.version.as_ref(),
            decoded.guest.as_deref(),
        ) {
            Ok(jwt) => {
                let expires_at = token.expires_at().unwrap_or(now);
                set_cookies =
                    cookies::session_cookies(name, &jwt, expires_at, settings.secure, &present);
                expires_at
            }
            Err(error) => {
                tracing::error!(%error, "could not renew the session token");
                return signed_out();
            }
        }
    } else {
        token.expires_at().unwrap_or(now)
    };

    let session = D::Session::from_parts(user, clock::iso_date(expires_at));
    let session = D::session(session, &token, &inner.state).await;
    match serde_json::to_vec(&session) {
        Ok(body) => Reply::json(StatusCode::OK, body).with_cookies(set_cookies),
        Err(error) => {
            tracing::error!(%error, "the session callback returned a session that does not serialise");
            signed_out()
        }
    }
}

/// Whether `token` serialises to exactly `payload`, compared as it is written (no buffer).
fn serialises_to<T: serde::Serialize>(token: &T, payload: &[u8]) -> bool {
    struct Compare<'p> {
        rest: &'p [u8],
    }
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            match self.rest.strip_prefix(bytes) {
                Some(rest) => {
                    self.rest = rest;
                    Ok(bytes.len())
                }
                None => Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut compare = Compare { rest: payload };
    serde_json::to_writer(&mut compare, token).is_ok() && compare.rest.is_empty()
}

fn session_user<T: TokenClaims>(token: &T) -> SessionUser {
    SessionUser {
        name: token.name().map(str::to_owned),
        email: token.email().map(str::to_owned),
        image: token.picture().map(str::to_owned),
    }
}

/// The session of a request, as application handlers see it: the callbacks run, nothing is
/// written back. `None` without a valid session.
pub(crate) async fn read_session<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
) -> Option<(D::Session, D::Token)> {
    read_session_of(auth, cookies)
        .await
        .map(|(session, token, _)| (session, token))
}

/// As [`read_session`], with the guest id when it is a guest's session.
pub(crate) async fn read_session_of<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
) -> Option<(D::Session, D::Token, Option<String>)> {
    let inner = auth.inner();
    let decoded = read_checked_decoded(auth, cookies).await?;
    let token = decoded.claims;
    let user = session_user(&token);
    let token = D::jwt(token, JwtEvent::Refresh, &inner.state).await.ok()?;
    let expires = clock::iso_date(token.expires_at().unwrap_or_else(clock::now));
    let session = D::session(D::Session::from_parts(user, expires), &token, &inner.state).await;
    Some((session, token, decoded.guest))
}

/// The verified session token of a request, its session version checked when a store is
/// configured, without running any callback.
pub(crate) async fn read_checked_token<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
) -> Option<D::Token> {
    read_checked_decoded(auth, cookies).await.map(|d| d.claims)
}

/// As [`read_checked_token`], with what the codec read besides the claims (the guest id). A
/// guest's session is also checked against the guest store: over once the guest is upgraded
/// or removed.
pub(crate) async fn read_checked_decoded<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
) -> Option<Decoded<D::Token>> {
    let inner = auth.inner();
    let raw = cookies.chunked(&inner.settings.cookies.session_token)?;
    let decoded = inner.codec.decode::<D::Token>(&raw).ok()?;
    match session_version::check(inner.versions.as_deref(), decoded.version.as_ref()).await {
        Check::Valid => {}
        Check::Revoked | Check::Unavailable(_) => return None,
    }
    guest_active(auth, decoded.guest.as_deref())
        .await
        .then_some(decoded)
}

/// Whether the guest of a guest session is still a guest (always true for other sessions, and
/// when no guest store is configured). Records the guest's activity.
#[cfg_attr(not(feature = "guests"), allow(clippy::unused_async))]
async fn guest_active<D: AuthDefinition>(auth: &Auth<D>, guest: Option<&str>) -> bool {
    #[cfg(feature = "guests")]
    if let (Some(id), Some(setup)) = (guest, &auth.inner().guests) {
        return matches!(
            crate::handlers::guests::check_guest(&*setup.store, id).await,
            crate::handlers::guests::GuestCheck::Active
        );
    }
    let _ = (auth, guest);
    true
}

/// The verified session token of a request, without running any callback (the session version
/// is not checked: see [`read_checked_token`]).
pub(crate) fn read_token<D: AuthDefinition>(
    auth: &Auth<D>,
    cookies: &RequestCookies<'_>,
) -> Option<D::Token> {
    let inner = auth.inner();
    let raw = cookies.chunked(&inner.settings.cookies.session_token)?;
    inner.codec.decode(&raw).ok().map(|decoded| decoded.claims)
}
