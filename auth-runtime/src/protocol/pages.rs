//! The built-in HTML pages: sign in, sign out, error, verify request. Minimal, escaped, no scripts.

use std::fmt::Write as _;

use crate::definition::{ProviderInfo, ThemeSettings};

pub(crate) use crate::html::escape;

/// The look of every built-in page: a centred card, the app's logo and brand colour, light or
/// dark with the visitor's system (or as the theme says).
fn page(title: &str, content: &str, theme: &ThemeSettings) -> String {
    let brand = theme.brand_color.unwrap_or("#346df1");
    let button_text = theme.button_text.unwrap_or("#fff");
    let scheme = match theme.color_scheme.unwrap_or("auto") {
        "light" => "light",
        "dark" => "dark",
        _ => "light dark",
    };
    let logo = theme
        .logo
        .map(|src| format!("<img class=\"logo\" src=\"{}\" alt=\"\">", escape(src)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"{scheme}\"><title>{title}</title><style>\
         :root{{color-scheme:{scheme};--brand:{brand};--on-brand:{button_text};\
         --bg:light-dark(#f3f4f6,#111827);--card:light-dark(#fff,#1f2937);\
         --text:light-dark(#111827,#f3f4f6);--muted:light-dark(#6b7280,#9ca3af);\
         --line:light-dark(#e5e7eb,#374151)}}\
         *{{box-sizing:border-box}}\
         body{{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;\
         justify-content:center;background:var(--bg);color:var(--text);\
         font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;padding:2rem 1rem}}\
         .logo{{max-width:150px;max-height:70px;margin-bottom:1.5rem}}\
         .card{{width:100%;max-width:22rem;background:var(--card);border-radius:.75rem;\
         padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)}}\
         h1{{font-size:1.25rem;margin:0 0 1.25rem;text-align:center}}\
         p{{color:var(--muted);text-align:center}}\
         form{{margin:0}}form+form{{margin-top:1.25rem;padding-top:1.25rem;border-top:1px solid var(--line)}}\
         label{{display:block;font-size:.875rem;font-weight:500;margin-bottom:.75rem}}\
         input{{display:block;width:100%;margin-top:.25rem;padding:.6rem .75rem;font:inherit;\
         color:inherit;background:transparent;border:1px solid var(--line);border-radius:.375rem}}\
         input:focus{{outline:2px solid var(--brand);outline-offset:1px}}\
         button{{display:block;width:100%;padding:.65rem 1rem;font:inherit;font-weight:600;\
         color:var(--on-brand);background:var(--brand);border:0;border-radius:.375rem;cursor:pointer}}\
         button:hover{{filter:brightness(1.1)}}\
         a{{color:var(--brand)}}\
         .error{{color:#b91c1c;background:light-dark(#fef2f2,#450a0a);border-radius:.375rem;\
         padding:.6rem .75rem;text-align:center}}\
         </style></head><body>{logo}<main class=\"card\">{content}</main></body></html>",
        title = escape(title),
        brand = escape(brand),
        button_text = escape(button_text),
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
        "RateLimited" => "Too many attempts from your network. Try again in a few minutes.",
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
    theme: &ThemeSettings,
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
        let Some(action) = provider.kind.form_action() else {
            continue;
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
        if provider.kind == crate::definition::ProviderKind::Email {
            content.push_str(
                "<label>Email<input name=\"email\" type=\"email\" \
                 placeholder=\"email@example.com\" required></label>",
            );
        }
        let _ = write!(
            content,
            "<button type=\"submit\">Sign in with {}</button></form>",
            escape(provider.name)
        );
    }
    page("Sign In", &content, theme)
}

/// `GET {base}/signout`: a confirmation form.
pub(crate) fn signout(
    base: &str,
    csrf_token: &str,
    callback_url: &str,
    theme: &ThemeSettings,
) -> String {
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
        theme,
    )
}

/// `GET {base}/error`: a message for codes the sign-in page does not handle.
pub(crate) fn error(code: &str, home: &str, signin: &str, theme: &ThemeSettings) -> String {
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
        theme,
    )
}

/// `GET {base}/verify-request`.
pub(crate) fn verify_request(home: &str, theme: &ThemeSettings) -> String {
    page(
        "Check your email",
        &format!(
            "<h1>Check your email</h1><p>A sign in link has been sent to your email address.</p><p><a href=\"{}\">Home</a></p>",
            escape(home)
        ),
        theme,
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
            &ThemeSettings {
                brand_color: Some("#0a0\"><script>"),
                ..ThemeSettings::default()
            },
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("Sign in failed"));
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
