//! Turns the syntax tree into a [`Model`], reporting every problem it finds into an [`Errors`].
//!
//! Validation never stops at the first problem. Whatever is invalid is left out of the model (or
//! replaced by its default), so that the expansion still type-checks and the user sees the macro's
//! errors rather than a cascade of rustc errors.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{
    BinOp, Expr, ExprBinary, ExprClosure, ExprMatch, Fields, Ident, ItemStruct, Lit, LitStr,
    Member, Pat, ReturnType, UnOp,
};

use crate::ast::{self, Input, ProviderValue, TOP_LEVEL_KEYS, Value};
use crate::errors::{Errors, did_you_mean, list, unknown_hint};
use crate::kinds::{self, ClosureSpec, FieldType, Kind, KindSpec};
use crate::model::{
    Callback, Captcha, CredentialField, Credentials, Model, OAuth, Pages, Provider, ProviderConfig,
    StructDef, Theme, TokenFormat,
};

/// Fields every token has; declared token fields must not reuse them.
pub(crate) const TOKEN_STANDARD_FIELDS: &[&str] =
    &["sub", "name", "email", "picture", "iat", "exp", "jti"];
/// Fields every session has; declared session fields must not reuse them.
pub(crate) const SESSION_STANDARD_FIELDS: &[&str] = &["user", "expires"];
/// Type names the expansion defines next to the declared structs.
const GENERATED_TYPES: &[&str] = &["Provider", "NextAuth", "Auth", "JwtEvent"];

pub(crate) fn validate(input: &Input, errors: &Errors) -> Model {
    errors.extend(input.errors.iter().cloned());
    let mut model = Model::empty();
    let (token, session) = validate_structs(&input.structs, errors);
    if let Some(token) = token {
        model.token = token;
    }
    if let Some(session) = session {
        model.session = session;
    }

    let mut seen: HashMap<String, &Ident> = HashMap::new();
    let mut providers_seen = false;
    let mut max_age = None;
    let mut update_age = None;
    let mut strategy: Option<&LitStr> = None;
    // Closures whose bodies are searched for provider-id literals.
    let mut callbacks: Vec<&Expr> = Vec::new();
    for entry in &input.entries {
        let key = entry.key.to_string();
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            errors.spanned(
                &entry.key,
                format!("unknown key `{key}`{}", unknown_hint(&key, TOP_LEVEL_KEYS)),
            );
            continue;
        }
        if seen.contains_key(&key) {
            errors.spanned(
                &entry.key,
                format!("duplicate key `{key}`: it is already set above"),
            );
            continue;
        }
        seen.insert(key.clone(), &entry.key);
        match (key.as_str(), &entry.value) {
            ("state", Value::Type(ty)) => model.state = (**ty).clone(),
            ("max_age", Value::Expr(expr)) => {
                max_age = integer_setting("max_age", expr, errors);
                if let Some((0, _)) = max_age {
                    errors.spanned(expr, "`max_age` must be greater than zero");
                    max_age = None;
                }
                model.settings.max_age = max_age.map(|(value, _)| value);
            }
            ("update_age", Value::Expr(expr)) => {
                update_age = integer_setting("update_age", expr, errors);
                model.settings.update_age = update_age.map(|(value, _)| value);
            }
            ("strategy", Value::Expr(expr)) => strategy = session_strategy(expr, errors),
            (limit, Value::Expr(expr)) if model.settings.limit_mut(limit).is_some() => {
                let value = limit_setting(&key, expr, errors);
                if let Some(slot) = model.settings.limit_mut(limit) {
                    *slot = value;
                }
            }
            ("base_path", Value::Expr(expr)) => {
                model.settings.base_path = base_path(expr, errors);
            }
            ("token_format", Value::Expr(expr)) => {
                model.settings.token_format = token_format(expr, errors);
            }
            ("providers", Value::Providers(providers)) => {
                providers_seen = true;
                model.providers = validate_providers(providers, errors);
                callbacks.extend(provider_closures(providers));
            }
            ("jwt", Value::Expr(expr)) => {
                model.jwt = closure(expr, &kinds::JWT, errors);
                callbacks.push(expr);
            }
            ("sign_in", Value::Expr(expr)) => {
                model.sign_in = closure(expr, &kinds::SIGN_IN, errors);
                callbacks.push(expr);
            }
            ("redirect", Value::Expr(expr)) => {
                model.redirect = closure(expr, &kinds::REDIRECT, errors);
                callbacks.push(expr);
            }
            ("debug", Value::Expr(expr)) => match &**expr {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(flag),
                    ..
                }) => model.settings.debug = Some(flag.value),
                other => errors.spanned(other, "`debug` expects `true` or `false`"),
            },
            ("pages", Value::Map(pages)) => model.settings.pages = validate_pages(pages, errors),
            ("theme", Value::Map(theme)) => model.settings.theme = validate_theme(theme, errors),
            ("captcha", Value::Map(captcha)) => {
                model.settings.captcha = validate_captcha(captcha, errors);
            }
            ("events", Value::Map(events)) => {
                model.events = validate_events(events, errors);
                callbacks.extend(events.iter().map(|(_, expr)| expr));
            }
            ("session", Value::Expr(expr)) => {
                model.session_callback = closure(expr, &kinds::SESSION, errors);
                callbacks.push(expr);
            }
            _ => unreachable!("ast parses every known key into its value kind"),
        }
    }
    if let (Some((max, _)), Some((update, expr))) = (max_age, update_age)
        && update > max
    {
        errors.spanned(
            expr,
            format!(
                "`update_age` ({update} s) is longer than `max_age` ({max} s): sessions would expire before they are renewed"
            ),
        );
    }
    // Unlike NextAuth, every provider may use database sessions (Credentials and Anonymous
    // included); the adapter is a runtime value, so `AuthBuilder::build` checks there is one.
    model.settings.database_sessions = strategy.map(|s| s.value() == "database");
    if let Some(ids) = written_provider_ids(input) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for callback in callbacks {
            provider_literals(callback, &ids, errors);
        }
    }
    if !providers_seen {
        let span = first_span(input);
        errors.at(
            span,
            "missing `providers`: add `providers: [Credentials { id: \"..\", credentials: {}, authorize: |credentials| .. }]`",
        );
    }
    model
}

