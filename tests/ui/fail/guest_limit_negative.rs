// A guest creation limit is a count: 0 turns it off, a negative number means nothing.
use auth_runtime::next_auth;

next_auth! {
    guest_limit_per_hour: -5,
    providers: [Anonymous {}],
}

fn main() {}
