use auth_runtime::next_auth;

next_auth! {
    max_age: 60 * 60,
    jwt: |token, _event| Ok(token),
}

fn main() {
    let _: Option<Auth> = None;
}
