//! Answers: from a verified link (or an import) to one stored row. One row per link, the
//! latest answer wins — on an open link, one row per browser (its response id), at most the
//! link's cap of them; the row's triggers keep the rollup counters (migrations 0005, 0007,
//! 0013), and an alert for the tenant's webhook joins the answer's own batch. The JSON route is
//! `routes::responses`, the HTML page `routes::survey_page`; both end here.
use std::rc::Rc;

use kpi_core::fact::Alert;
use kpi_core::period::{format_rfc3339, CivilDate};
use kpi_core::{Channel, SurveyKind, SurveyResponse};
use serde_json::json;
use worker::{Context, Env};

use crate::db::{self, responses};
use crate::error::{ApiError, ApiResult};
use crate::http::now_ms;
use crate::respondents;
use crate::secrets;
use crate::tenant::{self, TenantConfig};
use crate::token::{self, LinkClaims};
use crate::webhooks::{self, Message};

const MAX_COMMENT_CHARS: usize = 4000;

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
    /// Set when the answer came through an open link.
    pub open: Option<OpenAnswer>,
}

/// What an answer through an open link carries besides its row key.
pub struct OpenAnswer {
    /// The open link's id (the row key is this and the response id's digest).
    pub link: String,
    /// Most responses the link takes.
    pub cap: u32,
    /// The browser's response id, to give back (cookie, JSON reply) for a correction.
    pub response_id: String,
}

/// A response id as a browser or a client sends it back: 16 random bytes, URL-safe base64
/// (22 characters); anything else is no id.
pub fn response_id(s: &str) -> Option<String> {
    (s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| s.to_string())
}

/// The row key of one browser's answer to open link `link`: the link and a digest of the
/// response id (the id itself, which lets a browser change its answer, is never stored).
pub fn open_row_key(link: &str, response_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("kpi-open-v1:{link}:{response_id}").as_bytes());
    format!("{link}:{}", crate::http::b64url(&d[..12]))
}

/// Whether a store created a response or updated an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The first answer to this link.
    Created,
    /// A later answer replaced the earlier one.
    Updated,
}

