// `optional` is `true` or `false`; an optional OAuth provider whose client id is written in the
// block would always be on, so that is refused.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Oidc { id: "idp", issuer: "https://idp.example", client_id: "shop", optional: true },
        GitHub { optional: "yes" },
    ],
}

fn main() {}
