//! `POST /v1/survey-links` (secret key) mints signed survey links — for one person, or open
//! (`"open": true`: one link many walk-in customers answer, up to a cap); `GET
//! /v1/survey-links/qr.svg` draws a link as a QR code; `POST /v1/survey-links/revoke` voids
//! every link the tenant has minted so far. A link carries what its answer needs
//! (`token::LinkClaims`), so answering reads no configuration but the tenant's (cached).
use std::fmt::Write as _;

use kpi_core::fact::links_issued;
use kpi_core::json::Out;
use kpi_core::period::{format_rfc3339, CivilDate};
use kpi_core::{Channel, SurveyKind};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Method, Request, Response};

use crate::answers;
use crate::auth::{self, Principal};
use crate::db::{self, cells};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, json_body, now_ms, BODY_LIMIT};
use crate::respondents;
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::secrets;
use crate::token::{self, LinkClaims};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/v1/survey-links"),
        endpoints: &[Endpoint {
            method: Method::Post,
            handler: Handler::Secret(|c, p| Box::pin(mint(c, p))),
        }],
        cors: false,
        log: "/v1/survey-links",
    },
    Route {
        path: Path::Exact("/v1/survey-links/qr.svg"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Secret(|c, p| Box::pin(qr_svg(c, p))),
        }],
        cors: false,
        log: "/v1/survey-links/qr.svg",
    },
    Route {
        path: Path::Exact("/v1/survey-links/revoke"),
        endpoints: &[Endpoint {
            method: Method::Post,
            handler: Handler::Secret(|c, p| Box::pin(revoke(c, p))),
        }],
        cors: false,
        log: "/v1/survey-links/revoke",
    },
];

const DEFAULT_EXPIRY_S: i64 = 30 * 24 * 3600;
const MAX_EXPIRY_S: i64 = 400 * 24 * 3600;
const MAX_ID_CHARS: usize = 200;
/// Answers an open link takes by default, and at most.
const DEFAULT_OPEN_CAP: u32 = 1000;
const MAX_OPEN_CAP: u32 = 100_000;

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
    #[serde(default)]
    open: Option<bool>,
    #[serde(default)]
    max_responses: Option<u32>,
}

/// Random bytes of a link's id (16 characters of URL-safe base64).
const LINK_ID_BYTES: usize = 12;

/// `POST /v1/survey-links`: mints `count` signed links (secret key).
async fn mint(c: Call, p: Principal) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
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
    let open = match (body.open.unwrap_or(false), body.max_responses) {
        (false, None) => None,
        (false, Some(_)) => {
            return Err(ApiError::Invalid(
                "`max_responses` is for open links (`\"open\": true`)".into(),
            ))
        }
        (true, cap) => {
            let cap = cap.unwrap_or(DEFAULT_OPEN_CAP);
            if !(1..=MAX_OPEN_CAP).contains(&cap) {
                return Err(ApiError::Invalid(format!(
                    "`max_responses` must be 1–{MAX_OPEN_CAP}"
                )));
            }
            // Many people answer an open link: it names no one and no ticket.
            if body.respondent.is_some() || body.ticket.is_some() {
                return Err(ApiError::Invalid(
                    "an open link names no `respondent` and no `ticket`".into(),
                ));
            }
            Some(cap)
        }
    };
    let master = secrets::link_master(env)?;
    let base = public_base(env, &req)?;
    let now = now_ms();
    let exp = now / 1000 + expires_in;
    let (min, max) = kind.range();
    let db = db::open(env)?;
    // The link names the respondent by reference only: whoever holds a link can read it.
    let respondent = match body.respondent.as_deref() {
        Some(id) => respondents::references(env, &db, &p.tenant.id, &[id])
            .await?
            .remove(id),
        None => None,
    };
    let generation = u32::try_from(p.tenant.link_gen).unwrap_or(u32::MAX);
    let mut links = Vec::with_capacity(count as usize);
    // Every link's id drawn in one fill: ~140 calls into JavaScript for 1000 links, where a
    // draw a link made 3 000.
    let mut ids = vec![0u8; LINK_ID_BYTES * count as usize];
    http::fill_random(&mut ids)?;
    for id in ids.chunks_exact(LINK_ID_BYTES) {
        let claims = LinkClaims {
            version: 1,
            tenant: p.tenant.id.clone(),
            survey: kind.name().into(),
            scale: kind.scale(),
            link: b64url(id),
            legacy_respondent: None,
            respondent: respondent.clone(),
            ticket: body.ticket.clone(),
            channel: channel.as_str().into(),
            lang: lang.clone(),
            expires: exp,
            generation,
            open,
        };
        links.push(Minted {
            token: token::sign(&master, &claims)?,
            link_id: claims.link,
        });
    }
    // Links issued count towards the response rate, on the day they are minted. An open
    // link is not sent to anyone: it has no rate, and its answers are counted apart.
    if open.is_none() {
        let day = CivilDate::of_instant(now, p.tenant.tz())?.to_string();
        let issued = cells::add(
            &db,
            &p.tenant.id,
            &day,
            &links_issued(kind, channel, count as i64),
        )?;
        db::batch(&db, vec![issued]).await?;
    }
    let scores = score_order(min, max);
    let reply = mint_reply(&links, &base, &format_rfc3339(exp * 1000), open, &scores);
    http::json_text(201, reply)
}