/// A comment as stored: trimmed, `None` when empty, at most 4000 characters.
pub fn normalize_comment(c: Option<String>) -> ApiResult<Option<String>> {
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

/// The statement that stores one answer (`db::responses::upsert`) and the validated fact.
pub fn statement(
    db: &worker::D1Database,
    a: &Answer,
    tz: kpi_core::period::TimeZone,
) -> ApiResult<(worker::D1PreparedStatement, SurveyResponse)> {
    let mut fact = SurveyResponse::new(a.kind, a.score, a.channel, a.comment.is_some())?;
    if a.open.is_some() {
        fact = fact.through_open_link();
    }
    let contrib = kpi_core::rollup::contrib_json(&fact.contributions());
    let day = CivilDate::of_instant(a.at_ms, tz)?.to_string();
    let row = responses::NewAnswer {
        tenant: &a.tenant,
        link_id: &a.link_id,
        survey: a.kind.name(),
        scale: a.kind.scale(),
        score: i64::from(fact.score()),
        comment: a.comment.as_deref(),
        respondent: a.respondent.as_deref(),
        ticket: a.ticket.as_deref(),
        channel: a.channel.as_str(),
        lang: &a.lang,
        day: &day,
        at_ms: a.at_ms,
        contrib: &contrib,
        open: a.open.as_ref().map(|o| (o.link.as_str(), o.cap)),
    };
    Ok((responses::upsert(db, &row)?, fact))
}

/// The webhook message an alert raises; `respondent` is the tenant's own id for the
/// answer's respondent, if it is known.
fn alert_message(a: &Answer, respondent: Option<&str>, alert: Alert) -> ApiResult<Message> {
    let body = json!({
        "type": alert.name(),
        "timestamp": format_rfc3339(a.at_ms),
        "data": {
            "tenant": a.tenant,
            "link_id": a.link_id,
            "survey": a.kind.name(),
            "scale": a.kind.scale(),
            "score": a.score,
            "comment": a.comment,
            "respondent": respondent,
            "ticket": a.ticket,
            "channel": a.channel.as_str(),
            "lang": a.lang,
            "answered_at": format_rfc3339(a.at_ms),
        }
    });
    Message::new(&a.tenant, alert.name(), body.to_string())
}

/// Stores one answer atomically; an alert for the tenant's webhook joins the same batch and
/// is delivered once the response has gone out. Returns the D1 rows it wrote with it.
pub async fn store_answer(
    env: &Env,
    ctx: &Context,
    a: Answer,
    tenant: &TenantConfig,
) -> ApiResult<(Stored, u64)> {
    let db = db::open(env)?;
    let (upsert, fact) = statement(&db, &a, tenant.tz())?;
    let reference = a.respondent.as_deref();
    // The alert names the respondent by the tenant's own id (read only when it will be sent).
    let message = match fact.alert() {
        Some(alert) if tenant.webhook_url.is_some() => {
            let id = match reference {
                Some(r) => db::respondents::resolve(&db, &a.tenant, r).await?,
                None => None,
            };
            Some(alert_message(&a, id.as_deref(), alert)?)
        }
        _ => None,
    };
    // The outbox row belongs in the answer's own transaction, and goes again if the
    // respondent was erased between the lookup and the batch.
    // An open link's cap may refuse the row: then its alert goes too.
    let (results, message) = match message {
        Some(m) => {
            let mut stmts = vec![upsert, m.outbox_statement(&db, None)?];
            if let Some(r) = reference {
                stmts.push(db::respondents::drop_alert_if_erased(
                    &db, &m.id, &a.tenant, r,
                )?);
            }
            if a.open.is_some() {
                stmts.push(responses::drop_alert_if_refused(
                    &db, &m.id, &a.tenant, &a.link_id,
                )?);
            }
            let results = db::batch(&db, stmts).await?;
            let dropped = (2..results.len()).any(|i| db::changes(&results, i) > 0);
            (results, (!dropped).then_some(m))
        }
        None => (db::batch(&db, vec![upsert]).await?, None),
    };
    let answers = responses::answers_of(&results);
    if answers.is_none() && a.open.is_some() {
        return Err(ApiError::LinkFull);
    }
    let written = db::rows_written(&results);
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
    pub tenant: Rc<TenantConfig>,
}

/// Verifies a token: forged → 401, expired → 410, revoked by the tenant → 410.
pub async fn open_link(env: &Env, token: &str) -> ApiResult<Link> {
    let claims = token::verify(&secrets::link_master(env)?, token, now_ms() / 1000)?;
    let kind =
        SurveyKind::parse(&claims.survey, Some(claims.scale)).map_err(|_| ApiError::BadToken)?;
    let tenant = tenant::config(env, &claims.tenant).await?;
    if i64::from(claims.generation) < tenant.link_gen {
        return Err(ApiError::Revoked);
    }
    Ok(Link {
        claims,
        kind,
        tenant,
    })
}

/// Turns an open link with a score and comment into an [`Answer`]. On an open link,
/// `response_id` names the browser's earlier answer to change (none: a new response).
pub async fn answer_link(
    env: &Env,
    link: Link,
    score: i64,
    comment: Option<String>,
    response_id: Option<String>,
) -> ApiResult<(Answer, Rc<TenantConfig>)> {
    let Link {
        claims,
        kind,
        tenant,
    } = link;
    let (link_id, open) = match claims.open {
        Some(cap) => {
            let response_id = match response_id {
                Some(id) => id,
                None => crate::http::b64url(&crate::http::random_bytes::<16>()?),
            };
            let key = open_row_key(&claims.link, &response_id);
            let open = OpenAnswer {
                link: claims.link,
                cap,
                response_id,
            };
            (key, Some(open))
        }
        None => (claims.link, None),
    };
    // Per answered row: an ordinary link, or one browser's answer to an open link (a busy
    // open link takes answers from many browsers; the per-address limit and its cap bound it).
    crate::limits::survey_link(env, &link_id).await?;
    kind.check_score(score)?;
    let comment = normalize_comment(comment)?;
    let respondent = match (claims.respondent, claims.legacy_respondent) {
        (Some(reference), _) => Some(reference),
        (None, Some(id)) => respondents::legacy(env, &db::open(env)?, &claims.tenant, &id).await?,
        (None, None) => None,
    };
    let answer = Answer {
        tenant: claims.tenant,
        link_id,
        kind,
        score,
        comment,
        respondent,
        ticket: claims.ticket,
        channel: Channel::parse(&claims.channel).unwrap_or(Channel::Other),
        lang: claims.lang,
        at_ms: now_ms(),
        open,
    };
    Ok((answer, tenant))
}
