//! Credentials sign-in: `POST /callback/:id` runs the provider's `authorize` closure under the
//! attempt limits. `POST /signin/:id` only sends the browser to the sign-in page, as in v4.

use http::StatusCode;

use crate::definition::AuthDefinition;
use crate::log_budget::{LogBudget, Verdict};
use crate::providers::method::{Accepted, MethodRequest, SignInMethod, Step, StepFuture};
use crate::refusal::Refusal;
use crate::user::Account;

/// The Credentials method of one provider id.
pub(crate) struct Credentials {
    /// How many refused sign-ins (wrong credentials, an `authorize` refusal) reach the log: a
    /// password guesser must not flood it.
    refusal_log: LogBudget,
}

impl Credentials {
    pub fn new() -> Self {
        Credentials {
            refusal_log: LogBudget::new(5, 20),
        }
    }

    /// A refused sign-in, counted and logged within the budget.
    fn log_refusal(&self, provider: &str, code: &str) {
        crate::telemetry::sign_in_failure(provider, code, "refused");
        if let Verdict::Write { dropped } = self.refusal_log.take() {
            let code = crate::log_budget::sanitized(code, 100);
            tracing::info!(provider, %code, dropped_since_last = dropped, "sign-in refused");
        }
    }
}

impl<D: AuthDefinition> SignInMethod<D> for Credentials {
    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            let settings = request.settings;
            let info = request.info;
            let attempt = match request
                .attempts
                .charge(
                    info,
                    request.client.as_ref(),
                    request.body,
                    request.cookies,
                    &request.proof,
                )
                .await
            {
                Ok(attempt) => {
                    crate::debug::step!(settings, "attempt_limits", verdict = "allowed");
                    attempt
                }
                Err(refused) => {
                    let refusal = Refusal::from(refused);
                    crate::debug::step!(settings, "attempt_limits", verdict = refusal.code);
                    self.log_refusal(info.id, refusal.code);
                    return Step::refused(refusal);
                }
            };
            let authorize = D::authorize(request.provider, request.body, request.state);
            // A hand-written anonymous provider creates its guests for the requesting client
            // (`CreateGuest::for_requesting_client`), under the per-client limit.
            #[cfg(feature = "guests")]
            let authorize =
                crate::guests::with_requesting_client(request.client.clone(), authorize);
            let authorized = authorize.await;
            crate::debug::step!(
                settings,
                "authorize",
                outcome = match &authorized {
                    Ok(Some(_)) => "user",
                    Ok(None) => "refused",
                    Err(_) => "error",
                }
            );
            let (user, device_cookie) = match authorized {
                Ok(Some(user)) => (user, attempt.succeeded(request.cookies).await),
                Ok(None) => {
                    self.log_refusal(info.id, "CredentialsSignin");
                    return Step::error_page(
                        &settings.base,
                        "CredentialsSignin",
                        Some(info.id),
                        StatusCode::UNAUTHORIZED,
                    );
                }
                Err(error) => {
                    #[cfg(feature = "guests")]
                    if let Some(refusal) = Refusal::of_callback(&error) {
                        crate::telemetry::sign_in_failure(info.id, refusal.code, "refused");
                        if let Verdict::Write { dropped } = self.refusal_log.take() {
                            tracing::warn!(
                                provider = info.id, code = refusal.code, %error,
                                dropped_since_last = dropped, "sign-in refused by the guest store"
                            );
                        }
                        return Step::refused(refusal);
                    }
                    match error.public_message() {
                        Some(message) => self.log_refusal(info.id, message),
                        None => crate::telemetry::sign_in_failure(info.id, "Callback", "error"),
                    }
                    return Step::Failed {
                        stage: "authorize",
                        error,
                    };
                }
            };
            let account = Account::new(info.id, info.kind.as_str(), user.id.clone());
            let mut accepted = Accepted::new(user, account);
            accepted.credentials = D::HANDLES_SIGN_IN.then(|| request.body.clone());
            accepted.cookies.extend(device_cookie);
            Step::Accepted(Box::new(accepted))
        })
    }
}