/// Where to report a missing key: the first token of the block.
fn first_span(input: &Input) -> Span {
    let struct_span = input.structs.first().map(|item| item.struct_token.span);
    let entry_span = input.entries.first().map(|entry| entry.key.span());
    // An empty block has no token to point at; the invocation itself is the right place then.
    struct_span.or(entry_span).unwrap_or_else(Span::call_site)
}

// ---------------------------------------------------------------------------------------------
// Structs

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Token,
    Session,
}

impl Role {
    fn noun(self) -> &'static str {
        match self {
            Role::Token => "token",
            Role::Session => "session",
        }
    }
}

/// Decides which declared struct is the token and which the session: by name (`…Token` or
/// `…Claims` / `…Session`), otherwise by position (first the token, then the session).
fn validate_structs(
    structs: &[ItemStruct],
    errors: &Errors,
) -> (Option<StructDef>, Option<StructDef>) {
    let mut token: Option<(StructDef, &Ident)> = None;
    let mut session: Option<(StructDef, &Ident)> = None;
    for (index, item) in structs.iter().enumerate() {
        let name = item.ident.to_string();
        let role = if name.ends_with("Token") || name.ends_with("Claims") {
            Role::Token
        } else if name.ends_with("Session") {
            Role::Session
        } else if index == 0 {
            Role::Token
        } else {
            Role::Session
        };
        let slot = match role {
            Role::Token => &mut token,
            Role::Session => &mut session,
        };
        if let Some((_, first)) = slot {
            errors.spanned(
                &item.ident,
                format!(
                    "the {} struct is already declared (`{first}`); `next_auth!` takes at most one token struct (named `…Token`) and one session struct (named `…Session`)",
                    role.noun()
                ),
            );
            continue;
        }
        if let Some(def) = validate_struct(item, role, errors) {
            *slot = Some((def, &item.ident));
        }
    }
    if let (Some((token, _)), Some((session, _))) = (&token, &session)
        && token.ident == session.ident
    {
        errors.spanned(
            &session.ident,
            "the token and session structs need different names",
        );
        return (
            Some(StructDef::default_named("Token")),
            Some(StructDef::default_named("Session")),
        );
    }
    (token.map(|(def, _)| def), session.map(|(def, _)| def))
}

fn validate_struct(item: &ItemStruct, role: Role, errors: &Errors) -> Option<StructDef> {
    let name = item.ident.to_string();
    if GENERATED_TYPES.contains(&name.as_str()) || name.ends_with("Credentials") {
        errors.spanned(
            &item.ident,
            format!(
                "`{name}` is a name `next_auth!` generates; choose another name for the {} struct",
                role.noun()
            ),
        );
        return None;
    }
    let mut ok = true;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            format!("the {} struct cannot be generic", role.noun()),
        );
        ok = false;
    }
    let fields = match &item.fields {
        Fields::Named(named) => named.named.iter().cloned().collect::<Vec<_>>(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(unnamed) => {
            errors.spanned(
                unnamed,
                format!(
                    "the {} struct needs named fields: `struct {name} {{ field: Type }}`",
                    role.noun()
                ),
            );
            return None;
        }
    };
    let standard = match role {
        Role::Token => TOKEN_STANDARD_FIELDS,
        Role::Session => SESSION_STANDARD_FIELDS,
    };
    let mut kept = Vec::new();
    for field in fields {
        let ident = field.ident.as_ref().expect("named field");
        let field_name = ident.unraw().to_string();
        if standard.contains(&field_name.as_str()) {
            errors.spanned(
                ident,
                format!(
                    "`{field_name}` is a standard {} field; the generated struct already has {}",
                    role.noun(),
                    list(standard, "and")
                ),
            );
            continue;
        }
        kept.push(field);
    }
    ok.then(|| StructDef {
        attrs: item.attrs.clone(),
        vis: item.vis.clone(),
        ident: item.ident.clone(),
        fields: kept,
    })
}

// ---------------------------------------------------------------------------------------------
// Settings

