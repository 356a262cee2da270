//! The one route table and its dispatch. Each resource file under `routes/` declares its
//! [`Route`]s beside its handlers; [`TABLE`] lists the files. The router finds the route of
//! a path, checks the method and the credential the route asks for, and runs the handler.
//!
//! Hand-written rather than workers-rs' `Router`: that one answers 405 without `Allow`, which
//! RFC 9110 requires, and cannot check access before a handler runs.
use worker::{Context, Env, Method, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::query_pairs;
use crate::route::{Call, Handler, Route};
use crate::routes;

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
    use crate::route::Path;

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
        let doc: serde_json::Value = serde_json::from_str(include_str!("../api/openapi.json"))
            .expect("the OpenAPI document parses");
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
