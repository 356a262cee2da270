//! Survey links and answers: minting signed links, recording answers (one row per link,
//! the latest answer wins), importing past answers, and revoking every link a tenant has
//! sent. The HTML page lives in `page`; respondent references in `respondents`.
use kpi_core::fact::links_issued;
use kpi_core::period::{format_rfc3339, parse_rfc3339, CivilDate};
use kpi_core::{Channel, SurveyKind, SurveyResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use worker::{Context, Env, Request, Response};

use crate::auth;
use crate::db::{self, cells};
use crate::error::{ApiError, ApiResult};
use crate::http::{
    self, b64url, json_body, now_ms, query_pairs, random_bytes, BATCH_LIMIT, BODY_LIMIT,
};
use crate::respondents;
use crate::tenants::{self, TenantConfig};
use crate::token::{self, LinkClaims};
use crate::webhooks;

const DEFAULT_EXPIRY_S: i64 = 30 * 24 * 3600;
const MAX_EXPIRY_S: i64 = 400 * 24 * 3600;
const MAX_COMMENT_CHARS: usize = 4000;
const MAX_ID_CHARS: usize = 200;
/// Answers per import request: one statement each, in one D1 batch.
const MAX_IMPORT: usize = 300;

/// The link-signing master secret.
pub fn signing_secret(env: &Env) -> ApiResult<Vec<u8>> {
    http::master_secret(env, "LINK_SIGNING_SECRET")
}

/// The public base URL links point at: `PUBLIC_URL` if set, else the request's origin.
fn public_base(env: &Env, req: &Request) -> ApiResult<String> {
    if let Ok(v) = env.var("PUBLIC_URL") {
        let v = v.to_string();
        if !v.is_empty() {
            return Ok(v.trim_end_matches('/').to_string());
        }
    }
    let url = req.url()?;
    Ok(url.origin().ascii_serialization())
}

fn check_opt_id(v: &Option<String>, what: &str) -> ApiResult<()> {
    match v {
        Some(s) if s.is_empty() || s.chars().count() > MAX_ID_CHARS => Err(ApiError::Invalid(
            format!("`{what}` must have 1–{MAX_ID_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    survey: String,
    #[serde(default)]
    scale: Option<u8>,
    #[serde(default)]
    respondent: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    count: Option<u32>,
}

/// `POST /v1/survey-links`: mints `count` signed links (secret key).
pub async fn mint(mut req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let body: MintRequest = json_body(&mut req, BODY_LIMIT).await?;
    let kind = SurveyKind::parse(&body.survey, body.scale)?;
    let channel = Channel::parse(body.channel.as_deref().unwrap_or("other"))?;
    let lang = body.lang.unwrap_or_else(|| p.tenant.locale.clone());
    if lang != "vi" && lang != "en" {
        return Err(ApiError::Invalid("`lang` must be `vi` or `en`".into()));
    }
    check_opt_id(&body.respondent, "respondent")?;
    check_opt_id(&body.ticket, "ticket")?;
    let expires_in = body.expires_in.unwrap_or(DEFAULT_EXPIRY_S);
    if !(60..=MAX_EXPIRY_S).contains(&expires_in) {
        return Err(ApiError::Invalid(format!(
            "`expires_in` must be 60–{MAX_EXPIRY_S} seconds"
        )));
    }
    let count = body.count.unwrap_or(1);
    if !(1..=1000).contains(&count) {
        return Err(ApiError::Invalid("`count` must be 1–1000".into()));
    }
    let master = signing_secret(env)?;
    let base = public_base(env, &req)?;
    let now = now_ms();
    let exp = now / 1000 + expires_in;
    let (min, max) = kind.range();
    let db = crate::db::open(env)?;
    // The link names the respondent by reference only: whoever holds a link can read it.
    let respondent = match body.respondent.as_deref() {
        Some(id) => respondents::references(env, &db, &p.tenant.id, &[id])
            .await?
            .remove(id),
        None => None,
    };
    let generation = u32::try_from(p.tenant.link_gen).unwrap_or(u32::MAX);
    let mut links = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let claims = LinkClaims {
            v: 1,
            t: p.tenant.id.clone(),
            k: kind.name().into(),
            s: kind.scale(),
            l: b64url(&random_bytes::<12>()?),
            r: None,
            p: respondent.clone(),
            x: body.ticket.clone(),
            c: channel.as_str().into(),
            g: lang.clone(),
            e: exp,
            n: generation,
        };
        let tok = token::sign(&master, &claims)?;
        let url = format!("{base}/s/{tok}");
        let score_urls: serde_json::Map<String, Value> = (min..=max)
            .map(|s| (s.to_string(), Value::from(format!("{url}?score={s}"))))
            .collect();
        links.push(json!({"url": url, "token": tok, "link_id": claims.l,
            "expires_at": format_rfc3339(exp * 1000), "score_urls": score_urls}));
    }
    // Links issued count towards the response rate, on the day they are minted.
    let day = CivilDate::of_instant(now, p.tenant.tz())?.to_string();
    let db = crate::db::open(env)?;
    cells::add(
        &db,
        &p.tenant.id,
        &day,
        &links_issued(kind, channel, count as i64),
    )?
    .run()
    .await?;
    http::json(201, &json!({"links": links}))
}

/// An answer ready to store: validated against the link's scale.
pub struct Answer {
    /// Tenant id.
    pub tenant: String,
    /// Row key: the link id (or `imp:<id>` for imports).
    pub link_id: String,
    /// Kind and scale.
    pub kind: SurveyKind,
    /// Score on the scale.
    pub score: i64,
    /// Optional free text, stored verbatim.
    pub comment: Option<String>,
    /// Opaque respondent reference (`respondents`), never the CRM id.
    pub respondent: Option<String>,
    /// Ticket id.
    pub ticket: Option<String>,
    /// Channel.
    pub channel: Channel,
    /// Page language.
    pub lang: String,
    /// When it was answered (Unix ms): decides the day of a first answer.
    pub at_ms: i64,
}

/// Whether a store created a response or updated an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The first answer to this link.
    Created,
    /// A later answer replaced the earlier one.
    Updated,
}

fn normalize_comment(c: Option<String>) -> ApiResult<Option<String>> {
    let c = c.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(c) = &c {
        if c.chars().count() > MAX_COMMENT_CHARS {
            return Err(ApiError::Invalid(format!(
                "comments are limited to {MAX_COMMENT_CHARS} characters"
            )));
        }
    }
    Ok(c)
}

fn js_opt(v: &Option<String>) -> JsValue {
    v.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// The statement that stores one answer: an upsert of the link's row (a re-answer keeps its
/// first day and counts itself in `answers`). The row's triggers move the rollup counters in
/// the same statement (migration 0005), so concurrent answers to one link can never count
/// twice; the respondent's reference is stored only while it still names someone (an
/// erased respondent's old link answers anonymously). Returns the validated fact with it.
fn answer_statement(
    db: &worker::D1Database,
    a: &Answer,
    tz: kpi_core::period::TimeZone,
) -> ApiResult<(worker::D1PreparedStatement, SurveyResponse)> {
    let fact = SurveyResponse::new(a.kind, a.score, a.channel, a.comment.is_some())?;
    let contrib = kpi_core::rollup::contrib_json(&fact.contributions());
    let day = CivilDate::of_instant(a.at_ms, tz)?.to_string();
    let upsert = db
        .prepare(
            "INSERT INTO responses (tenant_id, link_id, survey, scale, score, comment, respondent, \
             ticket, channel, lang, day, answered_at, updated_at, contrib) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             (SELECT ?7 WHERE EXISTS (SELECT 1 FROM respondents WHERE tenant_id = ?1 AND ref = ?7)), \
             ?8, ?9, ?10, ?11, ?12, ?12, ?13) \
             ON CONFLICT (tenant_id, link_id) DO UPDATE SET score = excluded.score, \
             comment = excluded.comment, updated_at = excluded.updated_at, \
             contrib = excluded.contrib, answers = answers + 1 \
             RETURNING answers",
        )
        .bind(&[
            JsValue::from_str(&a.tenant),
            JsValue::from_str(&a.link_id),
            JsValue::from_str(a.kind.name()),
            JsValue::from_f64(a.kind.scale() as f64),
            JsValue::from_f64(fact.score() as f64),
            js_opt(&a.comment),
            js_opt(&a.respondent),
            js_opt(&a.ticket),
            JsValue::from_str(a.channel.as_str()),
            JsValue::from_str(&a.lang),
            JsValue::from_str(&day),
            JsValue::from_f64(a.at_ms as f64),
            JsValue::from_str(&contrib),
        ])?;
    Ok((upsert, fact))
}

#[derive(Deserialize)]
struct Answers {
    answers: f64,
}

/// Stores one answer atomically; an alert for the tenant's webhook joins the same batch and
/// is delivered once the response has gone out. Returns the D1 rows it wrote with it.
pub async fn store_answer(
    env: &Env,
    ctx: &Context,
    a: Answer,
    tenant: &TenantConfig,
) -> ApiResult<(Stored, u64)> {
    let db = crate::db::open(env)?;
    let (upsert, fact) = answer_statement(&db, &a, tenant.tz())?;
    let reference = a.respondent.as_deref();
    // The alert names the respondent by the tenant's own id (read only when it will be sent).
    let message = match fact.alert() {
        Some(alert) if tenant.webhook_url.is_some() => {
            let id = match reference {
                Some(r) => respondents::resolve(&db, &a.tenant, r).await?,
                None => None,
            };
            webhooks::message(tenant, &a, id.as_deref(), alert)?
        }
        _ => None,
    };
    // The outbox row belongs in the answer's own transaction, and goes again if the
    // respondent was erased between the lookup and the batch.
    let (results, message) = match message {
        Some(m) => {
            let mut stmts = vec![upsert, webhooks::outbox_statement(&db, &m)?];
            if let Some(r) = reference {
                stmts.push(respondents::drop_alert_if_erased(&db, &m.id, &a.tenant, r)?);
            }
            let results = db.batch(stmts).await?;
            let dropped = reference.is_some() && db::changes(&results, 2) > 0;
            (results, (!dropped).then_some(m))
        }
        None => (vec![upsert.all().await?], None),
    };
    let answers = results
        .first()
        .map(|r| r.results::<Answers>())
        .transpose()?
        .and_then(|v| v.first().map(|a| a.answers));
    let written = results
        .iter()
        .filter_map(|r| r.meta().ok().flatten().and_then(|m| m.rows_written))
        .sum::<usize>() as u64;
    if let Some(m) = message {
        ctx.wait_until(webhooks::deliver_now(env.clone(), m));
    }
    let stored = if answers.unwrap_or(1.0) > 1.0 {
        Stored::Updated
    } else {
        Stored::Created
    };
    Ok((stored, written))
}

/// A link that may be answered: signature and expiry verified, and minted under the tenant's
/// current link generation (the tenant's configuration is read here anyway).
pub struct Link {
    /// What the token says.
    pub claims: LinkClaims,
    /// The survey it asks.
    pub kind: SurveyKind,
    /// The tenant it belongs to.
    pub tenant: TenantConfig,
}

/// Verifies a token: forged → 401, expired → 410, revoked by the tenant → 410.
pub async fn open_link(env: &Env, token: &str) -> ApiResult<Link> {
    let claims = token::verify(&signing_secret(env)?, token, now_ms() / 1000)?;
    let kind = SurveyKind::parse(&claims.k, Some(claims.s)).map_err(|_| ApiError::BadToken)?;
    let tenant = tenants::config(env, &claims.t).await?;
    if i64::from(claims.n) < tenant.link_gen {
        return Err(ApiError::Revoked);
    }
    Ok(Link {
        claims,
        kind,
        tenant,
    })
}

/// Turns an open link with a score and comment into an [`Answer`].
pub async fn answer_link(
    env: &Env,
    link: Link,
    score: i64,
    comment: Option<String>,
) -> ApiResult<(Answer, TenantConfig)> {
    let Link {
        claims,
        kind,
        tenant,
    } = link;
    crate::limits::survey_link(env, &claims.l).await?;
    kind.check_score(score)?;
    let comment = normalize_comment(comment)?;
    let respondent = match (claims.p, claims.r) {
        (Some(reference), _) => Some(reference),
        (None, Some(id)) => respondents::legacy(env, &crate::db::open(env)?, &claims.t, &id).await?,
        (None, None) => None,
    };
    let answer = Answer {
        tenant: claims.t,
        link_id: claims.l,
        kind,
        score,
        comment,
        respondent,
        ticket: claims.x,
        channel: Channel::parse(&claims.c).unwrap_or(Channel::Other),
        lang: claims.g,
        at_ms: now_ms(),
    };
    Ok((answer, tenant))
}

#[derive(Deserialize)]
struct JsonAnswer {
    token: String,
    score: IntOnly,
    #[serde(default)]
    comment: Option<String>,
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
pub async fn submit_json(mut req: Request, env: &Env, ctx: &Context) -> ApiResult<Response> {
    let body: JsonAnswer = json_body(&mut req, BODY_LIMIT).await?;
    let score = body
        .score
        .0
        .ok_or_else(|| ApiError::Invalid("`score` must be an integer".into()))?;
    let link = open_link(env, &body.token).await?;
    let (answer, tenant) = answer_link(env, link, score, body.comment).await?;
    let link_id = answer.link_id.clone();
    let score = answer.score;
    let (stored, written) = store_answer(env, ctx, answer, &tenant).await?;
    let status = if stored == Stored::Created { 201 } else { 200 };
    let reply = Reply {
        response: Replied {
            link_id: &link_id,
            score,
            updated: stored == Stored::Updated,
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
pub async fn import(mut req: Request, env: &Env) -> ApiResult<Response> {
    let pairs = query_pairs(&req);
    let p = auth::require_secret(env, &req, &pairs).await?;
    let body: ImportBody = json_body(&mut req, BATCH_LIMIT).await?;
    if body.responses.is_empty() || body.responses.len() > MAX_IMPORT {
        return Err(ApiError::Invalid(format!("send 1–{MAX_IMPORT} responses")));
    }
    let db = crate::db::open(env)?;
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
        let at = |e: ApiError| match e {
            ApiError::Invalid(m) => ApiError::Invalid(format!("responses[{i}]: {m}")),
            e => e,
        };
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
        };
        stmts.push(answer_statement(&db, &a, tz).map_err(at)?.0);
    }
    let n = stmts.len();
    db.batch(stmts).await?;
    http::json(200, &json!({"stored": n}))
}

/// `POST /v1/survey-links/revoke` (secret key): voids every link the tenant has minted so
/// far — for a key that leaked, or a batch of links sent to the wrong list — by bumping its
/// link generation; answers already stored stay. Links minted from now on work.
pub async fn revoke_links(req: Request, env: &Env) -> ApiResult<Response> {
    #[derive(Deserialize)]
    struct Generation {
        link_gen: f64,
    }
    let p = auth::require_secret(env, &req, &query_pairs(&req)).await?;
    let row: Option<Generation> = crate::db::open(env)?
        .prepare("UPDATE tenants SET link_gen = link_gen + 1 WHERE id = ?1 RETURNING link_gen")
        .bind(&[JsValue::from_str(&p.tenant.id)])?
        .first(None)
        .await?;
    let generation = row
        .map(|r| r.link_gen as i64)
        .ok_or(ApiError::NotFound("No such tenant."))?;
    tenants::invalidate(env, &p.tenant.id).await?;
    crate::log::event("links_revoked", &[("tenant", &p.tenant.id)]);
    http::json(
        200,
        &json!({"link_generation": generation, "revoked_at": format_rfc3339(now_ms())}),
    )
}