/// An integer literal, or `+` / `*` of integer literals, evaluated. Returns the value and the
/// expression itself.
fn integer_setting<'a>(key: &str, expr: &'a Expr, errors: &Errors) -> Option<(u64, &'a Expr)> {
    if is_negative(expr) {
        let rule = if key == "max_age" {
            "must be greater than zero"
        } else {
            "cannot be negative"
        };
        errors.spanned(expr, format!("`{key}` {rule} (it is a number of seconds)"));
        return None;
    }
    match eval(expr) {
        Ok(value) => Some((value, expr)),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// A guest creation limit: a count (0 turns the limit off) that fits in `u32`.
fn limit_setting(key: &str, expr: &Expr, errors: &Errors) -> Option<u32> {
    if is_negative(expr) {
        errors.spanned(
            expr,
            format!("`{key}` cannot be negative (0 turns the limit off)"),
        );
        return None;
    }
    let value = match eval(expr) {
        Ok(value) => value,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    match u32::try_from(value) {
        Ok(value) => Some(value),
        Err(_) => {
            errors.spanned(
                expr,
                format!("`{key}` is {value}, above the largest limit ({})", u32::MAX),
            );
            None
        }
    }
}

/// `-1`, `-(60 * 60)`: a negated number, which `eval` would reject with a less helpful message.
fn is_negative(expr: &Expr) -> bool {
    match expr {
        Expr::Unary(unary) => matches!(unary.op, UnOp::Neg(_)),
        Expr::Paren(paren) => is_negative(&paren.expr),
        Expr::Group(group) => is_negative(&group.expr),
        _ => false,
    }
}

fn eval(expr: &Expr) -> syn::Result<u64> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => {
                if !matches!(int.suffix(), "" | "u64" | "u32" | "usize") {
                    return Err(syn::Error::new_spanned(
                        int,
                        "expected an unsuffixed integer (seconds)",
                    ));
                }
                int.base10_parse::<u64>()
            }
            other => Err(syn::Error::new_spanned(
                other,
                "expected an integer number of seconds",
            )),
        },
        Expr::Paren(paren) => eval(&paren.expr),
        Expr::Group(group) => eval(&group.expr),
        Expr::Binary(binary) => {
            let left = eval(&binary.left)?;
            let right = eval(&binary.right)?;
            let result = match binary.op {
                BinOp::Add(_) => left.checked_add(right),
                BinOp::Mul(_) => left.checked_mul(right),
                _ => {
                    return Err(syn::Error::new_spanned(
                        binary.op,
                        "only `+` and `*` are allowed here",
                    ));
                }
            };
            result.ok_or_else(|| {
                syn::Error::new_spanned(expr, "this number of seconds overflows u64")
            })
        }
        other => Err(syn::Error::new_spanned(
            other,
            "expected a number of seconds: an integer literal, or `+` and `*` of integer literals (`30 * 24 * 60 * 60`)",
        )),
    }
}

/// `strategy: "jwt" | "database"`: the literal, if it is one of the two.
fn session_strategy<'a>(expr: &'a Expr, errors: &Errors) -> Option<&'a LitStr> {
    let lit = string_literal(expr, errors)?;
    let value = lit.value();
    if STRATEGIES.contains(&value.as_str()) {
        Some(lit)
    } else {
        errors.spanned(
            lit,
            format!(
                "unknown session strategy `{value}`{}",
                unknown_hint(&value, STRATEGIES)
            ),
        );
        None
    }
}

/// The session strategies NextAuth knows.
const STRATEGIES: &[&str] = &["jwt", "database"];

/// `token_format: "nextauth-v4" | "authjs-v5" | "jws"`: the format, if it is one of them.
fn token_format(expr: &Expr, errors: &Errors) -> Option<TokenFormat> {
    let lit = string_literal(expr, errors)?;
    let value = lit.value();
    if let Some((_, format)) = TokenFormat::ALL.iter().find(|(name, _)| *name == value) {
        return Some(*format);
    }
    let names = TokenFormat::ALL.map(|(name, _)| name);
    errors.spanned(
        lit,
        format!(
            "unknown token format `{value}`{}",
            unknown_hint(&value, &names)
        ),
    );
    None
}

fn base_path(expr: &Expr, errors: &Errors) -> Option<String> {
    let lit = string_literal(expr, errors)?;
    let value = lit.value();
    let problem = if !value.starts_with('/') {
        Some("must start with `/`")
    } else if value.ends_with('/') {
        Some("must not end with `/`")
    } else if value.contains("//") {
        Some("must not contain `//`")
    } else if value
        .chars()
        .any(|c| c.is_whitespace() || c == '?' || c == '#')
    {
        Some("must be a plain path, without spaces, `?` or `#`")
    } else {
        None
    };
    match problem {
        Some(problem) => {
            errors.spanned(lit, format!("`base_path` {problem} (like \"/api/auth\")"));
            None
        }
        None => Some(value),
    }
}

