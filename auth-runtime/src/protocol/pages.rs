//! The built-in HTML pages: sign in, sign out, error, verify request. Minimal, escaped, no scripts.

use std::fmt::Write as _;

use crate::definition::ProviderInfo;

/// Escapes text for HTML bodies and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}\
         form{{margin:1rem 0;padding:1rem;border:1px solid #ccc;border-radius:.5rem}}label{{display:block;margin:.5rem 0}}\
         input{{display:block;width:100%;box-sizing:border-box;padding:.4rem}}button{{margin-top:.5rem;padding:.5rem 1rem}}\
         .error{{color:#b00020}}</style></head><body>{content}</body></html>",
        escape(title)
    )
}

/// The message the sign-in page shows for an `error` code.
fn signin_error_message(code: &str) -> &'static str {
    match code {
        "CredentialsSignin" => "Sign in failed. Check the details you provided are correct.",
        "SessionRequired" => "Please sign in to access this page.",
        "OAuthAccountNotLinked" => {
            "To confirm your identity, sign in with the same account you used originally."
        }
        "OAuthSignin" | "OAuthCallback" | "OAuthCreateAccount" | "EmailCreateAccount"
        | "Callback" => "Try signing in with a different account.",
        "EmailSignin" => "The e-mail could not be sent.",
        "RateLimited" => "Too many guest sessions were started from your network. Try again later.",
        "GuestStoreUnavailable" => "Sign-in is unavailable right now. Try again in a moment.",
        "UpgradeFailed" => {
            "Your guest data could not be moved to your account; nothing was changed. Try again."
        }
        _ => "Unable to sign in.",
    }
}

/// `GET {base}/signin`: one form per provider, posting to its callback with the CSRF token.
pub(crate) fn signin(
    base: &str,
    providers: &[ProviderInfo],
    csrf_token: &str,
    callback_url: &str,
    error: Option<&str>,
) -> String {
    let mut content = String::from("<h1>Sign in</h1>");
    if let Some(code) = error {
        let _ = write!(
            content,
            "<p class=\"error\">{}</p>",
            escape(signin_error_message(code))
        );
    }
    for provider in providers {
        // Credentials post their fields to the callback; OAuth providers start at signin/:id.
        let action = match provider.kind {
            crate::definition::ProviderKind::Credentials
            | crate::definition::ProviderKind::Anonymous => "callback",
            crate::definition::ProviderKind::OAuth => "signin",
        };
        let _ = write!(
            content,
            "<form method=\"post\" action=\"{}/{action}/{}\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"{}\">\
             <input type=\"hidden\" name=\"callbackUrl\" value=\"{}\">",
            escape(base),
            escape(provider.id),
            escape(csrf_token),
            escape(callback_url)
        );
        for field in provider.credentials {
            let placeholder = field
                .placeholder
                .map(|text| format!(" placeholder=\"{}\"", escape(text)))
                .unwrap_or_default();
            let _ = write!(
                content,
                "<label>{}<input name=\"{}\" type=\"{}\"{placeholder}></label>",
                escape(field.label),
                escape(field.name),
                escape(field.input_type)
            );
        }
        let _ = write!(
            content,
            "<button type=\"submit\">Sign in with {}</button></form>",
            escape(provider.name)
        );
    }
    page("Sign In", &content)
}

/// `GET {base}/signout`: a confirmation form.
pub(crate) fn signout(base: &str, csrf_token: &str, callback_url: &str) -> String {
    page(
        "Sign Out",
        &format!(
            "<h1>Sign out</h1><p>Are you sure you want to sign out?</p>\
             <form method=\"post\" action=\"{}/signout\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"{}\">\
             <input type=\"hidden\" name=\"callbackUrl\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(base),
            escape(csrf_token),
            escape(callback_url)
        ),
    )
}

/// `GET {base}/error`: a message for codes the sign-in page does not handle.
pub(crate) fn error(code: &str, home: &str, signin: &str) -> String {
    let (heading, message) = match code.to_ascii_lowercase().as_str() {
        "configuration" => (
            "Server error",
            "There is a problem with the server configuration.",
        ),
        "accessdenied" => ("Access Denied", "You do not have permission to sign in."),
        "verification" => ("Unable to sign in", "The sign in link is no longer valid."),
        _ => ("Error", "Something went wrong while signing in."),
    };
    page(
        heading,
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"{}\">Sign in</a> · <a href=\"{}\">Home</a></p>",
            escape(heading),
            escape(message),
            escape(signin),
            escape(home)
        ),
    )
}

/// `GET {base}/verify-request`.
pub(crate) fn verify_request(home: &str) -> String {
    page(
        "Check your email",
        &format!(
            "<h1>Check your email</h1><p>A sign in link has been sent to your email address.</p><p><a href=\"{}\">Home</a></p>",
            escape(home)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_it_embeds() {
        let html = signin(
            "/b",
            &[],
            "t\"><script>",
            "http://h/?a=<b>",
            Some("CredentialsSignin"),
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("Sign in failed"));
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
