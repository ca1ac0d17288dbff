//! Unit tests on `proc_macro2` tokens: parsing, validation and expansion, without rustc.
//!
//! Error tests parse their input from a string, so that tokens carry real line/column spans
//! (proc-macro2's `span-locations`, a dev-only feature) and each test can check that its error
//! points at the offending token. Expansion snapshots live in `tests/snapshots/`; regenerate them
//! with `UPDATE_SNAPSHOTS=1 cargo test -p auth-macros`.

use std::str::FromStr;

use proc_macro2::{LineColumn, TokenStream};
use quote::quote;

use crate::errors::Errors;
use crate::{ast, entry, validate};

fn tokens(source: &str) -> TokenStream {
    TokenStream::from_str(source).expect("test input tokenizes")
}

/// Every error of one pass over `source`, in order.
fn errors_of(source: &str) -> Vec<syn::Error> {
    errors_of_tokens(tokens(source))
}

fn errors_of_tokens(input: TokenStream) -> Vec<syn::Error> {
    let errors = Errors::new();
    match syn::parse2::<ast::Input>(input) {
        Ok(input) => {
            validate::validate(&input, &errors);
        }
        Err(error) => errors.push(error),
    }
    errors.into_vec()
}

fn messages(errors: &[syn::Error]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// The line/column of the `nth` occurrence of `needle` in `source` (lines from 1, columns from 0,
/// as proc-macro2 counts).
fn position(source: &str, needle: &str, nth: usize) -> LineColumn {
    let offset = source
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} in source"))
        .0;
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count();
    LineColumn { line, column }
}

/// Asserts that exactly one error contains `message`, and that it starts at the `nth` occurrence of
/// `at` in the source.
#[track_caller]
fn assert_error(source: &str, errors: &[syn::Error], message: &str, at: &str, nth: usize) {
    let matching: Vec<&syn::Error> = errors
        .iter()
        .filter(|e| e.to_string().contains(message))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one error containing {message:?}, got: {:#?}",
        messages(errors)
    );
    let start = matching[0].span().start();
    assert_eq!(
        start,
        position(source, at, nth),
        "error {message:?} should point at `{at}` #{nth}"
    );
}

const PROVIDERS: &str = r#"
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |credentials| Ok(None) },
    ],
"#;

/// The expansion of `source` without whitespace.
fn compact(source: &str) -> String {
    let text = entry(tokens(source)).to_string();
    text.split_whitespace().collect()
}

fn with_providers(rest: &str) -> String {
    format!("{PROVIDERS}{rest}")
}

// ---------------------------------------------------------------------------------------------
// Valid input

#[test]
fn the_example_has_no_errors() {
    assert!(messages(&errors_of_tokens(example())).is_empty());
}

#[test]
fn closures_of_every_form_are_accepted() {
    let source = with_providers(
        r#"
        jwt: |token, event| async move { Ok(token) },
        session: async move |session: Session, token, state: &()| session,
        "#,
    );
    assert!(messages(&errors_of(&source)).is_empty());
}

#[test]
fn variant_names() {
    use validate::variant_name;
    assert_eq!(variant_name("anon"), "Anon");
    assert_eq!(variant_name("my-github"), "MyGithub");
    assert_eq!(variant_name("email_link"), "EmailLink");
    assert_eq!(variant_name("a--b"), "AB");
    assert_eq!(variant_name("oAuth2"), "OAuth2");
}

// ---------------------------------------------------------------------------------------------
// Errors, each on its token

#[test]
fn unknown_key_suggests_the_closest() {
    let source = with_providers("sesion: |s, t: &Token| s, stat: HashMap<String, u8>,");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown key `sesion`; did you mean `session`?",
        "sesion",
        0,
    );
    assert_error(
        &source,
        &errors,
        "unknown key `stat`; did you mean `state`?",
        "stat",
        0,
    );
    assert_eq!(errors.len(), 2);
}

#[test]
fn unknown_key_without_close_name_lists_the_keys() {
    let source = with_providers("callbacks: { a: 1 },");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown key `callbacks`; expected one of `state`, `max_age`",
        "callbacks",
        0,
    );
}

#[test]
fn duplicate_key() {
    let source = with_providers("max_age: 60, max_age: 120,");
    let errors = errors_of(&source);
    assert_error(&source, &errors, "duplicate key `max_age`", "max_age", 1);
    assert_eq!(errors.len(), 1);
}

