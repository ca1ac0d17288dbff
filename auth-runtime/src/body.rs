//! Request bodies: NextAuth's client sends forms (`signIn`, `signOut`) and JSON (`update()`).

use serde_json::{Map, Value};

use crate::error::RequestError;

/// The fields of a POST body, from `application/x-www-form-urlencoded` or `application/json`.
///
/// ```
/// use auth_runtime::RequestBody;
///
/// let body = RequestBody::from_form(b"csrfToken=abc&json=true&nick=bob").unwrap();
/// assert_eq!(body.get("nick"), Some("bob"));
/// assert!(body.wants_json());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestBody {
    fields: Map<String, Value>,
    /// Auth.js v5's `X-Auth-Return-Redirect: 1` header came with the body (decided where the
    /// request is parsed, so every handler's `wants_json` sees it).
    return_redirect: bool,
}

/// At most this many fields are kept from one body.
const MAX_FIELDS: usize = 256;

impl RequestBody {
    /// Parses a form body. Later duplicates of a key are ignored, as `URLSearchParams.get` does.
    pub fn from_form(bytes: &[u8]) -> Result<Self, RequestError> {
        let mut fields = Map::new();
        for (count, (key, value)) in form_urlencoded::parse(bytes).enumerate() {
            if count >= MAX_FIELDS {
                return Err(RequestError::TooManyFields);
            }
            fields
                .entry(key.into_owned())
                .or_insert_with(|| Value::String(value.into_owned()));
        }
        Ok(RequestBody {
            fields,
            return_redirect: false,
        })
    }

    /// Parses a JSON body, which must be an object.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RequestError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(RequestBody::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) if fields.len() <= MAX_FIELDS => Ok(RequestBody {
                fields,
                return_redirect: false,
            }),
            Ok(Value::Object(_)) => Err(RequestError::TooManyFields),
            Ok(_) => Err(RequestError::JsonNotObject),
            Err(error) => Err(RequestError::MalformedJson(error.to_string())),
        }
    }

    /// The value of a string field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// The raw JSON value of a field (forms give strings).
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// Whether the client asked for JSON instead of a redirect: the v4 client's body field
    /// `json` is the string `"true"`, or (Auth.js v5 format) the v5 client sent
    /// `X-Auth-Return-Redirect: 1`.
    pub fn wants_json(&self) -> bool {
        self.return_redirect || self.get("json") == Some("true")
    }

    /// Marks the body as asking for JSON instead of a redirect, as the v5 client's
    /// `X-Auth-Return-Redirect: 1` header does.
    pub(crate) fn with_return_redirect(mut self, on: bool) -> Self {
        self.return_redirect = on;
        self
    }

    /// Every field, for callbacks that want the whole body.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }
}
