//! `GET /healthz` and `GET /openapi.json`: what a monitor and a client generator read. The
//! OpenAPI document is a static asset (`cargo xtask build-worker` puts it beside the widget's
//! files), read through the `ASSETS` binding: 66 KB that the worker's wasm no longer carries.
use worker::{Method, Response};

use crate::error::ApiResult;
use crate::http;
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/healthz"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Public(|_: Call| Box::pin(async { health() })),
        }],
        cors: false,
        log: "/healthz",
    },
    Route {
        path: Path::Exact("/openapi.json"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Public(|c| Box::pin(openapi(c))),
        }],
        cors: false,
        log: "/openapi.json",
    },
];

fn health() -> ApiResult<Response> {
    let mut o = kpi_core::json::Out::new();
    o.open();
    o.key("ok");
    o.bool(true);
    o.key("version");
    o.str(env!("CARGO_PKG_VERSION"));
    // Linear memory of this isolate's wasm instance: `cargo xtask bench` watches it stay
    // flat under load (pages of 64 KiB; it never shrinks).
    o.key("wasm_memory_bytes");
    o.int(wasm_memory_bytes() as u64);
    o.close();
    http::json_text(200, o.finish())
}

/// The wasm linear memory of this instance, in bytes (0 when not built for wasm).
fn wasm_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    pages * 65536
}

/// The document from the static assets (`[assets]` in wrangler.toml routes its path to the
/// worker first, so that other methods get a 405 with `Allow`).
async fn openapi(c: Call) -> ApiResult<Response> {
    let mut asset = c.env.assets("ASSETS")?.fetch_request(c.req).await?;
    if asset.status_code() != 200 {
        return Err(crate::error::ApiError::NotFound(
            "The OpenAPI document is missing from the assets: build with `cargo xtask build-worker`.",
        ));
    }
    let mut resp = Response::from_bytes(asset.bytes().await?)?;
    resp.headers_mut().set("content-type", "application/json")?;
    resp.headers_mut()
        .set("cache-control", "public, max-age=300")?;
    Ok(resp)
}