#[test]
fn missing_providers() {
    let source = "max_age: 60,";
    let errors = errors_of(source);
    assert_error(source, &errors, "missing `providers`", "max_age", 0);
}

#[test]
fn empty_provider_list() {
    let source = "providers: [],";
    let errors = errors_of(source);
    assert_error(source, &errors, "at least one provider is needed", "[", 0);
}

#[test]
fn unknown_provider_kind() {
    let source =
        r#"providers: [Credential { id: "anon", credentials: {}, authorize: |c| Ok(None) }],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "unknown provider kind `Credential`; did you mean `Credentials`?",
        "Credential",
        0,
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn provider_id_rules() {
    let source = r#"providers: [
        Credentials { id: "", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: "2fa", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: "a b", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: "self", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: anon, credentials: {}, authorize: |c| Ok(None) },
    ],"#;
    let errors = errors_of(source);
    assert_error(source, &errors, "must not be empty", "\"\"", 0);
    assert_error(
        source,
        &errors,
        "`2fa` must start with a letter",
        "\"2fa\"",
        0,
    );
    assert_error(source, &errors, "`a b` must be URL-safe", "\"a b\"", 0);
    assert_error(source, &errors, "`Provider::Self`", "\"self\"", 0);
    assert_error(source, &errors, "expected a string literal", "anon", 0);
    assert_eq!(errors.len(), 5);
}

#[test]
fn duplicate_provider_id_points_at_both() {
    let source = r#"providers: [
        Credentials { id: "anon", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: "anon", credentials: {}, authorize: |c| Ok(None) },
    ],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "duplicate provider id `anon`",
        "\"anon\"",
        1,
    );
    assert_error(
        source,
        &errors,
        "provider id `anon` first defined here",
        "\"anon\"",
        0,
    );
    assert_eq!(errors.len(), 2);
}

#[test]
fn provider_ids_colliding_as_variants() {
    let source = r#"providers: [
        Credentials { id: "my-app", credentials: {}, authorize: |c| Ok(None) },
        Credentials { id: "my_app", credentials: {}, authorize: |c| Ok(None) },
    ],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "`my-app` and `my_app` both become the variant `Provider::MyApp`",
        "\"my_app\"",
        0,
    );
}

#[test]
fn unknown_and_duplicate_provider_fields() {
    let source = r#"providers: [
        Credentials { id: "anon", id: "other", credentials: {}, autorize: |c| Ok(None) },
    ],"#;
    let errors = errors_of(source);
    assert_error(source, &errors, "duplicate field `id`", "id:", 1);
    assert_error(
        source,
        &errors,
        "unknown field `autorize` for a `Credentials` provider; did you mean `authorize`?",
        "autorize",
        0,
    );
    // `autorize` is reported as misspelled, not `authorize` as missing as well.
    assert_eq!(errors.len(), 2, "{:#?}", messages(&errors));
}

#[test]
fn missing_credentials_and_authorize() {
    let source = r#"providers: [Credentials { id: "anon" }],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "missing the fields `credentials` and `authorize`",
        "Credentials",
        0,
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn credential_field_options() {
    let source = r#"providers: [Credentials {
        id: "login",
        credentials: {
            username: { lable: "Username" },
            password: { type: "password", type: "text" },
            username: {},
        },
        authorize: |c| Ok(None),
    }],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "unknown credential option `lable`; did you mean `label`?",
        "lable",
        0,
    );
    assert_error(source, &errors, "duplicate option `type`", "type", 1);
    assert_error(
        source,
        &errors,
        "duplicate credential field `username`",
        "username",
        1,
    );
    assert_eq!(errors.len(), 3);
}

#[test]
fn closure_arity() {
    let source = r#"
        providers: [Credentials { id: "anon", credentials: {}, authorize: |a, b, c| Ok(None) }],
        jwt: |token| Ok(token),
        session: async || todo!(),
    "#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "the `authorize` callback takes 1 or 2 parameters (credentials[, state]), found 3",
        "|a",
        0,
    );
    assert_error(
        source,
        &errors,
        "the `jwt` callback takes 2 or 3 parameters (token, event[, state]), found 1",
        "|token|",
        0,
    );
    assert_error(
        source,
        &errors,
        "the `session` callback takes 2 or 3 parameters (session, token[, state]), found 0",
        "||",
        0,
    );
    assert_eq!(errors.len(), 3);
}

