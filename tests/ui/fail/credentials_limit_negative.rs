// A credentials attempt limit is a count: 0 turns it off, a negative number means nothing; every
// wrong limit is reported at once.
use auth_runtime::next_auth;

next_auth! {
    credentials_limit_burst: -1,
    credentials_identifier_per_hour: 5_000_000_000,
    providers: [Anonymous {}],
}

fn main() {}
