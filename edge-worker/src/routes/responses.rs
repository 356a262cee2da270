//! Survey responses: `POST /v1/responses` records an answer sent as JSON (the link's token
//! is the credential), `GET /v1/responses` (secret key) reads the stored rows in pages, and
//! `POST /v1/responses/import` (secret key) brings answers collected elsewhere.
use kpi_core::period::parse_rfc3339;
use kpi_core::{Channel, SurveyKind};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Method, Response};

use crate::answers::{
    self, answer_link, normalize_comment, open_link, store_answer, Answer, Stored,
};
use crate::auth::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, BATCH_LIMIT, BODY_LIMIT};
use crate::paging::{self, Table};
use crate::respondents;
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/v1/responses"),
        endpoints: &[
            Endpoint {
                method: Method::Get,
                handler: Handler::Secret(|c, p| Box::pin(paging::list(c, p, Table::Responses))),
            },
            Endpoint {
                method: Method::Post,
                handler: Handler::Survey(|c| Box::pin(submit(c))),
            },
        ],
        cors: false,
        log: "/v1/responses",
    },
    Route {
        path: Path::Exact("/v1/responses/import"),
        endpoints: &[Endpoint {
            method: Method::Post,
            handler: Handler::Secret(|c, p| Box::pin(import(c, p))),
        }],
        cors: false,
        log: "/v1/responses/import",
    },
];

const MAX_ID_CHARS: usize = 200;
/// Answers per import request: one statement each, in one D1 batch.
const MAX_IMPORT: usize = 300;

#[derive(Deserialize)]
struct JsonAnswer {
    token: String,
    score: IntOnly,
    #[serde(default)]
    comment: Option<String>,
    /// On an open link: the `response_id` of an earlier reply, to change that answer.
    #[serde(default)]
    response_id: Option<String>,
}

/// A JSON value read as an integer, or `None` for any other value (skipped, not kept): the
/// score of a JSON answer is an integer, as the OpenAPI document says (`"9"` is refused;
/// imports, documented to take strings too, use [`parse_score`]).
struct IntOnly(Option<i64>);

