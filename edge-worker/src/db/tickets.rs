//! `tickets`: one row per helpdesk ticket, the merge of every call about it, with a
//! revision that guards concurrent writes. Its triggers (migrations 0005, 0007) move the
//! rollup cells by the row's net change.
use std::collections::BTreeMap;

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{start, stmt, Filter, Key};
use crate::error::{ApiError, ApiResult};

/// The columns of a stored ticket, in the order [`TicketRow`] reads them.
const COLUMNS: &str = "id, channel, opened_at, first_response_at, resolved_at, \
     contacts, agent, tags, transferred, abandoned, day, updated_at, rev, known";

/// A stored ticket, as D1 returns it (numbers come back as f64): what a merge starts from,
/// and what pages and exports show.
#[derive(Deserialize)]
#[cfg_attr(any(test, feature = "fuzzing"), derive(Debug, PartialEq))]
pub struct TicketRow {
    /// The helpdesk's id.
    pub id: String,
    /// Channel name.
    pub channel: String,
    /// Unix ms.
    pub opened_at: f64,
    /// Unix ms.
    pub first_response_at: Option<f64>,
    /// Unix ms.
    pub resolved_at: Option<f64>,
    /// Contacts until resolved.
    pub contacts: f64,
    /// Agent.
    pub agent: Option<String>,
    /// JSON array.
    pub tags: String,
    /// 0 or 1.
    pub transferred: f64,
    /// 0 or 1.
    pub abandoned: f64,
    /// Tenant-local day of the opening.
    pub day: String,
    /// Unix ms.
    pub updated_at: f64,
    /// Revision: a write changes the row only if it is still the one it read.
    pub rev: String,
    /// Which optional inputs were ever sent: bit 1 contacts, 2 transferred, 4 abandoned.
    pub known: f64,
}

impl TicketRow {
    fn has(&self, bit: u8) -> bool {
        (self.known as u8) & bit != 0
    }

    /// Contacts until resolved, if the CRM ever sent them.
    pub fn contacts(&self) -> Option<i64> {
        self.has(KNOWN_CONTACTS).then_some(self.contacts as i64)
    }

    /// Transferred, if the CRM ever said.
    pub fn transferred(&self) -> Option<bool> {
        self.has(KNOWN_TRANSFERRED)
            .then_some(self.transferred != 0.0)
    }

    /// Abandoned, if the CRM ever said.
    pub fn abandoned(&self) -> Option<bool> {
        self.has(KNOWN_ABANDONED).then_some(self.abandoned != 0.0)
    }
}

/// Bits of `known`.
pub const KNOWN_CONTACTS: u8 = 1;
/// Bits of `known`.
pub const KNOWN_TRANSFERRED: u8 = 2;
/// Bits of `known`.
pub const KNOWN_ABANDONED: u8 = 4;

/// A ticket's fields as a write stores them (the merge of every call about it).
pub struct Fields {
    /// Channel name.
    pub channel: String,
    /// Opening, Unix ms.
    pub opened_ms: i64,
    /// First response, Unix ms.
    pub first_response_ms: Option<i64>,
    /// Resolution, Unix ms.
    pub resolved_ms: Option<i64>,
    /// Contacts until resolved, if ever sent.
    pub contacts: Option<i64>,
    /// Agent.
    pub agent: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Transferred between agents or teams, if ever sent.
    pub transferred: Option<bool>,
    /// Abandoned by the customer, if ever sent.
    pub abandoned: Option<bool>,
}

impl Fields {
    /// The `known` bits of these fields.
    pub fn known(&self) -> u8 {
        (if self.contacts.is_some() {
            KNOWN_CONTACTS
        } else {
            0
        }) | (if self.transferred.is_some() {
            KNOWN_TRANSFERRED
        } else {
            0
        }) | (if self.abandoned.is_some() {
            KNOWN_ABANDONED
        } else {
            0
        })
    }
}

