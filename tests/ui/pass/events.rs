// Every event, sync or async, with or without the state; the message types are the runtime's.
use auth_runtime::{AuthDefinition, CallbackError, next_auth};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Counter(AtomicUsize);

next_auth! {
    state: Counter,
    providers: [Anonymous {}],
    events: {
        sign_in: |m, counter| {
            let _: bool = m.is_new_user || m.as_guest;
            let _: Provider = m.provider;
            counter.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        },
        sign_out: |m| {
            let _: Option<&Token> = m.token;
            Ok(())
        },
        create_user: async |m| {
            let _: &str = m.user_id;
            Ok(())
        },
        link_account: |m| {
            let _ = (m.user_id, &m.account.provider);
            Ok(())
        },
        update_user: |m| {
            let _ = (m.user_id, m.email);
            Ok(())
        },
        session: |m| {
            let _: &Token = m.token;
            Ok(())
        },
        guest_created: |m| Err(CallbackError::internal(format!("no {}", m.guest_id))),
        guest_upgraded: |m| {
            let _ = m.upgrade.user_id();
            Ok(())
        },
    },
}

fn main() {
    const { assert!(NextAuth::HANDLES_EVENTS) };
}
