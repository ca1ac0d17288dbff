//! The passkey sign-in method: `GET /webauthn-options/:id` starts a ceremony, `POST
//! /callback/:id` (with the CSRF token, which Auth.js does not check) finishes it into a
//! sign-in. A refused answer sets no cookie and issues no session.

use std::sync::Arc;

use http::StatusCode;
use serde_json::json;

use crate::adapter::Adapter;
use crate::definition::AuthDefinition;
use crate::error::ConfigError;
use crate::providers::method::{Accepted, MethodRequest, Previous, SignInMethod, Step, StepFuture};
use crate::refusal::Refusal;
use crate::settings::Settings;
use crate::user::Account;

use super::{Authenticators, Finished, OptionsRefusal, Passkeys, SignedInUser};

/// The method of one `Passkey` provider.
pub(crate) struct Passkey {
    keys: Passkeys,
}

impl Passkey {
    /// The provider `id` on `adapter`'s users, with its passkeys in the same store. A store that
    /// keeps no passkeys is a start-up error that says so.
    pub fn configure(
        id: &'static str,
        settings: &Settings,
        adapter: Arc<dyn Adapter>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let Some(authenticators) = authenticators_of(&*adapter) else {
            return Err(ConfigError::ProviderSetting {
                provider: id.to_owned(),
                variable: "adapter".to_owned(),
                reason: "passkeys are kept in the SQL adapter's `authenticator` table: give \
                         AuthBuilder::adapter an SqliteAdapter or PostgresAdapter (or a guest \
                         store, whose database they share)"
                    .to_owned(),
            });
        };
        let keys = Passkeys::configure(
            id,
            &settings.base,
            &settings.secrets,
            settings.secure,
            settings.token_format,
            adapter,
            authenticators,
            env,
        )?;
        Ok(Passkey { keys })
    }
}

/// The authenticators' role of the store behind `adapter`, when it plays it.
fn authenticators_of(adapter: &dyn Adapter) -> Option<Arc<dyn Authenticators>> {
    let any = adapter.as_any()?;
    #[cfg(feature = "sqlite")]
    if let Some(sql) = any.downcast_ref::<crate::adapter::SqliteAdapter>() {
        return Some(Arc::new(sql.clone()));
    }
    #[cfg(feature = "postgres")]
    if let Some(sql) = any.downcast_ref::<crate::adapter::PostgresAdapter>() {
        return Some(Arc::new(sql.clone()));
    }
    let _ = any;
    None
}

/// The browser's session as the ceremonies see it: a guest counts as signed out.
fn signed_in(previous: Option<Previous<'_>>) -> Option<SignedInUser> {
    let previous = previous?;
    let id = previous.subject.or(previous.guest)?;
    Some(SignedInUser {
        id: id.to_owned(),
        email: previous.email.map(str::to_owned),
        name: previous.name.map(str::to_owned),
        is_guest: previous.guest.is_some(),
    })
}

impl<D: AuthDefinition> SignInMethod<D> for Passkey {
    /// The ceremony's options and its challenge cookie; 400 `{"error": "Invalid request"}` or
    /// `"Invalid action"` as Auth.js answers.
    fn options<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            let action = request.query("action");
            let email = request.query("email");
            let answer = self
                .keys
                .options(
                    action.as_deref(),
                    email.as_deref(),
                    signed_in(request.previous),
                )
                .await;
            match answer {
                Ok(answer) => Step::Json {
                    status: StatusCode::OK,
                    body: answer.body,
                    cookies: vec![answer.set_cookie],
                },
                Err(refusal) if refusal.is_unavailable() => {
                    tracing::warn!(provider = request.info.id, %refusal, "passkey options: the store is unavailable");
                    Step::refused(Refusal::session_store_unavailable())
                }
                Err(OptionsRefusal::Store(error)) => {
                    tracing::error!(provider = request.info.id, %error, "passkey options failed");
                    Step::error_page(
                        &request.settings.base,
                        super::ERROR_CONFIGURATION,
                        None,
                        StatusCode::INTERNAL_SERVER_ERROR,
                    )
                }
                Err(refusal) => Step::Json {
                    status: StatusCode::BAD_REQUEST,
                    body: json!({ "error": refusal.message() }),
                    cookies: Vec::new(),
                },
            }
        })
    }

    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            let info = request.info;
            let challenge = request.cookies.get(self.keys.cookie_name());
            let finished = self
                .keys
                .finish(
                    request.body.get("action"),
                    request.body.get("data"),
                    challenge.as_deref(),
                    signed_in(request.previous),
                )
                .await;
            crate::debug::step!(
                request.settings,
                "passkey",
                outcome = match &finished {
                    Ok(Finished::Registered { .. }) => "registered",
                    Ok(Finished::Authenticated { .. }) => "authenticated",
                    Err(error) => error.error_id(),
                }
            );
            let (user, credential_id, made_user) = match finished {
                Ok(Finished::Registered {
                    user,
                    credential_id,
                    made_user,
                }) => (user, credential_id, made_user),
                Ok(Finished::Authenticated {
                    user,
                    credential_id,
                }) => (user, credential_id, false),
                Err(error) if error.is_unavailable() => {
                    tracing::warn!(provider = info.id, %error, "passkey sign-in: the store is unavailable");
                    crate::telemetry::sign_in_failure(info.id, "SessionStoreUnavailable", "error");
                    return Step::refused(Refusal::session_store_unavailable());
                }
                Err(error) => {
                    let code = error.error_id();
                    tracing::info!(provider = info.id, %error, code, "a passkey answer was refused");
                    crate::telemetry::sign_in_failure(info.id, code, "refused");
                    let base = &request.settings.base;
                    let url = format!("{}?error={code}", base.endpoint(error.page()));
                    return Step::redirect(url, StatusCode::OK);
                }
            };
            let account = Account::new(info.id, "webauthn", credential_id);
            let mut accepted = Accepted::new(user, account);
            accepted.made_user = made_user;
            accepted.cookies.push(self.keys.clear_challenge_cookie());
            Step::Accepted(Box::new(accepted))
        })
    }
}
