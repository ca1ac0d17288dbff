// A handler that takes either kind of session must say what a guest gets: `Visitor` is an enum,
// and forgetting the guest is a compile error, not a silently open members-only page.
use auth_runtime::axum::Visitor;
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Anonymous {},
    ],
}

async fn checkout(visitor: Visitor<NextAuth>) -> &'static str {
    match visitor {
        Visitor::Member(_) => "thank you for your order",
    }
}

fn main() {
    let _ = checkout;
}
