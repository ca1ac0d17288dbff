//! Guests (`Anonymous { .. }` in `next_auth!`, feature `guests`): `POST /callback/:id` gives the
//! browser its guest back, or creates a new one in the guest store under the creation limits.

use std::sync::Arc;

use crate::attempts::Refused;
use crate::definition::AuthDefinition;
use crate::guests::{CreateGuest, GuestError, GuestStore, LimitScope, Limits};
use crate::log_budget::LogBudget;
use crate::providers::method::{Accepted, MethodRequest, SignInMethod, Step, StepFuture};
use crate::refusal::Refusal;
use crate::user::{Account, User};

/// The Anonymous method of one provider id.
pub(crate) struct Anonymous {
    store: Arc<dyn GuestStore>,
    /// The limits written in `next_auth!` (with the environment over them), if any: they take
    /// the place of the store's own.
    limits: Option<Limits>,
    /// How many refusals and store failures reach the log.
    refusal_log: LogBudget,
}

impl Anonymous {
    pub fn new(store: Arc<dyn GuestStore>, limits: Option<Limits>) -> Self {
        Anonymous {
            store,
            limits,
            refusal_log: LogBudget::new(5, 20),
        }
    }

    /// A refusal of the store, counted and logged.
    fn refuse(&self, provider: &str, error: &GuestError) -> Step {
        let refusal = Refusal::of_guest_store(error, "create", &self.refusal_log);
        let outcome = match refusal.status.is_server_error() {
            true => "error",
            false => "refused",
        };
        crate::telemetry::sign_in_failure(provider, refusal.code, outcome);
        Step::refused(refusal)
    }

    /// A new guest for this request's client, or why not.
    async fn create<D: AuthDefinition>(
        &self,
        request: &MethodRequest<'_, D>,
    ) -> Result<(String, bool), Step> {
        let id = request.info.id;
        // No client address: refused, not silently limited by the global budget alone.
        let Some(client) = request.client.clone() else {
            return Err(self.refuse(id, &GuestError::NoClientAddress));
        };
        let client = Some(client);
        // Where a CAPTCHA guards every new guest, it is asked before anything is counted.
        if let Err(refused) = request.attempts.guard(&request.proof).await {
            let refusal = Refusal::from(refused);
            crate::telemetry::sign_in_failure(id, refusal.code, "refused");
            return Err(Step::refused(refusal));
        }
        // The CSRF token is this browser's secret: concurrent double-submits share it, so
        // they get one guest.
        let key = format!("csrf:{}", request.csrf_token);
        let create = self.store.create(CreateGuest {
            client: client.clone(),
            key: Some(&key),
            limits: self.limits,
        });
        let created = match crate::telemetry::timed("guests", "create", create).await {
            // The key's guest was upgraded since: a new guest, without the key.
            Err(GuestError::AlreadyUpgraded { .. }) => {
                let request = CreateGuest {
                    client: client.clone(),
                    key: None,
                    limits: self.limits,
                };
                self.store.create(request).await
            }
            other => other,
        };
        // Strangers drained the global budget: a solved CAPTCHA lets this visitor past it (the
        // per-client limit still holds), so the drain turns into a CAPTCHA, not a 429 for
        // everyone.
        let created = match created {
            Err(GuestError::RateLimited {
                scope: LimitScope::Global,
                retry_after,
            }) => match request
                .attempts
                .lift(&request.proof, Refused::Limited(retry_after))
                .await
            {
                Ok(()) => {
                    let lifted = CreateGuest {
                        client,
                        key: Some(&key),
                        // The per-client limit stays (the store's defaults when the macro wrote
                        // none); the global budget is what the CAPTCHA lifts.
                        limits: Some(Limits {
                            global_per_hour: 0,
                            ..self.limits.unwrap_or_default()
                        }),
                    };
                    self.store.create(lifted).await
                }
                Err(refused) => {
                    let refusal = Refusal::from(refused);
                    crate::telemetry::sign_in_failure(id, refusal.code, "refused");
                    return Err(Step::refused(refusal));
                }
            },
            other => other,
        };
        match created {
            Ok(created) => Ok((created.guest.id, created.new)),
            Err(error) => Err(self.refuse(id, &error)),
        }
    }
}

impl<D: AuthDefinition> SignInMethod<D> for Anonymous {
    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            // Already a guest of this store (checked by the read): the same guest, no new row.
            let known = request.previous.and_then(|p| p.guest).map(str::to_owned);
            let (guest_id, created_guest) = match known {
                Some(id) => (id, false),
                None => match self.create(&request).await {
                    Ok(created) => created,
                    Err(step) => return step,
                },
            };
            crate::debug::step!(request.settings, "guest", created = created_guest);
            let account = Account::new(request.info.id, "anonymous", guest_id.clone());
            let mut accepted = Accepted::new(User::with_id(guest_id), account);
            accepted.as_guest = true;
            accepted.created_guest = created_guest;
            Step::Accepted(Box::new(accepted))
        })
    }
}