/// The guarded write: upsert the merged row if its revision is still `old_rev` (or it is
/// still absent); its triggers move the counters.
#[allow(clippy::too_many_arguments)]
pub fn write(
    db: &D1Database,
    tenant: &str,
    id: &str,
    m: &Fields,
    day: &str,
    contrib: &str,
    old_rev: Option<&str>,
    new_rev: &str,
    now: i64,
) -> ApiResult<D1PreparedStatement> {
    let tags = serde_json::to_string(&m.tags).map_err(|e| ApiError::Internal(e.to_string()))?;
    stmt(
        db,
        "INSERT INTO tickets (tenant_id, id, channel, opened_at, first_response_at, \
             resolved_at, contacts, agent, tags, transferred, abandoned, day, contrib, \
             updated_at, rev, known) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?17) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET channel = excluded.channel, \
             opened_at = excluded.opened_at, first_response_at = excluded.first_response_at, \
             resolved_at = excluded.resolved_at, contacts = excluded.contacts, \
             agent = excluded.agent, tags = excluded.tags, transferred = excluded.transferred, \
             abandoned = excluded.abandoned, day = excluded.day, contrib = excluded.contrib, \
             updated_at = excluded.updated_at, rev = excluded.rev, known = excluded.known \
             WHERE tickets.rev = ?16",
        &[
            &tenant,
            &id,
            &m.channel,
            &m.opened_ms,
            &m.first_response_ms,
            &m.resolved_ms,
            &m.contacts.unwrap_or(1),
            &m.agent,
            &tags,
            &i64::from(m.transferred == Some(true)),
            &i64::from(m.abandoned == Some(true)),
            &day,
            &contrib,
            &now,
            &new_rev,
            // NULL for a new ticket: `rev = NULL` never holds, so a row inserted meanwhile by
            // someone else is left alone and this ticket goes round again.
            &old_rev,
            &u32::from(m.known()),
        ],
    )
}

/// The stored rows of `ids`.
pub async fn read(
    db: &D1Database,
    tenant: &str,
    ids: &[&str],
) -> ApiResult<BTreeMap<String, TicketRow>> {
    let list = serde_json::to_string(ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows: Vec<TicketRow> = stmt(
        db,
        &format!(
            "SELECT {COLUMNS} FROM tickets \
             WHERE tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2))"
        ),
        &[&tenant, &list],
    )?
    .all()
    .await?
    .results()?;
    Ok(crate::db::keyed(
        rows.into_iter().map(|r| (r.id.clone(), r)),
    ))
}

/// Rows in `(day, id)` order after `after`, within the filter, at most `limit`.
fn page_sql(limit: usize) -> String {
    format!(
        "SELECT {COLUMNS} FROM tickets \
         WHERE tenant_id = ?1 AND day >= ?2 AND day <= ?3 AND (day, id) > (?4, ?5) \
         ORDER BY day, id LIMIT {limit}"
    )
}

/// One page of tickets after `after`.
pub async fn page(
    db: &D1Database,
    tenant: &str,
    f: &Filter,
    after: &Key,
    limit: usize,
) -> ApiResult<Vec<TicketRow>> {
    Ok(stmt(
        db,
        &page_sql(limit),
        &[&tenant, &f.from, &f.to, &after.0, &after.1],
    )?
    .all()
    .await?
    .results()?)
}

/// How many tickets the filter selects, counting at most `cap`.
pub async fn count(db: &D1Database, tenant: &str, f: &Filter, cap: usize) -> ApiResult<usize> {
    let sql = format!("SELECT count(*) AS n FROM ({})", page_sql(cap));
    let after = start();
    let row: Option<super::Count> = stmt(db, &sql, &[&tenant, &f.from, &f.to, &after.0, &after.1])?
        .first(None)
        .await?;
    Ok(row.map_or(0, |c| c.n as usize))
}

/// Judges every ticket of the tenant again against first-response targets `targets` (a
/// JSON map of channel → milliseconds): the exact within-target counts of its contribution
/// (`TICKET_SLA`, in clock time from the row's instants; `TICKET_SLA_BIZ`, in the business
/// time its contribution measured when it was stored) are rewritten in place, one statement,
/// and the row's net-change trigger moves those counters only. Returns the tickets changed.
pub async fn rejudge(db: &D1Database, tenant: &str, targets: &str) -> ApiResult<usize> {
    use kpi_core::rollup::{key, Dim, Family};
    let result = stmt(
        db,
        "UPDATE tickets SET contrib = (\
           SELECT json_group_array(CASE \
             WHEN j.value->>0 = ?3 AND j.value->>3 = ?4 THEN json_array(j.value->>0, \
               j.value->>1, j.value->>2, j.value->>3, j.value->>4, \
               coalesce(tickets.first_response_at - tickets.opened_at \
                        <= json_extract(?2, '$.' || tickets.channel), 0)) \
             WHEN j.value->>0 = ?3 AND j.value->>3 = ?5 THEN json_array(j.value->>0, \
               j.value->>1, j.value->>2, j.value->>3, j.value->>4, \
               coalesce((SELECT b.value->>5 FROM json_each(tickets.contrib) b \
                         WHERE b.value->>0 = ?6 AND b.value->>1 = ?7 LIMIT 1) \
                        <= json_extract(?2, '$.' || tickets.channel), 0)) \
             ELSE json(j.value) END) \
           FROM json_each(tickets.contrib) j) \
         WHERE tenant_id = ?1",
        &[
            &tenant,
            &targets,
            &u32::from(Family::Tickets.id()),
            &key::TICKET_SLA,
            &key::TICKET_SLA_BIZ,
            &u32::from(Family::FirstResponseBiz.id()),
            &u32::from(Dim::All.id()),
        ],
    )?
    .run()
    .await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}