/// `pages: { sign_in: "/login", .. }`: known pages, once each, each a path on the app
/// (`/login`) or an absolute `http(s)` URL.
fn validate_pages(entries: &[(Ident, Expr)], errors: &Errors) -> Pages {
    let mut pages = Pages::default();
    for (name, expr) in entries {
        let key = name.to_string();
        let Some(slot) = pages.slot(&key) else {
            errors.spanned(
                name,
                format!("unknown page `{key}`{}", unknown_hint(&key, &Pages::KEYS)),
            );
            continue;
        };
        if slot.is_some() {
            errors.spanned(
                name,
                format!("duplicate page `{key}`: it is already set above"),
            );
            continue;
        }
        let Some(lit) = string_literal(expr, errors) else {
            continue;
        };
        let value = lit.value();
        let absolute = value.starts_with("https://") || value.starts_with("http://");
        let problem = if !(value.starts_with('/') || absolute) {
            Some("must be a path on the app (`/login`) or an absolute http(s) URL")
        } else if value.starts_with("//") {
            Some("must not start with `//` (a browser reads it as another host)")
        } else if value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            Some("must not contain spaces, control characters or `\\`")
        } else if !absolute && (value == "/api/auth" || value.starts_with("/api/auth/")) {
            Some("is inside the auth API (`/api/auth`): the built-in page is already there")
        } else {
            None
        };
        match problem {
            Some(problem) => errors.spanned(lit, format!("page `{key}` {problem}")),
            None => *slot = Some(value),
        }
    }
    pages
}

/// `theme: { color_scheme: "auto", brand_color: "#346df1", logo: "/logo.svg", button_text: "#fff" }`.
fn validate_theme(entries: &[(Ident, Expr)], errors: &Errors) -> Theme {
    let mut theme = Theme::default();
    for (name, expr) in entries {
        let key = name.to_string();
        let slot = match key.as_str() {
            "color_scheme" => &mut theme.color_scheme,
            "brand_color" => &mut theme.brand_color,
            "logo" => &mut theme.logo,
            "button_text" => &mut theme.button_text,
            _ => {
                errors.spanned(
                    name,
                    format!(
                        "unknown theme option `{key}`{}",
                        unknown_hint(&key, &Theme::KEYS)
                    ),
                );
                continue;
            }
        };
        if slot.is_some() {
            errors.spanned(name, format!("duplicate theme option `{key}`"));
            continue;
        }
        let Some(lit) = string_literal(expr, errors) else {
            continue;
        };
        let value = lit.value();
        let problem = match key.as_str() {
            "color_scheme" if !Theme::SCHEMES.contains(&value.as_str()) => Some(format!(
                "unknown color scheme `{value}`{}",
                unknown_hint(&value, &Theme::SCHEMES)
            )),
            "brand_color" | "button_text" if !is_hex_colour(&value) => Some(format!(
                "`{key}` must be a hex colour such as \"#346df1\" or \"#fff\", found {value:?}"
            )),
            "logo"
                if !(value.starts_with("https://")
                    || value.starts_with('/') && !value.starts_with("//"))
                    || value
                        .chars()
                        .any(|c| c.is_whitespace() || c == '"' || c == '\\') =>
            {
                Some("`logo` must be an https URL or a path on the app (`/logo.svg`)".to_owned())
            }
            _ => None,
        };
        match problem {
            Some(problem) => errors.spanned(lit, problem),
            None => *slot = Some(value),
        }
    }
    theme
}

/// `captcha: { provider: "recaptcha", mode: "when-limited", min_score: 0.7 }`: a provider is
/// required, `min_score` is reCAPTCHA v3's alone (0.0 to 1.0, in hundredths).
fn validate_captcha(entries: &[(Ident, Expr)], errors: &Errors) -> Captcha {
    let mut captcha = Captcha::default();
    let mut score_span = None;
    for (name, expr) in entries {
        let key = name.to_string();
        let seen = match key.as_str() {
            "provider" => captcha.provider.is_some(),
            "mode" => captcha.mode.is_some(),
            "min_score" => score_span.is_some(),
            _ => {
                errors.spanned(
                    name,
                    format!(
                        "unknown captcha option `{key}`{}",
                        unknown_hint(&key, &Captcha::KEYS)
                    ),
                );
                continue;
            }
        };
        if seen {
            errors.spanned(name, format!("duplicate captcha option `{key}`"));
            continue;
        }
        if key == "min_score" {
            score_span = Some(name.span());
            match score_literal(expr) {
                Some(percent) => captcha.min_score_percent = Some(percent),
                None => errors.spanned(
                    expr,
                    "`min_score` must be a number from 0.0 to 1.0 in hundredths, such as 0.5",
                ),
            }
            continue;
        }
        let Some(lit) = string_literal(expr, errors) else {
            continue;
        };
        let value = lit.value();
        let (allowed, what): (&[&str], &str) = match key.as_str() {
            "provider" => (&Captcha::PROVIDERS, "captcha provider"),
            _ => (&Captcha::MODES, "captcha mode"),
        };
        if !allowed.contains(&value.as_str()) {
            errors.spanned(
                lit,
                format!("unknown {what} `{value}`{}", unknown_hint(&value, allowed)),
            );
            continue;
        }
        match key.as_str() {
            "provider" => captcha.provider = Some(value),
            _ => captcha.mode = Some(value),
        }
    }
    if let Some((first, _)) = entries.first()
        && !entries.iter().any(|(name, _)| name == "provider")
    {
        errors.spanned(
            first,
            "`captcha` needs a `provider`: \"turnstile\", \"hcaptcha\" or \"recaptcha\"",
        );
    }
    if let Some(span) = score_span
        && captcha
            .provider
            .as_deref()
            .is_some_and(|p| p != "recaptcha")
    {
        errors.push(syn::Error::new(
            span,
            "`min_score` is reCAPTCHA v3's score: it means nothing to this provider",
        ));
    }
    captcha
}

