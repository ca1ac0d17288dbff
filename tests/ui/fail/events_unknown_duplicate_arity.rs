// Events are checked like every key: an unknown one gets a "did you mean", a second handler for
// one event is an error, and each closure takes (message[, state]); all reported at once.
use auth_runtime::next_auth;

next_auth! {
    providers: [Anonymous {}],
    events: {
        signin: |_m| Ok(()),
        sign_out: |_m| Ok(()),
        sign_out: |_m| Ok(()),
        session: |_m, _state, _extra| Ok(()),
        guest_created: "log it",
        update_user: |_m, _state, _extra| Ok(()),
        user_updated: |_m| Ok(()),
    },
}

fn main() {}
