//! The Email provider's flow (magic links), NextAuth v4's protocol: `POST /signin/:id` mails a
//! one-time link and answers the verify-request page; `GET /callback/:id?token=..&email=..`
//! takes the token (once) and signs the visitor in as the address's user, made on first use.

use std::sync::Arc;

use http::StatusCode;

use crate::adapter::{Adapter, AdapterAccount, AdapterError, UserFields};
use crate::base_url::error_url;
use crate::clock;
use crate::definition::{AuthDefinition, ProviderInfo};
use crate::events::{self, Event};
use crate::providers::method::{Accepted, MethodRequest, SignInMethod, Step, StepFuture};
use crate::refusal::Refusal;
use crate::user::{Account, User};

use super::{EmailLimits, Mailer, VerificationRequest, hash_token, new_token, normalize_address};

/// The Email method: its mailer, limits and token store, built once by the builder.
pub(crate) struct Email {
    pub mailer: Mailer,
    /// Where the links' tokens (and the users they sign in) are kept.
    pub adapter: Arc<dyn Adapter>,
    pub limits: EmailLimits,
    /// How long a link works, in seconds.
    pub max_age: u64,
}

impl<D: AuthDefinition> SignInMethod<D> for Email {
    fn start<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(self.send_link(request))
    }

    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            match request.post {
                // The client posts only to start; a link is followed with GET.
                true => Step::error_page(
                    &request.settings.base,
                    "Configuration",
                    None,
                    StatusCode::BAD_REQUEST,
                ),
                false => self.follow_link(request).await,
            }
        })
    }

    fn callback_by_get(&self) -> bool {
        true
    }
}

impl Email {
    /// `POST /signin/:id`: mails a sign-in link to `email` and answers the verify-request page,
    /// or `error=EmailSignin`. Nothing is left behind when the mail cannot be sent.
    async fn send_link<D: AuthDefinition>(&self, request: MethodRequest<'_, D>) -> Step {
        let settings = request.settings;
        let base = &settings.base;
        let info = request.info;
        let fail = |code: &str| {
            crate::telemetry::sign_in_failure(info.id, code, "refused");
            Step::error_page(base, code, Some(info.id), StatusCode::OK)
        };
        let address = match normalize_address(request.body.get("email").unwrap_or_default()) {
            Ok(address) => address,
            Err(error) => {
                tracing::info!(provider = info.id, %error, "an e-mail sign-in was refused");
                return fail("EmailSignin");
            }
        };
        // A browser that followed a link for this address before is not stopped by strangers
        // asking for it: its requests count on its own bucket, at the per-client rate.
        let client = self
            .limits
            .client_rate()
            .zip(request.client.clone())
            .map(|(rate, client)| (format!("email:{client}"), rate));
        let charged = request
            .attempts
            .charge_on(
                Some(mailbox(info, &address)),
                self.limits.address_rate(),
                client,
                self.limits.client_rate().or(self.limits.address_rate()),
                request.cookies,
                &request.proof,
            )
            .await;
        if let Err(refused) = charged {
            let refusal = Refusal::from(refused);
            crate::telemetry::sign_in_failure(info.id, refusal.code, "refused");
            return Step::refused(refusal);
        }
        let token = new_token();
        let now = clock::now();
        let expires = now.saturating_add(i64::try_from(self.max_age).unwrap_or(i64::MAX));
        let stored = crate::adapter::VerificationToken {
            identifier: address.clone(),
            token: hash_token(&token, &settings.secret),
            expires,
        };
        // Armed before the token is stored: a request cancelled from here on (the server's
        // request timeout, a client that hangs up) withdraws it.
        let pending = PendingLink::new(&self.adapter, info.id, &stored);
        if let Err(error) = self.adapter.create_verification_token(stored).await {
            tracing::error!(provider = info.id, %error, "could not store a sign-in link's token");
            pending.disarm();
            return fail("EmailSignin");
        }
        let mut link = url::Url::parse(&base.endpoint(&format!("callback/{}", info.id)))
            .expect("the base URL is a URL");
        link.query_pairs_mut()
            .append_pair("callbackUrl", request.callback_url)
            .append_pair("token", &token)
            .append_pair("email", &address);
        let verification = VerificationRequest {
            identifier: address.clone(),
            url: link.into(),
            expires,
            provider: info.id,
            host: host_of(base.origin()).to_owned(),
        };
        let sent = self.mailer.send(verification).await;
        crate::debug::step!(settings, "email_link", sent = sent.is_ok());
        if let Err(error) = sent {
            tracing::error!(provider = info.id, %error, "the sign-in mail was not sent");
            // Withdraw the link: nothing half-made stays behind.
            pending.withdraw().await;
            return fail("EmailSignin");
        }
        pending.disarm();
        let verify = format!(
            "{}?provider={}&type=email",
            base.endpoint("verify-request"),
            info.id
        );
        Step::redirect(verify, StatusCode::OK)
    }