/// A literal from 0 to 1 in hundredths (`0.5`, `1`, `0.75`), as a percentage.
fn score_literal(expr: &Expr) -> Option<u8> {
    let Expr::Lit(syn::ExprLit { lit, .. }) = expr else {
        return None;
    };
    let text = match lit {
        Lit::Float(float) if float.suffix().is_empty() => float.base10_digits().to_owned(),
        Lit::Int(int) if int.suffix().is_empty() => int.base10_digits().to_owned(),
        _ => return None,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths: u32 = format!("{whole}{fraction:0<2}").parse().ok()?;
    u8::try_from(hundredths).ok().filter(|p| *p <= 100)
}

/// `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa`.
fn is_hex_colour(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn string_literal<'a>(expr: &'a Expr, errors: &Errors) -> Option<&'a LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        Expr::Group(group) => string_literal(&group.expr, errors),
        other => {
            errors.spanned(other, "expected a string literal");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Providers

fn validate_providers(providers: &ast::Providers, errors: &Errors) -> Vec<Provider> {
    if providers.list.is_empty() {
        errors.at(
            providers.bracket.span.join(),
            "at least one provider is needed, e.g. `Credentials { id: \"..\", credentials: {}, authorize: |credentials| .. }`",
        );
    }
    let mut out: Vec<Provider> = Vec::new();
    let mut ids: HashMap<String, Span> = HashMap::new();
    let mut variants: HashMap<String, (String, Span)> = HashMap::new();
    for spec in &providers.list {
        let Some(provider) = validate_provider(spec, errors) else {
            continue;
        };
        let (provider, id_span) = provider;
        if let Some(first) = ids.get(&provider.id) {
            errors.at(id_span, format!("duplicate provider id `{}`", provider.id));
            errors.at(
                *first,
                format!("provider id `{}` first defined here", provider.id),
            );
            continue;
        }
        let variant = provider.variant.to_string();
        if let Some((other, _)) = variants.get(&variant) {
            errors.at(
                id_span,
                format!(
                    "provider ids `{other}` and `{}` both become the variant `Provider::{variant}`; rename one",
                    provider.id
                ),
            );
            continue;
        }
        ids.insert(provider.id.clone(), id_span);
        variants.insert(variant, (provider.id.clone(), id_span));
        out.push(provider);
    }
    out
}

/// Validates one provider. Returns `None` only if it has no usable id; any other problem is
/// reported and the provider is kept (with defaults) so that `Provider::Variant` still exists.
fn validate_provider(spec: &ast::ProviderSpec, errors: &Errors) -> Option<(Provider, Span)> {
    let kind_name = spec.kind.to_string();
    let kind_spec: Option<&KindSpec> = kinds::lookup(&kind_name);
    if kind_spec.is_none() {
        let names: Vec<&str> = kinds::KINDS.iter().map(|k| k.name).collect();
        errors.spanned(
            &spec.kind,
            format!(
                "unknown provider kind `{kind_name}`{}",
                unknown_hint(&kind_name, &names)
            ),
        );
    }

    let mut docs = Vec::new();
    for attr in &spec.attrs {
        if attr.path().is_ident("doc") {
            docs.push(attr.clone());
        } else {
            errors.spanned(
                attr,
                "only doc comments (`/// ..`) are allowed on a provider",
            );
        }
    }

    let mut seen: HashMap<String, &Ident> = HashMap::new();
    let mut suggested: Vec<&str> = Vec::new();
    let mut id: Option<(String, Span)> = None;
    let mut name: Option<String> = None;
    let mut fields: Option<Vec<CredentialField>> = None;
    let mut authorize: Option<Callback> = None;
    let mut oauth = OAuth::default();
    let mut optional: Option<&syn::LitBool> = None;
    for field in &spec.fields {
        let key = field.key.to_string();
        if seen.contains_key(&key) {
            errors.spanned(
                &field.key,
                format!("duplicate field `{key}` in this provider"),
            );
            continue;
        }
        seen.insert(key.clone(), &field.key);
        let Some(kind_spec) = kind_spec else {
            // Unknown kind: still pick up the id so the variant exists.
            if key == "id"
                && let ProviderValue::Expr(expr) = &field.value
            {
                id = provider_id(expr, errors);
            }
            continue;
        };
        let Some(field_spec) = kind_spec.fields.iter().find(|f| f.name == key) else {
            let names: Vec<&str> = kind_spec.fields.iter().map(|f| f.name).collect();
            // A misspelled required field is reported once, as misspelled, not also as missing.
            suggested.extend(did_you_mean(&key, names.iter().copied()));
            errors.spanned(
                &field.key,
                format!(
                    "unknown field `{key}` for {} `{}` provider{}",
                    if kind_spec.name.starts_with(['A', 'E', 'I', 'O', 'U']) {
                        "an"
                    } else {
                        "a"
                    },
                    kind_spec.name,
                    unknown_hint(&key, &names)
                ),
            );
            continue;
        };
        match (field_spec.ty, &field.value) {
            (FieldType::Str, ProviderValue::Expr(expr)) => {
                if key == "id" {
                    id = provider_id(expr, errors);
                } else if let Some(lit) = string_literal(expr, errors) {
                    if key == "name" {
                        name = Some(lit.value());
                    } else if lit.value().trim().is_empty() {
                        errors.spanned(
                            lit,
                            format!("`{key}` must not be empty; leave it out to read it from the environment at run time"),
                        );
                    } else if let Some(slot) = oauth.slot(&key) {
                        *slot = Some(lit.value());
                    }
                }
            }
            (FieldType::Url, ProviderValue::Expr(expr)) => {
                if let Some(lit) = string_literal(expr, errors) {
                    let value = lit.value();
                    let rest = value
                        .strip_prefix("https://")
                        .or_else(|| value.strip_prefix("http://"));
                    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
                    if host.is_none_or(str::is_empty) || value.chars().any(char::is_whitespace) {
                        errors.spanned(
                            lit,
                            format!("`{key}` must be an absolute http(s) URL, like \"https://idp.example.com\""),
                        );
                    } else if let Some(slot) = oauth.slot(&key) {
                        *slot = Some(value);
                    }
                }
            }
            (FieldType::CredentialFields, ProviderValue::Credentials(block)) => {
                fields = Some(credential_fields(block, errors));
            }
            (FieldType::CredentialFields, ProviderValue::Expr(expr)) => {
                errors.spanned(
                    expr,
                    "expected `{}` or `{ field: { label: \"..\", type: \"..\" }, .. }`",
                );
                fields = Some(Vec::new());
            }
            (FieldType::Closure(closure_spec), ProviderValue::Expr(expr)) => {
                authorize = closure(expr, closure_spec, errors);
            }
            (FieldType::Bool, ProviderValue::Expr(expr)) => match &**expr {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(flag),
                    ..
                }) => optional = Some(flag),
                other => errors.spanned(other, format!("`{key}` expects `true` or `false`")),
            },
            (_, ProviderValue::Credentials(block)) => {
                errors.at(block.brace.span.join(), "expected an expression");
            }
        }
    }

    if let Some(kind_spec) = kind_spec {
        let missing: Vec<&str> = kind_spec
            .fields
            .iter()
            .filter(|f| f.required && !seen.contains_key(f.name) && !suggested.contains(&f.name))
            .map(|f| f.name)
            .collect();
        if !missing.is_empty() {
            let plural = if missing.len() == 1 { "" } else { "s" };
            let why = if missing.contains(&"authorize") {
                "; `authorize` is the closure that checks the submitted credentials: `authorize: |credentials| ..`, returning `Ok(Some(user))`, `Ok(None)` (refused) or an error"
            } else {
                ""
            };
            errors.spanned(
                &spec.kind,
                format!(
                    "this `{}` provider is missing the field{plural} {}{why}",
                    kind_spec.name,
                    list(&missing, "and")
                ),
            );
        }
    }
    let preset = kind_spec.and_then(|k| k.default_id);
    let (id, id_span) = match (id, preset) {
        (Some(id), _) => id,
        (None, Some((default_id, _))) if !seen.contains_key("id") => {
            (default_id.to_owned(), spec.kind.span())
        }
        (None, _) => return None,
    };
    let variant = variant_name(&id);
    let variant = Ident::new(&variant, id_span);
    let kind = kind_spec.map_or(Kind::Credentials, |k| k.kind);
    let config = match kind {
        Kind::Credentials => ProviderConfig::Credentials(Credentials {
            fields: fields.unwrap_or_default(),
            authorize,
        }),
        Kind::Oidc | Kind::OAuth | Kind::GitHub | Kind::Google => ProviderConfig::OAuth(oauth),
        Kind::Anonymous | Kind::Email | Kind::Passkey => ProviderConfig::Engine,
    };
    // An optional OAuth provider is on where its client id is configured at run time: one
    // written here would keep it always on.
    if let (
        Some(flag),
        ProviderConfig::OAuth(OAuth {
            client_id: Some(_), ..
        }),
    ) = (optional, &config)
        && flag.value
    {
        errors.spanned(
            flag,
            format!(
                "this optional provider is always on: its `client_id` is written in the block; \
                 leave `client_id` out (it is then read from AUTH_{}_ID) or drop `optional`",
                id.to_ascii_uppercase().replace(['-', '.'], "_")
            ),
        );
    }
    let name = name
        .or_else(|| preset.map(|(_, name)| name.to_owned()))
        .unwrap_or_else(|| id.clone());
    Some((
        Provider {
            id,
            name,
            variant,
            docs,
            kind,
            config,
            optional: optional.is_some_and(|flag| flag.value),
        },
        id_span,
    ))
}