#[test]
fn callback_must_be_a_closure() {
    let source = with_providers("jwt: my_jwt,");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "`jwt` expects a closure `|token, event, state| ..`",
        "my_jwt",
        0,
    );
}

#[test]
fn standard_fields_cannot_be_redeclared() {
    let source = with_providers(
        "pub struct Token { sub: String, role: String } pub struct Session { expires: u64 }",
    );
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "`sub` is a standard token field",
        "sub",
        0,
    );
    assert_error(
        &source,
        &errors,
        "`expires` is a standard session field",
        "expires",
        0,
    );
    assert_eq!(errors.len(), 2);
}

#[test]
fn struct_roles_by_name_and_position() {
    let source = with_providers(
        "struct AppSession { a: u8 } struct MyClaims { b: u8 } struct Third { c: u8 }",
    );
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "the session struct is already declared (`AppSession`)",
        "Third",
        0,
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn generic_and_reserved_structs() {
    let source = with_providers("struct Token<T> { t: T } struct Provider { a: u8 }");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "the token struct cannot be generic",
        "<T>",
        0,
    );
    assert_error(
        &source,
        &errors,
        "`Provider` is a name `next_auth!` generates",
        "Provider",
        0,
    );
}

#[test]
fn durations() {
    let source = with_providers("max_age: 0, update_age: 60 - 1,");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "`max_age` must be greater than zero",
        "0",
        0,
    );
    assert_error(
        &source,
        &errors,
        "only `+` and `*` are allowed here",
        "-",
        0,
    );

    let source = with_providers("max_age: 60 * 60, update_age: 2 * 60 * 60,");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "`update_age` (7200 s) is longer than `max_age` (3600 s)",
        "2 *",
        0,
    );

    let source = with_providers("max_age: 18446744073709551615 + 1, update_age: \"1h\",");
    let errors = errors_of(&source);
    assert_error(&source, &errors, "overflows u64", "18446744073709551615", 0);
    assert_error(
        &source,
        &errors,
        "expected an integer number of seconds",
        "\"1h\"",
        0,
    );
}

#[test]
fn base_path_rules() {
    for (path, problem) in [
        ("api/auth", "must start with `/`"),
        ("/api/auth/", "must not end with `/`"),
        ("/api//auth", "must not contain `//`"),
        ("/api auth", "must be a plain path"),
    ] {
        let source = with_providers(&format!("base_path: \"{path}\","));
        let errors = errors_of(&source);
        assert_error(&source, &errors, problem, &format!("\"{path}\""), 0);
    }
}

#[test]
fn every_error_is_reported_in_one_pass() {
    let source = r#"
        pub struct Token { jti: String }
        max_age: 0,
        max_age: 1,
        stat: (),
        providers: [
            Credentials { id: "anon", credentials: {}, authorize: |a, b, c| Ok(None) },
            Credentails { id: "guest" },
            Credentials { id: "anon", credentials: {}, authorize: |c| Ok(None) },
        ],
        jwt: |token| Ok(token),
    "#;
    let errors = errors_of(source);
    let messages = messages(&errors);
    assert_eq!(errors.len(), 9, "{messages:#?}");
}

#[test]
fn syntax_errors_do_not_hide_later_errors() {
    let source = with_providers("max_age: , jwt: |t| t, update_age: 1 +, sesion: 1");
    let errors = errors_of(&source);
    assert_error(&source, &errors, "jwt", "|t|", 0);
    assert_error(&source, &errors, "did you mean `session`?", "sesion", 0);
    assert_eq!(errors.len(), 4, "{:#?}", messages(&errors));
}

#[test]
fn missing_comma_between_entries() {
    let source = with_providers("max_age: 60 update_age: 60,");
    let errors = errors_of(&source);
    assert_error(&source, &errors, "expected `,`", "update_age", 0);
}

