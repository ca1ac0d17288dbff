//! NextAuth v4's REST API: routing, the per-request context, replies and the built-in pages.

pub(crate) mod pages;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod route;