    /// `GET /callback/:id?token=..&email=..`: the link followed. A token used already, expired,
    /// altered or for another address is `error=Verification`.
    async fn follow_link<D: AuthDefinition>(&self, request: MethodRequest<'_, D>) -> Step {
        let settings = request.settings;
        let info = request.info;
        let fail = |code: &str| {
            crate::telemetry::sign_in_failure(info.id, code, "refused");
            Step::redirect(
                error_url(&settings.base, code, Some(info.id)),
                StatusCode::FOUND,
            )
        };
        let (Some(token), Some(address)) = (
            request
                .query("token")
                .filter(|t| !t.is_empty() && t.len() <= 256),
            request
                .query("email")
                .and_then(|e| normalize_address(&e).ok()),
        ) else {
            return fail("Verification");
        };
        let taken = self
            .adapter
            .use_verification_token(&address, &hash_token(&token, &settings.secret))
            .await;
        match taken {
            Ok(Some(stored)) if stored.expires > clock::now() => {}
            Ok(_) => return fail("Verification"),
            Err(error) => {
                tracing::error!(provider = info.id, %error, "could not check a sign-in link");
                return fail("Verification");
            }
        }
        let (user, change) = match user_of(&*self.adapter, info.id, &address).await {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(provider = info.id, %error, "could not find or make the link's user");
                return fail("EmailSignin");
            }
        };
        let user_id = user.id.as_str();
        let event = match change {
            UserChange::Created => Some(Event::CreateUser(events::CreateUser { user_id })),
            UserChange::Verified => Some(Event::UpdateUser(events::UpdateUser {
                user_id,
                email: &address,
            })),
            UserChange::None => None,
        };
        if let Some(event) = event {
            crate::definition::fire_event::<D>(event, request.state).await;
        }
        let mut accepted = Accepted::new(user, Account::new(info.id, "email", address.clone()));
        accepted.made_user = matches!(change, UserChange::Created);
        // The link proves the mailbox: this browser's later requests for it are its own.
        accepted.cookies.extend(
            request
                .attempts
                .remember(request.cookies, &mailbox(info, &address)),
        );
        Step::Accepted(Box::new(accepted))
    }
}

/// What following a link did to its user row.
enum UserChange {
    /// Nothing: the address was verified before.
    None,
    /// The address had no user: one was made.
    Created,
    /// The user's address is verified now.
    Verified,
}

