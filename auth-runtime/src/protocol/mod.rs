//! NextAuth v4's REST API (and Auth.js v5's dialect of it): routing, the per-request context,
//! replies and the built-in pages.

pub(crate) mod flavour;
pub(crate) mod pages;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod route;