/// A provider id: a non-empty string literal of `[A-Za-z0-9_-]`, starting with a letter.
fn provider_id(expr: &Expr, errors: &Errors) -> Option<(String, Span)> {
    let lit = string_literal(expr, errors)?;
    let id = lit.value();
    let problem = if id.is_empty() {
        Some("a provider id must not be empty".to_owned())
    } else if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some(format!("provider id `{id}` must start with a letter"))
    } else if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        Some(format!(
            "provider id `{id}` must be URL-safe: only letters, digits, `-` and `_` (found {bad:?})"
        ))
    } else if variant_name(&id) == "Self" {
        Some(format!(
            "provider id `{id}` would become the variant `Provider::Self`; choose another id"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => {
            errors.spanned(lit, message);
            None
        }
        None => Some((id, lit.span())),
    }
}

/// `"my-github"` → `MyGithub`: split on `-`, `_` and `.`, capitalise each part.
pub(crate) fn variant_name(id: &str) -> String {
    id.split(['-', '_', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().expect("non-empty part");
            first.to_uppercase().chain(chars).collect::<String>()
        })
        .collect()
}

fn credential_fields(block: &ast::CredentialFields, errors: &Errors) -> Vec<CredentialField> {
    let mut out: Vec<CredentialField> = Vec::new();
    for field in &block.fields {
        let name = field.name.unraw().to_string();
        if out.iter().any(|f| f.name == name) {
            errors.spanned(&field.name, format!("duplicate credential field `{name}`"));
            continue;
        }
        let mut label = None;
        let mut input_type = None;
        let mut placeholder = None;
        for (key, value) in &field.options {
            let key_name = key.to_string();
            let slot = match key_name.as_str() {
                "label" => &mut label,
                "type" => &mut input_type,
                "placeholder" => &mut placeholder,
                _ => {
                    errors.spanned(
                        key,
                        format!(
                            "unknown credential option `{key_name}`{}",
                            unknown_hint(&key_name, kinds::CREDENTIAL_OPTIONS)
                        ),
                    );
                    continue;
                }
            };
            if slot.is_some() {
                errors.spanned(key, format!("duplicate option `{key_name}`"));
                continue;
            }
            if let Some(lit) = string_literal(value, errors) {
                *slot = Some(lit.value());
            }
        }
        out.push(CredentialField {
            ident: field.name.clone(),
            label: label.unwrap_or_else(|| name.clone()),
            input_type: input_type.unwrap_or_else(|| "text".to_owned()),
            placeholder,
            name,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Closures

/// Checks a callback closure against its spec and prepares it for rewriting into an `async fn`.
/// Each event handler: a known event, once, with a closure of the right shape.
fn validate_events(events: &[(Ident, Expr)], errors: &Errors) -> Vec<(usize, Callback)> {
    let names: Vec<&str> = kinds::EVENTS.iter().map(|(spec, ..)| spec.key).collect();
    let mut seen = Vec::new();
    let mut handlers = Vec::new();
    for (name, expr) in events {
        let key = name.to_string();
        let Some(index) = names.iter().position(|n| *n == key) else {
            let message = format!("unknown event `{key}`{}", unknown_hint(&key, &names));
            errors.spanned(name, message);
            continue;
        };
        if seen.contains(&index) {
            errors.spanned(
                name,
                format!("duplicate event `{key}`: it is already handled above"),
            );
            continue;
        }
        seen.push(index);
        if let Some(callback) = closure(expr, &kinds::EVENTS[index].0, errors) {
            handlers.push((index, callback));
        }
    }
    handlers
}

fn closure(expr: &Expr, spec: &ClosureSpec, errors: &Errors) -> Option<Callback> {
    let closure: &ExprClosure = match expr {
        Expr::Closure(closure) => closure,
        Expr::Group(group) => return closure(&group.expr, spec, errors),
        other => {
            errors.spanned(
                other,
                format!(
                    "`{}` expects a closure `|{}| ..` (it may be `async`)",
                    spec.key,
                    spec.params.join(", ")
                ),
            );
            return None;
        }
    };
    let mut ok = true;
    if let Some(lifetimes) = &closure.lifetimes {
        errors.spanned(lifetimes, "`for<..>` is not supported on callbacks");
        ok = false;
    }
    if let Some(constness) = &closure.constness {
        errors.spanned(constness, "a callback cannot be `const`");
        ok = false;
    }
    let count = closure.inputs.len();
    if count < spec.required || count > spec.params.len() {
        let inputs = &closure.inputs;
        let (begin, end) = (&closure.inputs_begin, &closure.inputs_end);
        errors.spanned(
            quote!(#begin #inputs #end),
            format!(
                "the `{}` {} takes {} {}, found {count}",
                spec.key,
                spec.noun,
                spec.arity(),
                spec.signature()
            ),
        );
        ok = false;
    }
    let is_async_block = matches!(&*closure.body, Expr::Async(_)) && closure.asyncness.is_none();
    if is_async_block && !matches!(closure.output, ReturnType::Default) {
        errors.spanned(
            &closure.output,
            "remove this return type: the closure returns an `async` block",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let body: TokenStream = match &*closure.body {
        Expr::Async(block) if closure.asyncness.is_none() => block.block.to_token_stream(),
        body => {
            let span = body.span();
            quote::quote_spanned!(span=> { #body })
        }
    };
    let span = match (&closure.asyncness, &closure.capture) {
        (Some(asyncness), _) => asyncness.span,
        (None, Some(capture)) => capture.span,
        (None, None) => closure.inputs_begin.span,
    };
    Some(Callback {
        params: closure.inputs.iter().cloned().collect(),
        output: closure.output.clone(),
        body,
        span,
    })
}

// ---------------------------------------------------------------------------------------------
// Provider ids written as strings in callbacks

/// The `authorize` closures of every provider, as written.
fn provider_closures(providers: &ast::Providers) -> impl Iterator<Item = &Expr> {
    providers.list.iter().flat_map(|spec| {
        spec.fields.iter().filter_map(|field| match &field.value {
            ProviderValue::Expr(expr) if field.key == "authorize" => Some(&**expr),
            _ => None,
        })
    })
}

/// Every provider id as written (valid or not), or `None` if some provider has no literal id: then
/// the set of ids is unknown and literals in callbacks are not judged.
fn written_provider_ids(input: &Input) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    for entry in &input.entries {
        let Value::Providers(providers) = &entry.value else {
            continue;
        };
        for spec in &providers.list {
            let written = spec.fields.iter().find_map(|field| match &field.value {
                ProviderValue::Expr(expr) if field.key == "id" => Some(literal_str(expr)),
                _ => None,
            });
            let id = match written {
                Some(literal) => literal?.value(),
                // No `id`: the kind's own (`Anonymous` is `anon`, `GitHub` is `github`, ...).
                // A kind without one reports the missing id elsewhere; no check is possible.
                None => kinds::lookup(&spec.kind.to_string())?
                    .default_id?
                    .0
                    .to_owned(),
            };
            ids.push(id);
        }
    }
    Some(ids)
}

fn literal_str(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        Expr::Group(group) => literal_str(&group.expr),
        Expr::Paren(paren) => literal_str(&paren.expr),
        _ => None,
    }
}

/// Reports string literals in `callback` that stand for a provider id no provider has: compared
/// with `==` / `!=` against a provider expression, or a pattern of a `match` on one. Other strings
/// are never looked at.
fn provider_literals(callback: &Expr, ids: &[&str], errors: &Errors) {
    let mut visitor = ProviderLiterals { ids, errors };
    visitor.visit_expr(callback);
}

struct ProviderLiterals<'a> {
    ids: &'a [&'a str],
    errors: &'a Errors,
}

impl ProviderLiterals<'_> {
    fn check(&self, lit: &LitStr) {
        let value = lit.value();
        if self.ids.contains(&value.as_str()) {
            return;
        }
        let hint = match did_you_mean(&value, self.ids.iter().copied()) {
            Some(close) => format!("; did you mean `{close}`?"),
            None => format!(
                "; the configured provider ids are {}",
                list(self.ids, "and")
            ),
        };
        self.errors
            .spanned(lit, format!("no provider has the id `{value}`{hint}"));
    }

    fn check_pattern(&self, pat: &Pat) {
        match pat {
            Pat::Lit(lit) => {
                if let Lit::Str(lit) = &lit.lit {
                    self.check(lit);
                }
            }
            Pat::Or(or) => or.cases.iter().for_each(|case| self.check_pattern(case)),
            Pat::Paren(paren) => self.check_pattern(&paren.pat),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for ProviderLiterals<'_> {
    fn visit_expr_binary(&mut self, node: &'ast ExprBinary) {
        if matches!(node.op, BinOp::Eq(_) | BinOp::Ne(_)) {
            for (literal, other) in [(&node.left, &node.right), (&node.right, &node.left)] {
                if let Some(lit) = literal_str(strip(literal))
                    && is_provider(other)
                {
                    self.check(lit);
                }
            }
        }
        visit::visit_expr_binary(self, node);
    }

    fn visit_expr_match(&mut self, node: &'ast ExprMatch) {
        if is_provider(&node.expr) {
            for arm in &node.arms {
                self.check_pattern(&arm.pat);
            }
        }
        visit::visit_expr_match(self, node);
    }
}

/// `&x`, `*x`, `(x)` → `x`.
fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Reference(reference) => strip(&reference.expr),
        Expr::Unary(unary) if matches!(unary.op, UnOp::Deref(_)) => strip(&unary.expr),
        Expr::Paren(paren) => strip(&paren.expr),
        Expr::Group(group) => strip(&group.expr),
        other => other,
    }
}

/// An expression that is a provider id: `provider`, `x.provider` (`account.provider`), either with
/// `.as_str()` / `.as_ref()`, or `.id()` of such an expression or of a `Provider::..` path.
fn is_provider(expr: &Expr) -> bool {
    match strip(expr) {
        Expr::Path(path) => path.qself.is_none() && path.path.is_ident("provider"),
        Expr::Field(field) => {
            matches!(&field.member, Member::Named(name) if name.unraw() == "provider")
        }
        Expr::MethodCall(call) if call.args.is_empty() => {
            let method = call.method.unraw().to_string();
            match method.as_str() {
                "as_str" | "as_ref" => is_provider(&call.receiver),
                "id" => is_provider(&call.receiver) || is_provider_path(&call.receiver),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `Provider::Anon`.
fn is_provider_path(expr: &Expr) -> bool {
    match strip(expr) {
        Expr::Path(path) => {
            path.qself.is_none()
                && path.path.segments.len() == 2
                && path.path.segments[0].ident == "Provider"
        }
        _ => false,
    }
}
