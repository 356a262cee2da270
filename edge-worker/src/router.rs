//! The one route table and its dispatch. A [`Route`] knows everything the worker needs about
//! a path: its methods and, for each, who may call it ([`Handler`]), whether a page on
//! another origin may read it (CORS), and the name logs give it. The resource files under
//! `routes/` declare their routes beside their handlers; [`TABLE`] lists the files.
//!
//! Hand-written rather than workers-rs' `Router`: that one answers 405 without `Allow`, which
//! RFC 9110 requires, and cannot check access before a handler runs.
use std::future::Future;
use std::pin::Pin;

use worker::{Context, Env, Method, Request, Response};

use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::http::query_pairs;
use crate::routes;

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
    pairs: Option<Vec<(String, String)>>,
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
    fn matches(&self, path: &str) -> bool {
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

/// Every route, by resource file. A new resource file adds its `ROUTES` here.
pub const TABLE: &[&[Route]] = &[
    routes::health::ROUTES,
    routes::tenants::ROUTES,
    routes::demo::ROUTES,
    routes::keys::ROUTES,
    routes::survey_links::ROUTES,
    routes::survey_page::ROUTES,
    routes::responses::ROUTES,
    routes::tickets::ROUTES,
    routes::events::ROUTES,
    routes::kpis::ROUTES,
    routes::rollups::ROUTES,
    routes::targets::ROUTES,
    routes::settings::ROUTES,
    routes::opening_balances::ROUTES,
    routes::export::ROUTES,
    routes::respondents::ROUTES,
];

/// Every route, in table order.
pub fn routes() -> impl Iterator<Item = &'static Route> {
    TABLE.iter().flat_map(|r| r.iter())
}

/// The route a path belongs to.
pub fn find(path: &str) -> Option<&'static Route> {
    routes().find(|r| r.path.matches(path))
}

/// Runs the request through its route: the method, then the credential, then the handler.
pub async fn dispatch(
    route: Option<&'static Route>,
    req: Request,
    env: Env,
    ctx: Context,
) -> ApiResult<Response> {
    let route = route.ok_or(ApiError::NotFound("No such route."))?;
    let method = req.method();
    // workers-rs turns a method it does not know (QUERY, PROPFIND…) into GET; found by spec
    // fuzzing, which saw `QUERY /v1/kpis` answered as a read. Such methods get a 405.
    let known = req.inner().method() == method.as_ref();
    let endpoint = route.endpoints.iter().find(|e| known && e.method == method);
    let Some(endpoint) = endpoint else {
        if known && route.cors && method == Method::Options {
            return preflight(&req);
        }
        return Err(ApiError::MethodNotAllowed(route.allow()));
    };
    let mut call = Call {
        req,
        env,
        ctx,
        pairs: None,
    };
    match endpoint.handler {
        Handler::Public(h) => h(call).await,
        Handler::Survey(h) => {
            crate::limits::survey_client(&call.env, &call.req).await?;
            h(call).await
        }
        Handler::Admin(h) => {
            auth::require_admin(&call.env, &call.req).await?;
            h(call).await
        }
        Handler::Secret(h) => {
            let pairs = query_pairs(&call.req);
            let p = auth::require_secret(&call.env, &call.req, &pairs).await?;
            call.pairs = Some(pairs);
            h(call, p).await
        }
        Handler::Reader(h) => {
            let pairs = query_pairs(&call.req);
            let (p, _) = auth::require_reader(&call.env, &call.req, &pairs).await?;
            call.pairs = Some(pairs);
            h(call, p).await
        }
    }
}

/// The answer to a CORS preflight of a cross-origin route.
fn preflight(req: &Request) -> ApiResult<Response> {
    let mut resp = Response::empty()?.with_status(204);
    let h = resp.headers_mut();
    if let Ok(Some(origin)) = req.headers().get("origin") {
        h.set("access-control-allow-origin", &origin)?;
    }
    h.set("access-control-allow-methods", "GET, OPTIONS")?;
    h.set("access-control-allow-headers", "authorization")?;
    h.set("access-control-max-age", "600")?;
    h.set("vary", "Origin")?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_routes_match_one_path() {
        let all: Vec<&Route> = routes().collect();
        for (i, a) in all.iter().enumerate() {
            let probe = match a.path {
                Path::Exact(p) => p.to_string(),
                Path::Under(p, _) => format!("{p}x"),
                Path::Around(pre, _, suf) => format!("{pre}x{suf}"),
            };
            for (j, b) in all.iter().enumerate() {
                assert!(
                    i == j || !b.path.matches(&probe),
                    "{probe} matches two routes"
                );
            }
        }
    }

    #[test]
    fn paths_match_one_segment_only() {
        let s = Path::Under("/s/", "token");
        assert!(s.matches("/s/abc") && s.matches("/s/") && !s.matches("/s/a/b"));
        let k = Path::Around("/admin/tenants/", "id", "/keys");
        assert!(k.matches("/admin/tenants/spa/keys") && !k.matches("/admin/tenants//keys"));
        assert_eq!(k.template(), "/admin/tenants/{id}/keys");
    }

    /// Every route and method of the table is in the OpenAPI document with the access the
    /// table gives it, and every operation of the document is in the table: a route added
    /// in one place and not the other fails here.
    #[test]
    fn the_table_and_the_openapi_document_agree() {
        let doc: serde_json::Value =
            serde_json::from_str(routes::health::OPENAPI).expect("the OpenAPI document parses");
        let paths = doc["paths"].as_object().expect("paths");
        let mut in_table = Vec::new();
        for r in routes() {
            let t = r.path.template();
            for e in r.endpoints {
                let m = e.method.as_ref().to_lowercase();
                let op = &paths
                    .get(&t)
                    .unwrap_or_else(|| panic!("{t} is not in OpenAPI"))[&m];
                assert!(
                    op.is_object(),
                    "{} {t} is not in OpenAPI",
                    e.method.as_ref()
                );
                let mut schemes: Vec<&str> = op["security"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_object()?.keys().next().map(String::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                schemes.sort_unstable();
                let mut want = e.handler.schemes().to_vec();
                want.sort_unstable();
                assert_eq!(schemes, want, "{} {t}: access", e.method.as_ref());
                in_table.push((t.clone(), m));
            }
        }
        for (p, ops) in paths {
            for m in ops.as_object().expect("operations").keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&m.as_str()) {
                    assert!(
                        in_table.contains(&(p.clone(), m.clone())),
                        "{m} {p} is in OpenAPI, not in the route table"
                    );
                }
            }
        }
    }
}
