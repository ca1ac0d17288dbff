//! A serde-style error context: every check pushes into it, and the errors are combined once at
//! the end, so one invocation reports every problem in a single compile.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Collects `syn::Error`s. Call [`Errors::finish`] before dropping it.
pub(crate) struct Errors {
    list: RefCell<Option<Vec<syn::Error>>>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors {
            list: RefCell::new(Some(Vec::new())),
        }
    }

    /// An error covering the tokens of `node` (first to last token).
    pub(crate) fn spanned(&self, node: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(node.into_token_stream(), message));
    }

    /// An error at one span.
    pub(crate) fn at(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn push(&self, error: syn::Error) {
        self.list
            .borrow_mut()
            .as_mut()
            .expect("error context already finished")
            .push(error);
    }

    pub(crate) fn extend(&self, errors: impl IntoIterator<Item = syn::Error>) {
        for error in errors {
            self.push(error);
        }
    }

    /// The collected errors, in the order they were found.
    pub(crate) fn into_vec(self) -> Vec<syn::Error> {
        self.list.borrow_mut().take().unwrap_or_default()
    }

    /// Every error combined into one, or `None` if there was none.
    pub(crate) fn finish(self) -> Option<syn::Error> {
        self.into_vec().into_iter().reduce(|mut first, next| {
            first.combine(next);
            first
        })
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.list.borrow().as_ref().is_some_and(|l| !l.is_empty()) {
            panic!("auth-macros bug: errors were collected but never reported");
        }
    }
}

/// The closest candidate to `unknown` (Jaro-Winkler), if it is close enough to suggest.
pub(crate) fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&unknown.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "; did you mean `x`?" or "; expected one of `a`, `b`" for an unknown name.
pub(crate) fn unknown_hint(unknown: &str, candidates: &[&str]) -> String {
    match did_you_mean(unknown, candidates.iter().copied()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => format!("; expected one of {}", list(candidates, "or")),
    }
}

/// "`a`, `b` or `c`" (with `conjunction` "or"; "and" for a list of requirements).
pub(crate) fn list(names: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}