#[test]
fn session_strategy() {
    assert!(messages(&errors_of(&with_providers(r#"strategy: "jwt","#))).is_empty());

    // Unlike NextAuth, database sessions are for every provider, Credentials included; the
    // expansion carries the strategy to the runtime, which checks there is an adapter.
    let source = with_providers(r#"strategy: "database","#);
    assert!(messages(&errors_of(&source)).is_empty());
    assert!(
        compact(&source).contains(
            "strategy:::core::option::Option::Some(::auth_runtime::SessionStrategy::Database),"
        ),
        "the strategy reaches DefinedSettings"
    );
    assert!(compact(&with_providers("")).contains("strategy:::core::option::Option::None,"));

    let source = with_providers(r#"strategy: "jwtt","#);
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown session strategy `jwtt`; did you mean `jwt`?",
        "\"jwtt\"",
        0,
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn token_format() {
    for format in ["nextauth-v4", "authjs-v5", "jws"] {
        let source = with_providers(&format!("token_format: \"{format}\","));
        assert!(messages(&errors_of(&source)).is_empty(), "{format}");
    }

    let source = with_providers(r#"token_format: "nextauth-4","#);
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown token format `nextauth-4`; did you mean `nextauth-v4`?",
        "\"nextauth-4\"",
        0,
    );
    assert_eq!(errors.len(), 1, "{:#?}", messages(&errors));

    let source = with_providers(r#"token_format: "paseto","#);
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown token format `paseto`; expected one of `nextauth-v4`, `authjs-v5` or `jws`",
        "\"paseto\"",
        0,
    );
    assert_eq!(errors.len(), 1, "{:#?}", messages(&errors));

    // Not a literal: the error covers the expression.
    let source = with_providers("token_format: TokenFormat::Jws,");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "expected a string literal",
        "TokenFormat::Jws",
        0,
    );
    assert_eq!(errors.len(), 1, "{:#?}", messages(&errors));

    // A misspelled key is suggested.
    let source = with_providers(r#"token_fromat: "jws","#);
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "unknown key `token_fromat`; did you mean `token_format`?",
        "token_fromat",
        0,
    );
    assert_eq!(errors.len(), 1, "{:#?}", messages(&errors));
}

#[test]
fn token_format_expands_to_the_runtime_variant() {
    // The expansion's text without whitespace, so that line breaks do not matter.
    for (format, variant) in [
        ("nextauth-v4", "NextAuthV4"),
        ("authjs-v5", "AuthJsV5"),
        ("jws", "Jws"),
    ] {
        let text = compact(&with_providers(&format!("token_format: \"{format}\",")));
        let expected = format!(
            "token_format:::core::option::Option::Some(::auth_runtime::TokenFormat::{variant}),"
        );
        assert!(text.contains(&expected), "{expected} in {text}");
    }
    let text = compact(PROVIDERS);
    assert!(
        text.contains("token_format:::core::option::Option::None,"),
        "{text}"
    );
}

#[test]
fn negative_durations() {
    let source = with_providers("max_age: -1, update_age: -(60 * 60),");
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "`max_age` must be greater than zero",
        "-1",
        0,
    );
    assert_error(&source, &errors, "`update_age` cannot be negative", "-(", 0);
    assert_eq!(errors.len(), 2);
}

const TWO_PROVIDERS: &str = r#"
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |credentials| Ok(None) },
        Credentials { id: "github-login", credentials: {}, authorize: |credentials| Ok(None) },
    ],
"#;

#[test]
fn provider_id_literals_in_callbacks() {
    let source = format!(
        r#"{TWO_PROVIDERS}
        jwt: async |token, event| {{
            if let JwtEvent::SignIn {{ account, .. }} = &event {{
                if account.provider == "anno" {{ return Ok(token); }}
                if "github" != account.provider.as_str() {{ return Ok(token); }}
                if account.provider == "anon" {{ return Ok(token); }}
                match account.provider.as_str() {{
                    "anon" | "facebook" => {{}}
                    _ => {{}}
                }}
            }}
            Ok(token)
        }},
        session: |session, token| {{
            match provider.id() {{ "anom" => session, _ => session }}
        }},
        "#
    );
    let errors = errors_of(&source);
    assert_error(
        &source,
        &errors,
        "no provider has the id `anno`; did you mean `anon`?",
        "\"anno\"",
        0,
    );
    assert_error(
        &source,
        &errors,
        "no provider has the id `github`; did you mean `github-login`?",
        "\"github\"",
        0,
    );
    assert_error(
        &source,
        &errors,
        "no provider has the id `facebook`; the configured provider ids are `anon` and `github-login`",
        "\"facebook\"",
        0,
    );
    assert_error(&source, &errors, "`anom`", "\"anom\"", 0);
    assert_eq!(errors.len(), 4, "{:#?}", messages(&errors));
}

#[test]
fn ordinary_strings_in_callbacks_are_not_judged() {
    let source = format!(
        r#"{TWO_PROVIDERS}
        jwt: |token, event| {{
            let name = "anno";
            if token.name.as_deref() == Some("anno") || name == "x" {{ return Ok(token); }}
            if user.id == "anno" || state.id() == "anno" || provider_name == "anno" {{}}
            match token.email.as_deref() {{ Some("anno") => {{}}, _ => {{}} }}
            match name {{ "anno" => Ok(token), _ => Ok(token) }}
        }},
        "#
    );
    assert!(messages(&errors_of(&source)).is_empty());
}

#[test]
fn provider_literals_are_not_judged_when_an_id_is_missing() {
    // The second provider's id is not a literal: the set of ids is unknown, so no guess.
    let source = r#"
        providers: [
            Credentials { id: "anon", credentials: {}, authorize: |c| Ok(None) },
            Credentials { id: ID, credentials: {}, authorize: |c| Ok(None) },
        ],
        jwt: |token, event| { if account.provider == "other" {} Ok(token) },
    "#;
    let errors = errors_of(source);
    assert_eq!(messages(&errors), ["expected a string literal"]);
}

// ---------------------------------------------------------------------------------------------
// Expansion

fn example() -> TokenStream {
    quote! {
        /// Claims carried in the session token, on top of the standard ones.
        pub struct Token {
            /// The third party's token.
            third_party_token: Option<String>,
        }
        /// What GET /api/auth/session returns.
        pub struct Session {
            is_logged_in: bool,
        }
        state: AppState,
        max_age: 30 * 24 * 60 * 60,
        update_age: 24 * 60 * 60,
        base_path: "/api/auth",
        providers: [
            Credentials {
                id: "anon",
                name: "Anonymous",
                credentials: {},
                authorize: async |credentials, state| {
                    let id = state.create_guest().await?;
                    Ok(Some(User::with_id(id)))
                },
            },
        ],
        jwt: async |token, event, state| {
            match event {
                JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token { third_party_token: Some("x".into()), ..token }),
                _ => Ok(token),
            }
        },
        session: |session, token| Session { is_logged_in: false, ..session },
    }
}

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

/// Compares the pretty-printed expansion with `tests/snapshots/<name>.rs`.
#[track_caller]
fn assert_snapshot(name: &str, expansion: TokenStream) {
    let actual = pretty(expansion);
    let path = format!("{}/tests/snapshots/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(format!("{}/tests/snapshots", env!("CARGO_MANIFEST_DIR"))).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        panic!(
            "expansion differs from {path} (first difference around line {line}); \
             review and rerun with UPDATE_SNAPSHOTS=1\n\n{actual}"
        );
    }
}

#[test]
fn snapshot_example() {
    assert_snapshot("example", entry(example()));
}

#[test]
fn snapshot_minimal() {
    // No structs, no state, sync closures, two providers with form fields.
    assert_snapshot(
        "minimal",
        entry(quote! {
            providers: [
                Credentials {
                    id: "password",
                    credentials: {
                        username: { label: "Username", type: "text", placeholder: "jsmith" },
                        password: { label: "Password", type: "password" },
                    },
                    authorize: |credentials| Ok(Some(User::with_id(credentials.username))),
                },
                Credentials {
                    id: "magic-link",
                    name: "Magic link",
                    credentials: { email: {} },
                    authorize: |credentials, _state| async move { Ok(None) },
                },
            ],
        }),
    );
}

#[test]
fn snapshot_documented() {
    // Doc comments on the structs, their fields and a provider; `strategy`; `token_format`; a
    // placeholder.
    assert_snapshot(
        "documented",
        entry(quote! {
            /// The claims.
            pub(crate) struct Claims {
                /// The role.
                role: String,
            }
            strategy: "jwt",
            token_format: "authjs-v5",
            providers: [
                /// Members sign in with a one-time code.
                ///
                /// The code is mailed to them.
                Credentials {
                    id: "code",
                    name: "One-time code",
                    credentials: { code: { label: "Code", placeholder: "123456" } },
                    authorize: |credentials| async move { Ok(None) },
                },
            ],
        }),
    );
}

#[test]
fn snapshot_errors_keep_a_usable_expansion() {
    // One bad setting: the errors come first, then the full expansion (callbacks included, since
    // they are valid on their own).
    let expansion = entry(quote! {
        max_age: 0,
        providers: [Credentials { id: "anon", credentials: {}, authorize: |c| Ok(None) }],
        jwt: |t, e| Ok(t),
    });
    assert_snapshot("error_fallback", expansion.clone());
    let text = expansion.to_string();
    assert!(text.starts_with(":: core :: compile_error !"), "{text}");
    assert!(text.contains("pub enum Provider"));
    assert!(text.contains("__next_auth_jwt"));
}

#[test]
fn unparsable_input_still_defines_the_types() {
    let expansion = entry(quote!(pub struct Token { a: }));
    let text = pretty(expansion);
    assert!(text.contains("compile_error!"), "{text}");
    for item in [
        "pub struct Token",
        "pub struct Session",
        "pub enum Provider {}",
        "pub enum NextAuth {}",
        "pub type Auth",
    ] {
        assert!(text.contains(item), "{item} in {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Expansion time (not a test: run it and read the numbers)

/// A configuration with `n` Credentials providers, each with two form fields, plus callbacks.
fn config_with_providers(n: usize) -> TokenStream {
    let providers = (0..n).map(|i| {
        let id = format!("provider-{i}");
        quote! {
            Credentials {
                id: #id,
                credentials: {
                    username: { label: "Username", type: "text", placeholder: "jsmith" },
                    password: { label: "Password", type: "password" },
                },
                authorize: async |credentials, state| {
                    let id = state.check(&credentials.username, &credentials.password).await?;
                    Ok(Some(User::with_id(id)))
                },
            },
        }
    });
    quote! {
        pub struct Token { role: Option<String> }
        pub struct Session { is_logged_in: bool }
        state: AppState,
        max_age: 30 * 24 * 60 * 60,
        providers: [#(#providers)*],
        jwt: async |token, event| match event {
            JwtEvent::SignIn { account, .. } if account.provider == "provider-0" => Ok(token),
            _ => Ok(token),
        },
        session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
    }
}

/// `cargo test -p auth-macros --release -- --ignored --nocapture expansion_time`: the time of the
/// whole macro (parse, validate, expand) on `proc_macro2` tokens, for 1 and 50 providers.
#[test]
#[ignore = "a benchmark: prints timings, asserts nothing about them"]
fn expansion_time() {
    use std::hint::black_box;
    use std::time::Instant;

    const ITERATIONS: u32 = 200;
    let mut per_call = Vec::new();
    for n in [1, 50] {
        let input = config_with_providers(n);
        assert!(messages(&errors_of_tokens(input.clone())).is_empty());
        // Warm up, then time.
        for _ in 0..10 {
            black_box(entry(black_box(input.clone())));
        }
        let start = Instant::now();
        for _ in 0..ITERATIONS {
            black_box(entry(black_box(input.clone())));
        }
        let elapsed = start.elapsed() / ITERATIONS;
        println!("{n:>2} provider(s): {elapsed:?} per expansion ({ITERATIONS} iterations)");
        per_call.push(elapsed);
    }
    println!(
        "ratio 50:1 = {:.1}",
        per_call[1].as_secs_f64() / per_call[0].as_secs_f64()
    );
}

#[test]
fn anonymous_kind() {
    let ok = r#"providers: [Anonymous {}, Anonymous { id: "kiosk", name: "Kiosk" }],"#;
    assert!(errors_of(ok).is_empty(), "{:#?}", messages(&errors_of(ok)));
    let source = r#"providers: [Anonymous { authorize: |c| Ok(None) }],"#;
    let errors = errors_of(source);
    assert_error(
        source,
        &errors,
        "unknown field `authorize` for an `Anonymous` provider; expected one of `id`, `name` or `optional`",
        "authorize",
        0,
    );
    assert_eq!(errors.len(), 1, "{:#?}", messages(&errors));
    // Guests may have database sessions too.
    let source = r#"strategy: "database", providers: [Anonymous {}],"#;
    assert!(messages(&errors_of(source)).is_empty());
}
