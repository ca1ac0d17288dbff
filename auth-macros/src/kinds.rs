//! The provider kinds `next_auth!` knows, and the fields each accepts.
//!
//! This table is the one place to extend when a kind is added (`Oidc`, `OAuth`, `Anonymous`):
//! add a [`KindSpec`], a [`Kind`] variant, and the expansion of that variant in `expand.rs`.

/// A provider kind, as validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Credentials { id, name, credentials, authorize }`.
    Credentials,
}

impl Kind {
    /// The `auth_runtime::definition::ProviderKind` variant this kind maps to.
    pub(crate) fn runtime_variant(self) -> &'static str {
        match self {
            Kind::Credentials => "Credentials",
        }
    }
}

/// What syntax a provider field expects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldType {
    /// A string literal.
    Str,
    /// `{}` or `{ field: { label: "..", type: ".." }, ... }`.
    CredentialFields,
    /// A closure with this signature.
    Closure(&'static ClosureSpec),
}

/// One field of a provider kind.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    pub ty: FieldType,
}

/// A provider kind: its name in the macro and its fields.
#[derive(Debug)]
pub(crate) struct KindSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub fields: &'static [FieldSpec],
}

/// The parameters a callback closure takes: the first `required` are mandatory.
#[derive(Debug)]
pub(crate) struct ClosureSpec {
    /// The key the closure is written under (`authorize`, `jwt`, `session`).
    pub key: &'static str,
    /// Parameter names, for messages.
    pub params: &'static [&'static str],
    /// How many of `params` must be written.
    pub required: usize,
}

impl ClosureSpec {
    /// "(credentials[, state])".
    pub(crate) fn signature(&self) -> String {
        let (required, optional) = self.params.split_at(self.required);
        let mut out = required.join(", ");
        for param in optional {
            out.push_str(&format!("[, {param}]"));
        }
        format!("({out})")
    }

    /// "1 or 2 parameters".
    pub(crate) fn arity(&self) -> String {
        let max = self.params.len();
        if self.required == max {
            format!("{max} parameter{}", if max == 1 { "" } else { "s" })
        } else {
            format!("{} or {max} parameters", self.required)
        }
    }
}

pub(crate) const AUTHORIZE: ClosureSpec = ClosureSpec {
    key: "authorize",
    params: &["credentials", "state"],
    required: 1,
};
pub(crate) const JWT: ClosureSpec = ClosureSpec {
    key: "jwt",
    params: &["token", "event", "state"],
    required: 2,
};
pub(crate) const SESSION: ClosureSpec = ClosureSpec {
    key: "session",
    params: &["session", "token", "state"],
    required: 2,
};

/// Every provider kind, in the order they are suggested.
pub(crate) const KINDS: &[KindSpec] = &[KindSpec {
    name: "Credentials",
    kind: Kind::Credentials,
    fields: &[
        FieldSpec {
            name: "id",
            required: true,
            ty: FieldType::Str,
        },
        FieldSpec {
            name: "name",
            required: false,
            ty: FieldType::Str,
        },
        FieldSpec {
            name: "credentials",
            required: true,
            ty: FieldType::CredentialFields,
        },
        FieldSpec {
            name: "authorize",
            required: true,
            ty: FieldType::Closure(&AUTHORIZE),
        },
    ],
}];

/// The options of one credential field: `label`, `type`, `placeholder`.
pub(crate) const CREDENTIAL_OPTIONS: &[&str] = &["label", "type", "placeholder"];

pub(crate) fn lookup(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|spec| spec.name == name)
}
