//! `responses`: one row per survey link (or imported answer, or browser answering an open
//! link), the latest answer in it. Its triggers (migrations 0005, 0007) move the rollup
//! cells by the row's net change; migration 0013's keep `open_links`, the responses each
//! open link has, which caps them.
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{start, stmt, Filter, Key};
use crate::error::ApiResult;

/// One answer as its row stores it.
pub struct NewAnswer<'a> {
    /// Tenant id.
    pub tenant: &'a str,
    /// The link (or `imp:<id>`).
    pub link_id: &'a str,
    /// `nps`, `csat` or `ces`.
    pub survey: &'a str,
    /// Points of the scale.
    pub scale: u8,
    /// The score.
    pub score: i64,
    /// The comment.
    pub comment: Option<&'a str>,
    /// The respondent's opaque reference.
    pub respondent: Option<&'a str>,
    /// Ticket id.
    pub ticket: Option<&'a str>,
    /// Channel.
    pub channel: &'a str,
    /// Page language.
    pub lang: &'a str,
    /// Tenant-local day of the answer.
    pub day: &'a str,
    /// Unix ms of the answer.
    pub at_ms: i64,
    /// Its contribution, JSON.
    pub contrib: &'a str,
    /// The open link it answers and the link's cap, when it came through one.
    pub open: Option<(&'a str, u32)>,
}

/// The upsert of one answer: a re-answer keeps its first day and counts itself in
/// `answers`; the respondent's reference is stored only while it still names someone (an
/// erased respondent's old link answers anonymously). `RETURNING answers` tells a first
/// answer from a re-answer ([`answers_of`]).
pub fn upsert(db: &D1Database, a: &NewAnswer) -> ApiResult<D1PreparedStatement> {
    if let Some((link, cap)) = a.open {
        return upsert_open(db, a, link, cap);
    }
    stmt(
        db,
        "INSERT INTO responses (tenant_id, link_id, survey, scale, score, comment, respondent, \
         ticket, channel, lang, day, answered_at, updated_at, contrib) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
         (SELECT ?7 WHERE EXISTS (SELECT 1 FROM respondents WHERE tenant_id = ?1 AND ref = ?7)), \
         ?8, ?9, ?10, ?11, ?12, ?12, ?13) \
         ON CONFLICT (tenant_id, link_id) DO UPDATE SET score = excluded.score, \
         comment = excluded.comment, updated_at = excluded.updated_at, \
         contrib = excluded.contrib, answers = answers + 1 \
         RETURNING answers",
        &[
            &a.tenant,
            &a.link_id,
            &a.survey,
            &u32::from(a.scale),
            &a.score,
            &a.comment,
            &a.respondent,
            &a.ticket,
            &a.channel,
            &a.lang,
            &a.day,
            &a.at_ms,
            &a.contrib,
        ],
    )
}

/// [`upsert`] of an answer through an open link: a new row only while the link has fewer
/// than `cap` responses (`open_links`, kept by the rows' own triggers), a browser's earlier
/// row always — checked inside the writing statement, so concurrent answers never pass the
/// cap. A refused row returns nothing.
fn upsert_open(
    db: &D1Database,
    a: &NewAnswer,
    link: &str,
    cap: u32,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO responses (tenant_id, link_id, survey, scale, score, comment, respondent, \
         ticket, channel, lang, day, answered_at, updated_at, contrib, open_link) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8, ?9, ?10, ?10, ?11, ?12 \
         WHERE coalesce((SELECT responses FROM open_links WHERE tenant_id = ?1 AND link_id = ?12), 0) < ?13 \
         OR EXISTS (SELECT 1 FROM responses WHERE tenant_id = ?1 AND link_id = ?2) \
         ON CONFLICT (tenant_id, link_id) DO UPDATE SET score = excluded.score, \
         comment = excluded.comment, updated_at = excluded.updated_at, \
         contrib = excluded.contrib, answers = answers + 1 \
         RETURNING answers",
        &[
            &a.tenant,
            &a.link_id,
            &a.survey,
            &u32::from(a.scale),
            &a.score,
            &a.comment,
            &a.channel,
            &a.lang,
            &a.day,
            &a.at_ms,
            &a.contrib,
            &link,
            &cap,
        ],
    )
}

