// `sign_in` takes (attempt[, state]).
use auth_runtime::next_auth;

next_auth! {
    providers: [Anonymous {}],
    sign_in: |attempt, state, extra| Ok(auth_runtime::SignInDecision::Allow),
}

fn main() {}