/// One minted link; its URLs are the reply's base and its token ([`mint_reply`]).
struct Minted {
    token: String,
    link_id: String,
}

/// The scores `min..=max` as text, in the order of that text (`"0"`, `"1"`, `"10"`, `"2"`…).
fn score_order(min: u8, max: u8) -> Vec<String> {
    let mut scores: Vec<String> = (min..=max).map(|s| s.to_string()).collect();
    scores.sort();
    scores
}

/// The reply of a mint, `{"links": [...]}`, written straight out: each link's score and QR
/// URLs are written as they go, not built as strings and maps first (a mint of 1000 NPS
/// links makes 13 000 URLs). Members come in the order of a JSON map's keys, as they always
/// have: by name, and a link's score URLs by `scores` ([`score_order`]).
fn mint_reply(
    links: &[Minted],
    base: &str,
    expires_at: &str,
    open: Option<u32>,
    scores: &[String],
) -> String {
    let mut o = Out::new();
    let mut url = String::new();
    o.open();
    o.key("links");
    o.open_array();
    for l in links {
        o.open();
        o.key("expires_at");
        o.str(expires_at);
        o.key("link_id");
        o.str(&l.link_id);
        if let Some(cap) = open {
            o.key("max_responses");
            o.int(u64::from(cap));
            o.key("open");
            o.bool(true);
        }
        url.clear();
        let _ = write!(url, "{base}/v1/survey-links/qr.svg?token={}", l.token);
        o.key("qr_url");
        o.str(&url);
        // The answer URL, then each score's: the same text with `?score=N` after it.
        url.clear();
        let _ = write!(url, "{base}/s/{}", l.token);
        let plain = url.len();
        o.key("score_urls");
        o.open();
        for score in scores {
            url.truncate(plain);
            let _ = write!(url, "?score={score}");
            o.key(score);
            o.str(&url);
        }
        o.close();
        o.key("token");
        o.str(&l.token);
        o.key("url");
        o.str(url.get(..plain).unwrap_or(""));
        o.close();
    }
    o.close_array();
    o.close();
    o.finish()
}

/// `POST /v1/survey-links/revoke` (secret key): voids every link the tenant has minted so
/// far — for a key that leaked, or a batch of links sent to the wrong list — by bumping its
/// link generation; answers already stored stay. Links minted from now on work.
async fn revoke(c: Call, p: Principal) -> ApiResult<Response> {
    let env = &c.env;
    let generation = db::tenants::next_link_generation(&db::open(env)?, &p.tenant.id)
        .await?
        .ok_or(ApiError::NotFound("No such tenant."))?;
    auth::invalidate(env, &p.tenant.id).await?;
    crate::log::event("links_revoked", &[("tenant", &p.tenant.id)]);
    http::json(
        200,
        &json!({"link_generation": generation, "revoked_at": format_rfc3339(now_ms())}),
    )
}