impl<'de> Deserialize<'de> for IntOnly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IntOnly;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<IntOnly, E> {
                Ok(IntOnly(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<IntOnly, E> {
                Ok(IntOnly(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<IntOnly, E> {
                Ok(IntOnly(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<IntOnly, E> {
                Ok(IntOnly(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<IntOnly, E> {
                Ok(IntOnly(None))
            }
            fn visit_unit<E>(self) -> Result<IntOnly, E> {
                Ok(IntOnly(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<IntOnly, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IntOnly(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<IntOnly, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IntOnly(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The reply to an answer.
#[derive(serde::Serialize)]
struct Reply<'a> {
    response: Replied<'a>,
}

#[derive(serde::Serialize)]
struct Replied<'a> {
    link_id: &'a str,
    score: i64,
    updated: bool,
    /// An open link's answer: send it back as `response_id` to change this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    response_id: Option<&'a str>,
}

/// A score from JSON: an integer, or a string holding one.
pub fn parse_score(v: &Value) -> ApiResult<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| ApiError::Invalid("`score` must be an integer".into())),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| ApiError::Invalid("`score` must be an integer".into())),
        _ => Err(ApiError::Invalid("`score` must be an integer".into())),
    }
}

/// `POST /v1/responses`: records an answer from JSON; the token is the credential.
async fn submit(c: Call) -> ApiResult<Response> {
    let Call {
        mut req, env, ctx, ..
    } = c;
    let env = &env;
    let body: JsonAnswer = json_body(&mut req, BODY_LIMIT).await?;
    let score = body
        .score
        .0
        .ok_or_else(|| ApiError::Invalid("`score` must be an integer".into()))?;
    let response_id =
        match body.response_id.as_deref() {
            Some(id) => Some(answers::response_id(id).ok_or_else(|| {
                ApiError::Invalid("`response_id` is not one this API gave".into())
            })?),
            None => None,
        };
    let link = open_link(env, &body.token).await?;
    let (answer, tenant) = answer_link(env, link, score, body.comment, response_id).await?;
    let link_id = answer.link_id.clone();
    let score = answer.score;
    let response_id = answer.open.as_ref().map(|o| o.response_id.clone());
    let (stored, written) = store_answer(env, &ctx, answer, &tenant).await?;
    let status = if stored == Stored::Created { 201 } else { 200 };
    let reply = Reply {
        response: Replied {
            link_id: &link_id,
            score,
            updated: stored == Stored::Updated,
            response_id: response_id.as_deref(),
        },
    };
    let mut resp = http::json(status, &reply)?;
    http::set_d1_rows(&mut resp, 0, written)?;
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportItem {
    id: String,
    survey: String,
    #[serde(default)]
    scale: Option<u8>,
    score: Value,
    at: Value,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    respondent: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    responses: Vec<ImportItem>,
}

/// An instant from the API: RFC 3339 with any offset, or integer Unix milliseconds.
pub fn parse_instant(v: &Value) -> ApiResult<i64> {
    let ms = match v {
        Value::String(s) => parse_rfc3339(s)?,
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            ApiError::Invalid("instants must be integer milliseconds or RFC 3339".into())
        })?,
        _ => {
            return Err(ApiError::Invalid(
                "instants must be integer milliseconds or RFC 3339".into(),
            ))
        }
    };
    // 1970-01-01 ..= 9999-12-31.
    if !(0..=253_402_300_799_999).contains(&ms) {
        return Err(ApiError::Invalid("instant out of range".into()));
    }
    Ok(ms)
}

/// `POST /v1/responses/import` (secret key): answers collected elsewhere (a previous survey
/// tool, a paper form), each with its own instant and an id unique per tenant. Re-importing
/// an id updates that answer. All or nothing: one invalid item rejects the request.
async fn import(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
    let body: ImportBody = json_body(&mut req, BATCH_LIMIT).await?;
    if body.responses.is_empty() || body.responses.len() > MAX_IMPORT {
        return Err(ApiError::Invalid(format!("send 1–{MAX_IMPORT} responses")));
    }
    let db = db::open(env)?;
    let tz = p.tenant.tz();
    let ids: Vec<&str> = body
        .responses
        .iter()
        .filter_map(|r| r.respondent.as_deref())
        .collect();
    let references = if ids.is_empty() {
        Default::default()
    } else {
        respondents::references(env, &db, &p.tenant.id, &ids).await?
    };
    let mut stmts = Vec::with_capacity(body.responses.len());
    for (i, item) in body.responses.into_iter().enumerate() {
        let at = |e: ApiError| e.at(&format!("responses[{i}]"));
        if item.id.is_empty() || item.id.chars().count() > MAX_ID_CHARS {
            return Err(at(ApiError::Invalid(
                "`id` must have 1–200 characters".into(),
            )));
        }
        let kind = SurveyKind::parse(&item.survey, item.scale).map_err(|e| at(e.into()))?;
        let lang = item.lang.unwrap_or_else(|| p.tenant.locale.clone());
        let a = Answer {
            tenant: p.tenant.id.clone(),
            link_id: format!("imp:{}", item.id),
            kind,
            score: parse_score(&item.score).map_err(at)?,
            comment: normalize_comment(item.comment).map_err(at)?,
            respondent: item.respondent.and_then(|id| references.get(&id).cloned()),
            ticket: item.ticket,
            channel: Channel::parse(item.channel.as_deref().unwrap_or("other"))
                .map_err(|e| at(e.into()))?,
            lang,
            at_ms: parse_instant(&item.at).map_err(at)?,
            open: None,
        };
        stmts.push(answers::statement(&db, &a, tz).map_err(at)?.0);
    }
    let n = stmts.len();
    db.batch(stmts).await?;
    http::json(200, &json!({"stored": n}))
}