/// The user an address signs in as: the one its e-mail account is linked to, else the user
/// with that address (the link proves the address), else a new one; the address is marked
/// verified and the account linked.
async fn user_of(
    adapter: &dyn Adapter,
    provider: &str,
    address: &str,
) -> Result<(User, UserChange), AdapterError> {
    let mut change = UserChange::None;
    let now = clock::now();
    let user = match adapter.get_user_by_account(provider, address).await? {
        Some(user) => user,
        None => {
            let account = AdapterAccount {
                kind: "email".to_owned(),
                provider: provider.to_owned(),
                provider_account_id: address.to_owned(),
                ..AdapterAccount::default()
            };
            match adapter.get_user_by_email(address).await? {
                Some(user) => {
                    let linked = AdapterAccount {
                        user_id: user.id.clone(),
                        ..account
                    };
                    match adapter.link_account(linked).await {
                        Ok(()) | Err(AdapterError::Conflict(_)) => user,
                        Err(error) => return Err(error),
                    }
                }
                None => {
                    let fields = UserFields {
                        email: Some(address.to_owned()),
                        email_verified: Some(now),
                        ..UserFields::default()
                    };
                    match adapter.create_user_with_account(fields, account).await {
                        Ok(user) => {
                            change = UserChange::Created;
                            user
                        }
                        // The same link followed twice at once cannot happen (the token is taken
                        // once); another provider's first sign-in of this address can.
                        Err(AdapterError::Conflict(_)) => adapter
                            .get_user_by_account(provider, address)
                            .await?
                            .ok_or_else(|| AdapterError::Corrupt {
                                what: "e-mail account",
                                detail: "linked and not found".to_owned(),
                            })?,
                        Err(error) => return Err(error),
                    }
                }
            }
        }
    };
    if user.email_verified.is_none() {
        let fields = UserFields {
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: Some(now),
            image: user.image.clone(),
        };
        adapter.update_user(&user.id, fields).await?;
        change = UserChange::Verified;
    }
    let mut signed_in = User::with_id(user.id).email(address);
    signed_in.name = user.name;
    signed_in.image = user.image;
    Ok((signed_in, change))
}

/// A stored link's token until its mail is known to be sent. Dropped armed, because the request
/// was cancelled mid-way (the server's request timeout, a client that hung up), it withdraws the
/// token in a task of its own and logs that it did: a link nobody was mailed is not left valid.
struct PendingLink {
    adapter: Arc<dyn Adapter>,
    provider: &'static str,
    /// The address and the token's stored (hashed) form; `None` once settled.
    token: Option<(String, String)>,
}

impl PendingLink {
    fn new(
        adapter: &Arc<dyn Adapter>,
        provider: &'static str,
        stored: &crate::adapter::VerificationToken,
    ) -> Self {
        PendingLink {
            adapter: Arc::clone(adapter),
            provider,
            token: Some((stored.identifier.clone(), stored.token.clone())),
        }
    }

    /// The token stays (its mail was sent), or was never stored.
    fn disarm(mut self) {
        self.token = None;
    }

    /// Withdraws the token of a mail that failed. Settled only once withdrawn: cancelled
    /// during the withdrawal itself, the guard still spawns one.
    async fn withdraw(mut self) {
        if let Some((identifier, token)) = &self.token {
            withdraw_token(&*self.adapter, self.provider, identifier, token).await;
        }
        self.token = None;
    }
}

impl Drop for PendingLink {
    fn drop(&mut self) {
        let Some((identifier, token)) = self.token.take() else {
            return;
        };
        let provider = self.provider;
        // Neither the address nor the token: the log says what happened, not to whom.
        tracing::warn!(
            provider,
            "an e-mail sign-in ended before its mail was known to be sent (the request timed \
             out or the client left); its link is withdrawn"
        );
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let adapter = Arc::clone(&self.adapter);
                runtime.spawn(async move {
                    withdraw_token(&*adapter, provider, &identifier, &token).await;
                });
            }
            Err(_) => tracing::warn!(
                provider,
                "no runtime to withdraw an unsent sign-in link on; it stays valid until it expires"
            ),
        }
    }
}

/// Takes a link's token back; a failure is logged, as the visitor's answer does not depend on it.
async fn withdraw_token(adapter: &dyn Adapter, provider: &str, identifier: &str, token: &str) {
    if let Err(error) = adapter.use_verification_token(identifier, token).await {
        tracing::warn!(provider, %error, "could not withdraw an unsent sign-in link's token");
    }
}

/// `host[:port]` of an origin, for the mail's subject.
fn host_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, host)| host)
}

/// An address's bucket key (and its device-cookie subject): hashed, so that the buckets'
/// table holds no addresses.
fn mailbox(info: &ProviderInfo, address: &str) -> String {
    let hashed = &crate::providers::email::hash_token(address, "email-limit")[..32];
    format!("email:{}:{hashed}", info.id)
}