/// `GET /v1/survey-links/qr.svg?token=…` (secret key): the QR code of one of the tenant's
/// links, as SVG — to print at the counter, on a receipt or a poster, or to post. The link
/// must still be answerable (not expired, not revoked), and the tenant's own.
async fn qr_svg(mut c: Call, p: Principal) -> ApiResult<Response> {
    let pairs = c.query();
    let tok = http::query(&pairs, "token")
        .ok_or_else(|| ApiError::Invalid("`token` is required".into()))?;
    let link = answers::open_link(&c.env, tok).await?;
    if link.claims.tenant != p.tenant.id {
        return Err(ApiError::NotFound("No such survey link."));
    }
    let url = format!("{}/s/{tok}", public_base(&c.env, &c.req)?);
    let svg = crate::qr::svg(&url)?;
    let mut resp = Response::ok(svg)?;
    let h = resp.headers_mut();
    h.set("content-type", "image/svg+xml")?;
    // The same token draws the same code: a browser may keep it, a shared cache may not
    // (the request carries the secret key).
    h.set("cache-control", "private, max-age=86400")?;
    h.set("content-security-policy", "default-src 'none'")?;
    h.set("x-content-type-options", "nosniff")?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;

    fn link(i: usize) -> Minted {
        Minted {
            token: format!("tok{i}.sig"),
            link_id: format!("id{i}"),
        }
    }

    /// The reply as a `serde_json::Value` tree writes it (keys in a map's order): what the
    /// route answered before it wrote its links straight out.
    fn as_tree(
        links: &[Minted],
        base: &str,
        expires_at: &str,
        open: Option<u32>,
        kind: SurveyKind,
    ) -> String {
        let (min, max) = kind.range();
        let links: Vec<Value> = links
            .iter()
            .map(|l| {
                let url = format!("{base}/s/{}", l.token);
                let mut urls = Map::new();
                for s in min..=max {
                    urls.insert(s.to_string(), Value::from(format!("{url}?score={s}")));
                }
                let mut v = json!({"url": url, "token": l.token, "link_id": l.link_id,
                    "expires_at": expires_at, "score_urls": urls,
                    "qr_url": format!("{base}/v1/survey-links/qr.svg?token={}", l.token)});
                if let (Some(cap), Some(o)) = (open, v.as_object_mut()) {
                    o.insert("open".into(), Value::from(true));
                    o.insert("max_responses".into(), Value::from(cap));
                }
                v
            })
            .collect();
        json!({ "links": links }).to_string()
    }

    #[test]
    fn the_reply_is_the_text_a_value_tree_gives_for_every_survey_and_open_links() {
        for (kind, open, base) in [
            (SurveyKind::Nps, None, "https://kpi.example"),
            (SurveyKind::Csat { scale: 5 }, None, "https://kpi.example"),
            (
                SurveyKind::Csat { scale: 10 },
                None,
                "http://127.0.0.1:8787",
            ),
            (SurveyKind::Ces, Some(200), "https://kpi.example"),
            // A base that JSON must escape, never one a request can have.
            (SurveyKind::Nps, Some(1), "https://kpi.example/\"q\\"),
        ] {
            let links: Vec<Minted> = (0..3).map(link).collect();
            let (min, max) = kind.range();
            let at = "2026-12-31T00:00:00Z";
            let text = mint_reply(&links, base, at, open, &score_order(min, max));
            assert_eq!(
                text,
                as_tree(&links, base, at, open, kind),
                "{kind:?} {open:?}"
            );
        }
        let none = mint_reply(&[], "", "", None, &score_order(0, 10));
        assert_eq!(none, r#"{"links":[]}"#);
    }
}
