// `pages` are paths on the app or absolute URLs outside the auth API; `theme` colours are hex
// colours, its scheme one of three; unknown names get a "did you mean". All reported at once.
use auth_runtime::next_auth;

next_auth! {
    providers: [Anonymous {}],
    pages: {
        sign_in: "login",
        signout: "/bye",
        error: "//evil.example/oops",
        verify_request: "/api/auth/verify-request",
        new_user: 42,
    },
    theme: {
        color_scheme: "darkk",
        brand_color: "teal",
        logo: "javascript:alert(1)",
        buton_text: "#fff",
    },
}

fn main() {}