/// For an open link's answer batch, after its alert is queued: the alert goes when the
/// link's cap refused the answer (no row for it).
pub fn drop_alert_if_refused(
    db: &D1Database,
    message_id: &str,
    tenant: &str,
    row: &str,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "DELETE FROM webhook_outbox WHERE id = ?1 AND NOT EXISTS \
         (SELECT 1 FROM responses WHERE tenant_id = ?2 AND link_id = ?3)",
        &[&message_id, &tenant, &row],
    )
}

/// The latest score of row `link_id`, if it exists (a browser's answer to an open link).
pub async fn score_of(db: &D1Database, tenant: &str, link_id: &str) -> ApiResult<Option<i64>> {
    #[derive(Deserialize)]
    struct Score {
        score: f64,
    }
    let row: Option<Score> = stmt(
        db,
        "SELECT score FROM responses WHERE tenant_id = ?1 AND link_id = ?2",
        &[&tenant, &link_id],
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.score as i64))
}

/// The `answers` count an [`upsert`] (first in its batch) returned: 1 for a first answer.
pub fn answers_of(results: &[super::Done]) -> Option<f64> {
    results.first().and_then(|r| r.first_number("answers"))
}

/// A stored response as a page reads it, the respondent's CRM id in place of its reference.
#[derive(Deserialize)]
pub struct ResponseRow {
    /// The link (or `imp:<id>`).
    pub link_id: String,
    /// `nps`, `csat` or `ces`.
    pub survey: String,
    /// Points of the scale.
    pub scale: f64,
    /// The latest score.
    pub score: f64,
    /// The latest comment.
    pub comment: Option<String>,
    /// The tenant's own id for the respondent, while known.
    pub respondent: Option<String>,
    /// Ticket id.
    pub ticket: Option<String>,
    /// Channel.
    pub channel: String,
    /// Page language.
    pub lang: String,
    /// Tenant-local day of the first answer.
    pub day: String,
    /// Unix ms of the first answer.
    pub answered_at: f64,
    /// Unix ms of the latest answer.
    pub updated_at: f64,
}

/// Rows in `(day, link_id)` order after `after`, within the filter, at most `limit`.
fn page_sql(limit: usize) -> String {
    format!(
        "SELECT r.link_id, r.survey, r.scale, r.score, r.comment, m.respondent, \
         r.ticket, r.channel, r.lang, r.day, r.answered_at, r.updated_at \
         FROM responses r LEFT JOIN respondents m \
         ON m.tenant_id = r.tenant_id AND m.ref = r.respondent \
         WHERE r.tenant_id = ?1 AND r.day >= ?2 AND r.day <= ?3 \
         AND (?4 IS NULL OR r.survey = ?4) AND (r.day, r.link_id) > (?5, ?6) \
         ORDER BY r.day, r.link_id LIMIT {limit}"
    )
}

fn page_stmt(
    db: &D1Database,
    sql: &str,
    tenant: &str,
    f: &Filter,
    after: &Key,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        sql,
        &[&tenant, &f.from, &f.to, &f.survey, &after.0, &after.1],
    )
}

/// One page of responses after `after`.
pub async fn page(
    db: &D1Database,
    tenant: &str,
    f: &Filter,
    after: &Key,
    limit: usize,
) -> ApiResult<Vec<ResponseRow>> {
    Ok(page_stmt(db, &page_sql(limit), tenant, f, after)?
        .all()
        .await?
        .results()?)
}

/// How many responses the filter selects, counting at most `cap`.
pub async fn count(db: &D1Database, tenant: &str, f: &Filter, cap: usize) -> ApiResult<usize> {
    let sql = format!("SELECT count(*) AS n FROM ({})", page_sql(cap));
    let row: Option<super::Count> = page_stmt(db, &sql, tenant, f, &start())?
        .first(None)
        .await?;
    Ok(row.map_or(0, |c| c.n as usize))
}
