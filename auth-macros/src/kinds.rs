//! The provider kinds `next_auth!` knows, and the fields each accepts.
//!
//! This table is the one place to extend when a kind is added (`Anonymous`, another preset): add
//! a [`KindSpec`], a [`Kind`] variant, and the expansion of that variant in `expand.rs`.

/// A provider kind, as validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Credentials { id, name, credentials, authorize }`.
    Credentials,
    /// `Oidc { id, name, issuer?, client_id?, client_secret?, scope? }`.
    Oidc,
    /// `OAuth { id, name, authorization_url, token_url, userinfo_url, client_id?, .. }`.
    OAuth,
    /// `GitHub { client_id?, client_secret?, .. }`: a preset of `OAuth`.
    GitHub,
    /// `Google { client_id?, client_secret?, .. }`: a preset of `Oidc`.
    Google,
    /// `Anonymous { id?, name? }`: guests, created through the engine's guest store.
    Anonymous,
    /// `Email { id?, name? }`: a sign-in link mailed to the address (the engine's adapter keeps
    /// the one-time tokens).
    Email,
    /// `Passkey { id?, name? }`: WebAuthn passkeys, Auth.js v5's protocol (the engine's store
    /// keeps the authenticators).
    Passkey,
}

impl Kind {
    /// The `auth_runtime::definition::ProviderKind` variant this kind maps to.
    pub(crate) fn runtime_variant(self) -> &'static str {
        match self {
            Kind::Credentials => "Credentials",
            Kind::Anonymous => "Anonymous",
            Kind::Email => "Email",
            Kind::Passkey => "WebAuthn",
            Kind::Oidc | Kind::OAuth | Kind::GitHub | Kind::Google => "OAuth",
        }
    }
}

/// What syntax a provider field expects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldType {
    /// A string literal.
    Str,
    /// A string literal holding an absolute `http://` or `https://` URL.
    Url,
    /// `{}` or `{ field: { label: "..", type: ".." }, ... }`.
    CredentialFields,
    /// A closure with this signature.
    Closure(&'static ClosureSpec),
    /// `true` or `false`.
    Bool,
}

/// One field of a provider kind.
#[derive(Debug, Clone, Copy)]
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
    /// The id and display name of a preset when the block leaves them out.
    pub default_id: Option<(&'static str, &'static str)>,
}

/// The parameters a callback closure takes: the first `required` are mandatory.
#[derive(Debug)]
pub(crate) struct ClosureSpec {
    /// The key the closure is written under (`authorize`, `jwt`, `session`).
    pub key: &'static str,
    /// What the closure is called in messages: a "callback" or an "event" handler.
    pub noun: &'static str,
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
    noun: "callback",
    params: &["credentials", "state"],
    required: 1,
};
pub(crate) const JWT: ClosureSpec = ClosureSpec {
    key: "jwt",
    noun: "callback",
    params: &["token", "event", "state"],
    required: 2,
};
pub(crate) const SIGN_IN: ClosureSpec = ClosureSpec {
    key: "sign_in",
    noun: "callback",
    params: &["attempt", "state"],
    required: 1,
};
pub(crate) const REDIRECT: ClosureSpec = ClosureSpec {
    key: "redirect",
    noun: "callback",
    params: &["url", "base_url", "state"],
    required: 2,
};
/// The events `events: { .. }` accepts, each with its closure and the `auth_runtime::events`
/// type its message has (`true`: generic over the `Provider` enum; `false`: over the `Token`).
pub(crate) const EVENTS: &[(ClosureSpec, &str, Option<bool>)] = &[
    (event("sign_in"), "SignIn", Some(true)),
    (event("sign_out"), "SignOut", Some(false)),
    (event("create_user"), "CreateUser", None),
    (event("link_account"), "LinkAccount", None),
    (event("update_user"), "UpdateUser", None),
    (event("session"), "Session", Some(false)),
    (event("guest_created"), "GuestCreated", None),
    (event("guest_upgraded"), "GuestUpgraded", None),
];

const fn event(key: &'static str) -> ClosureSpec {
    ClosureSpec {
        key,
        noun: "event",
        params: &["message", "state"],
        required: 1,
    }
}

pub(crate) const SESSION: ClosureSpec = ClosureSpec {
    key: "session",
    noun: "callback",
    params: &["session", "token", "state"],
    required: 2,
};

const fn field(name: &'static str, required: bool, ty: FieldType) -> FieldSpec {
    FieldSpec { name, required, ty }
}

/// `client_id`, `client_secret` and `scope`: optional, read from `AUTH_<ID>_ID` and
/// `AUTH_<ID>_SECRET` at run time when left out.
const CLIENT_FIELDS: [FieldSpec; 3] = [
    field("client_id", false, FieldType::Str),
    field("client_secret", false, FieldType::Str),
    field("scope", false, FieldType::Str),
];

/// `optional: true`: the provider is on only where it is configured (see `validate`).
const OPTIONAL: FieldSpec = field("optional", false, FieldType::Bool);

/// Every provider kind, in the order they are suggested.
pub(crate) const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "Credentials",
        kind: Kind::Credentials,
        fields: &[
            field("id", true, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
            field("credentials", true, FieldType::CredentialFields),
            field("authorize", true, FieldType::Closure(&AUTHORIZE)),
        ],
        default_id: None,
    },
    KindSpec {
        name: "Oidc",
        kind: Kind::Oidc,
        fields: &[
            field("id", true, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
            field("issuer", false, FieldType::Url),
            CLIENT_FIELDS[0],
            CLIENT_FIELDS[1],
            CLIENT_FIELDS[2],
        ],
        default_id: None,
    },
    KindSpec {
        name: "OAuth",
        kind: Kind::OAuth,
        fields: &[
            field("id", true, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
            field("authorization_url", true, FieldType::Url),
            field("token_url", true, FieldType::Url),
            field("userinfo_url", true, FieldType::Url),
            CLIENT_FIELDS[0],
            CLIENT_FIELDS[1],
            CLIENT_FIELDS[2],
        ],
        default_id: None,
    },
    KindSpec {
        name: "GitHub",
        kind: Kind::GitHub,
        fields: &[
            field("id", false, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
            CLIENT_FIELDS[0],
            CLIENT_FIELDS[1],
            CLIENT_FIELDS[2],
        ],
        default_id: Some(("github", "GitHub")),
    },
    KindSpec {
        name: "Google",
        kind: Kind::Google,
        fields: &[
            field("id", false, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
            CLIENT_FIELDS[0],
            CLIENT_FIELDS[1],
            CLIENT_FIELDS[2],
        ],
        default_id: Some(("google", "Google")),
    },
    KindSpec {
        name: "Anonymous",
        kind: Kind::Anonymous,
        fields: &[
            field("id", false, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
        ],
        default_id: Some(("anon", "Anonymous")),
    },
    KindSpec {
        name: "Email",
        kind: Kind::Email,
        fields: &[
            field("id", false, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
        ],
        default_id: Some(("email", "Email")),
    },
    KindSpec {
        name: "Passkey",
        kind: Kind::Passkey,
        fields: &[
            field("id", false, FieldType::Str),
            field("name", false, FieldType::Str),
            OPTIONAL,
        ],
        default_id: Some(("passkey", "Passkey")),
    },
];

/// The options of one credential field: `label`, `type`, `placeholder`.
pub(crate) const CREDENTIAL_OPTIONS: &[&str] = &["label", "type", "placeholder"];

pub(crate) fn lookup(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|spec| spec.name == name)
}
