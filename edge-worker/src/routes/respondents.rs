//! `DELETE /v1/respondents/{respondent}` (secret key): a person's right to erasure.
use serde_json::json;
use worker::{Method, Response};

use crate::auth::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::respondents;
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Under("/v1/respondents/", "respondent"),
    endpoints: &[Endpoint {
        method: Method::Delete,
        handler: Handler::Secret(|c, p| Box::pin(erase(c, p))),
    }],
    cors: false,
    log: "/v1/respondents/:id",
}];

const MAX_ID_CHARS: usize = 200;

/// `DELETE /v1/respondents/<respondent>` (secret key): anonymises that respondent's
/// responses in place — respondent and comment become NULL — so each row keeps its `contrib`
/// and the rollups keep equalling the rows' sum, now as anonymous counts; forgets the id
/// (`respondents::erase`), so links sent before answer anonymously. Idempotent.
async fn erase(c: Call, p: Principal) -> ApiResult<Response> {
    let env = &c.env;
    let path = c.req.path();
    let raw = path.strip_prefix("/v1/respondents/").unwrap_or("");
    let respondent = http::percent_decode(raw)
        .ok_or_else(|| ApiError::Malformed("the respondent id is not valid UTF-8".into()))?;
    if respondent.is_empty() || respondent.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::Invalid(format!(
            "the respondent id must have 1–{MAX_ID_CHARS} characters"
        )));
    }
    let db = db::open(env)?;
    let erased = respondents::erase(env, &db, &p.tenant.id, &respondent).await?;
    crate::log::event(
        "respondent_erased",
        &[("tenant", &p.tenant.id), ("rows", &erased.to_string())],
    );
    http::json(200, &json!({"erased": erased}))
}
