//! What a route is: a [`Route`] knows everything the worker needs about a path — its methods
//! and, for each, who may call it ([`Handler`]), whether a page on another origin may read
//! it (CORS), and the name logs give it. The resource files under `routes/` declare theirs;
//! `router` finds and runs them.
use std::future::Future;
use std::pin::Pin;

use worker::{Context, Env, Method, Request, Response};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::query_pairs;

/// What a handler returns: its response, later.
pub type Reply = Pin<Box<dyn Future<Output = ApiResult<Response>>>>;

/// One request on its way to a handler.
pub struct Call {
    /// The request.
    pub req: Request,
    /// The worker's bindings.
    pub env: Env,
    /// For work after the response (`wait_until`).
    pub ctx: Context,
    /// The query's pairs, when the router already decoded them.
    pub pairs: Option<Vec<(String, String)>>,
}

impl Call {
    /// The query's pairs, decoded once: the router reads them to find a key.
    pub fn query(&mut self) -> Vec<(String, String)> {
        match self.pairs.take() {
            Some(p) => p,
            None => query_pairs(&self.req),
        }
    }
}

/// A handler, by who may call it. The router checks the credential before the handler runs
/// and hands it the tenant the key names.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Anyone.
    Public(fn(Call) -> Reply),
    /// A survey token in the request is the credential: the client address is limited first.
    Survey(fn(Call) -> Reply),
    /// The operator's `ADMIN_TOKEN`.
    Admin(fn(Call) -> Reply),
    /// The tenant's secret key.
    Secret(fn(Call, Principal) -> Reply),
    /// A key of the tenant: the secret one, or the publishable one from an allowed origin.
    Reader(fn(Call, Principal) -> Reply),
}

impl Handler {
    /// The OpenAPI security schemes that describe this access (none: public or a token in
    /// the request), as the route table's test checks against the document.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn schemes(&self) -> &'static [&'static str] {
        match self {
            Handler::Public(_) | Handler::Survey(_) => &[],
            Handler::Admin(_) => &["adminToken"],
            Handler::Secret(_) => &["secretKey"],
            Handler::Reader(_) => &["secretKey", "publishableKey", "publishableKeyQuery"],
        }
    }
}

/// A method of a route and its handler.
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// Who may call it, and what runs.
    pub handler: Handler,
}

/// How a route matches a path.
pub enum Path {
    /// Exactly this path.
    Exact(&'static str),
    /// This prefix and a segment named as OpenAPI names it (`/s/{token}`), maybe empty (the
    /// handler says why an empty one is wrong).
    #[cfg_attr(not(test), allow(dead_code))]
    Under(&'static str, &'static str),
    /// This prefix, a named segment, this suffix (`/admin/tenants/{id}/keys`).
    #[cfg_attr(not(test), allow(dead_code))]
    Around(&'static str, &'static str, &'static str),
}

impl Path {
    /// Whether `path` is this route's.
    pub fn matches(&self, path: &str) -> bool {
        let one_segment = |s: &str| !s.is_empty() && !s.contains('/');
        match self {
            Path::Exact(p) => path == *p,
            Path::Under(p, _) => path.strip_prefix(p).is_some_and(|r| !r.contains('/')),
            Path::Around(pre, _, suf) => path
                .strip_prefix(pre)
                .and_then(|r| r.strip_suffix(suf))
                .is_some_and(one_segment),
        }
    }

    /// The path as OpenAPI writes it, `{…}` for the variable segment.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn template(&self) -> String {
        match self {
            Path::Exact(p) => (*p).to_string(),
            Path::Under(p, name) => format!("{p}{{{name}}}"),
            Path::Around(pre, name, suf) => format!("{pre}{{{name}}}{suf}"),
        }
    }
}

/// A route: a path, its methods, CORS, and its name in logs (never a token or an id).
pub struct Route {
    /// The path it answers.
    pub path: Path,
    /// Its methods, in the order `Allow` lists them.
    pub endpoints: &'static [Endpoint],
    /// A page on another origin may read it (the widget's routes): answers `OPTIONS`.
    pub cors: bool,
    /// The path as logs show it.
    pub log: &'static str,
}

impl Route {
    /// The `Allow` header of this route.
    pub fn allow(&self) -> String {
        let mut out: Vec<&str> = self.endpoints.iter().map(|e| e.method.as_ref()).collect();
        if self.cors {
            out.push("OPTIONS");
        }
        out.join(", ")
    }
}
