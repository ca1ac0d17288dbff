//! The syntax of a `next_auth!` block, parsed without judging it.
//!
//! Parsing recovers at commas: a value that does not parse is recorded as an error and skipped, so
//! the rest of the block is still parsed and validated in the same pass.

use proc_macro2::{Delimiter, TokenTree};
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, Ident, ItemStruct, Token, Type, braced, bracketed, token};

use crate::errors::Errors;

/// The keys a `next_auth!` block accepts, in documentation order.
pub(crate) const TOP_LEVEL_KEYS: &[&str] = &[
    "state",
    "max_age",
    "update_age",
    "strategy",
    "base_path",
    "token_format",
    "debug",
    "guest_limit_per_hour",
    "guest_limit_burst",
    "guest_global_per_hour",
    "guest_global_burst",
    "credentials_limit_per_hour",
    "credentials_limit_burst",
    "credentials_identifier_per_hour",
    "credentials_identifier_burst",
    "providers",
    "sign_in",
    "redirect",
    "jwt",
    "events",
    "pages",
    "theme",
    "captcha",
    "session",
];

/// The whole macro input.
pub(crate) struct Input {
    /// `struct` declarations, in order.
    pub structs: Vec<ItemStruct>,
    /// `key: value` entries, in order.
    pub entries: Vec<Entry>,
    /// Syntax errors that parsing recovered from.
    pub errors: Vec<syn::Error>,
}

/// One `key: value` entry.
pub(crate) struct Entry {
    pub key: Ident,
    pub value: Value,
}

/// A value, parsed according to its key.
pub(crate) enum Value {
    /// `providers: [ ... ]`.
    Providers(Providers),
    /// `state: Type`.
    Type(Box<Type>),
    /// `events: { sign_in: |message| .., .. }`, `pages: { .. }`, `theme: { .. }`,
    /// `captcha: { .. }`: named values.
    Map(Vec<(Ident, Expr)>),
    /// Every other known key: an expression, judged by validation.
    Expr(Box<Expr>),
    /// An unknown key: its tokens were skipped up to the next comma.
    Unknown,
}

/// `[ Kind { .. }, ... ]`.
pub(crate) struct Providers {
    pub bracket: token::Bracket,
    pub list: Vec<ProviderSpec>,
}

/// `/// docs` `Credentials { id: "anon", ... }`.
pub(crate) struct ProviderSpec {
    /// Outer attributes (doc comments) written before the kind.
    pub attrs: Vec<Attribute>,
    pub kind: Ident,
    pub fields: Vec<ProviderField>,
}

/// One `key: value` inside a provider.
pub(crate) struct ProviderField {
    pub key: Ident,
    pub value: ProviderValue,
}

pub(crate) enum ProviderValue {
    Expr(Box<Expr>),
    /// `{ username: { label: "..", type: ".." }, ... }`.
    Credentials(CredentialFields),
}

pub(crate) struct CredentialFields {
    pub brace: token::Brace,
    pub fields: Vec<CredentialField>,
}

/// `username: { label: "Username", type: "text" }`.
pub(crate) struct CredentialField {
    pub name: Ident,
    /// `label`, `type`, `placeholder`... (keys may be keywords such as `type`).
    pub options: Vec<(Ident, Expr)>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let errors = Errors::new();
        let mut structs = Vec::new();
        let mut entries = Vec::new();
        while !input.is_empty() {
            if input.peek(Token![#]) || input.peek(Token![pub]) || input.peek(Token![struct]) {
                let fork = input.fork();
                match fork.parse::<ItemStruct>() {
                    Ok(item) => {
                        input.advance_to(&fork);
                        structs.push(item);
                    }
                    Err(error) => {
                        errors.push(error);
                        skip_struct(input);
                    }
                }
                let _: Option<Token![,]> = input.parse()?;
                continue;
            }
            if let Some(entry) = recover(input, &errors, |input| parse_entry(input, &errors)) {
                entries.push(entry);
            }
            end_of_item(input, &errors);
        }
        Ok(Input {
            structs,
            entries,
            errors: errors.into_vec(),
        })
    }
}

fn parse_entry(input: ParseStream, errors: &Errors) -> syn::Result<Entry> {
    let key: Ident = input
        .call(Ident::parse_any)
        .map_err(|_| input.error("expected `key: value` or a `struct` declaration"))?;
    input.parse::<Token![:]>()?;
    let value = match key.to_string().as_str() {
        "providers" => Value::Providers(parse_providers(input, errors)?),
        "state" => Value::Type(input.parse()?),
        "events" | "pages" | "theme" | "captcha" => Value::Map(parse_map(input, errors)?),
        name if TOP_LEVEL_KEYS.contains(&name) => Value::Expr(input.parse()?),
        _ => {
            // Skip the value: as a type or an expression if it is one (closures and generics
            // contain commas), else up to the next comma.
            let skipped = try_skip::<Type>(input) || try_skip::<Expr>(input);
            if !skipped {
                skip_to_comma(input);
            }
            Value::Unknown
        }
    };
    Ok(Entry { key, value })
}

fn parse_providers(input: ParseStream, errors: &Errors) -> syn::Result<Providers> {
    let content;
    let bracket = bracketed!(content in input);
    let mut list = Vec::new();
    while !content.is_empty() {
        if let Some(spec) = recover(&content, errors, |input| parse_provider(input, errors)) {
            list.push(spec);
        }
        end_of_item(&content, errors);
    }
    Ok(Providers { bracket, list })
}

/// `{ name: <expr>, .. }`; an entry that does not parse is recorded and skipped.
fn parse_map(input: ParseStream, errors: &Errors) -> syn::Result<Vec<(Ident, Expr)>> {
    let content;
    braced!(content in input);
    let mut entries = Vec::new();
    while !content.is_empty() {
        let entry = recover(&content, errors, |input| {
            let name: Ident = input.call(Ident::parse_any)?;
            input.parse::<Token![:]>()?;
            Ok((name, input.parse::<Expr>()?))
        });
        entries.extend(entry);
        end_of_item(&content, errors);
    }
    Ok(entries)
}

fn parse_provider(input: ParseStream, errors: &Errors) -> syn::Result<ProviderSpec> {
    let attrs = input.call(Attribute::parse_outer)?;
    let kind: Ident = input.parse()?;
    let content;
    braced!(content in input);
    let mut fields = Vec::new();
    while !content.is_empty() {
        if let Some(field) = recover(&content, errors, parse_provider_field) {
            fields.push(field);
        }
        end_of_item(&content, errors);
    }
    Ok(ProviderSpec {
        attrs,
        kind,
        fields,
    })
}

fn parse_provider_field(input: ParseStream) -> syn::Result<ProviderField> {
    let key: Ident = input.parse()?;
    input.parse::<Token![:]>()?;
    let value = if key == "credentials" && input.peek(token::Brace) {
        let content;
        let brace = braced!(content in input);
        let mut fields = Vec::new();
        while !content.is_empty() {
            fields.push(parse_credential_field(&content)?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        ProviderValue::Credentials(CredentialFields { brace, fields })
    } else {
        ProviderValue::Expr(input.parse()?)
    };
    Ok(ProviderField { key, value })
}

fn parse_credential_field(input: ParseStream) -> syn::Result<CredentialField> {
    let name: Ident = input.parse()?;
    input.parse::<Token![:]>()?;
    let content;
    braced!(content in input);
    let mut options = Vec::new();
    while !content.is_empty() {
        let key = content.call(Ident::parse_any)?;
        content.parse::<Token![:]>()?;
        let value: Expr = content.parse()?;
        options.push((key, value));
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(CredentialField { name, options })
}

/// Runs `parse` on a fork; on success commits it, on failure records the error and skips to the
/// next comma so that parsing can go on.
fn recover<T>(
    input: ParseStream,
    errors: &Errors,
    parse: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> Option<T> {
    let fork = input.fork();
    match parse(&fork) {
        Ok(value) => {
            input.advance_to(&fork);
            Some(value)
        }
        Err(error) => {
            errors.push(error);
            skip_to_comma(input);
            None
        }
    }
}

/// Consumes a `T` if one parses and ends the item.
fn try_skip<T: Parse>(input: ParseStream) -> bool {
    let fork = input.fork();
    let ok = fork.parse::<T>().is_ok() && (fork.is_empty() || fork.peek(Token![,]));
    if ok {
        input.advance_to(&fork);
    }
    ok
}

/// After an item: a comma, or the end of the input. Anything else is an error, skipped.
fn end_of_item(input: ParseStream, errors: &Errors) {
    if input.is_empty() {
        return;
    }
    if input.parse::<Token![,]>().is_ok() {
        return;
    }
    errors.push(input.error("expected `,`"));
    skip_to_comma(input);
    let _ = input.parse::<Token![,]>();
}

fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// Skips a malformed `struct` declaration: everything up to and including its braced body.
fn skip_struct(input: ParseStream) {
    while !input.is_empty() {
        match input.parse::<TokenTree>() {
            Ok(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => break,
            Ok(TokenTree::Punct(punct)) if punct.as_char() == ';' => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
