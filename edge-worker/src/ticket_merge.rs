//! The merge of a ticket call over its stored row, pure: a later call fills in or corrects
//! fields; a field it omits keeps its stored value, `null` clears a timestamp or the agent.
//! Validation is `kpi_core::ticket`'s; the race-free write is `routes::tickets`' and
//! `db::tickets`'.
use kpi_core::calendar::BusinessHours;
use kpi_core::fact::{check_text, WireInstant};
use kpi_core::period::TimeZone;
use kpi_core::{FactError, RawTicket, Ticket};
use serde::{Deserialize, Deserializer};

use crate::db::tickets::{Fields as Merged, TicketRow};
use crate::error::{ApiError, ApiResult};
use crate::http;

/// Tickets per request.
pub const MAX_TICKETS: usize = 1000;
/// Tags per ticket.
const MAX_TAGS: usize = 32;

/// `Some(None)` for an explicit `null`, `Some(Some(v))` for a value; absent stays `None`.
fn patch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A ticket as a call sends it: every field but `id` may be left out to keep its stored value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketIn {
    /// The ticket's id in the helpdesk.
    pub id: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    opened_at: Option<WireInstant>,
    #[serde(default, deserialize_with = "patch")]
    first_response_at: Option<Option<WireInstant>>,
    #[serde(default, deserialize_with = "patch")]
    resolved_at: Option<Option<WireInstant>>,
    #[serde(default)]
    contacts: Option<i64>,
    #[serde(default, deserialize_with = "patch")]
    agent: Option<Option<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    transferred: Option<bool>,
    #[serde(default)]
    abandoned: Option<bool>,
}

fn ms(w: &WireInstant) -> Result<i64, FactError> {
    w.to_ms()
}

/// Merges a call over the stored row (if any): present fields win, absent ones are kept.
pub fn merge(t: &TicketIn, old: Option<&TicketRow>) -> Result<Merged, FactError> {
    let keep = |v: Option<f64>| v.map(|x| x as i64);
    let instant = |new: &Option<Option<WireInstant>>, old: Option<i64>| match new {
        None => Ok(old),
        Some(None) => Ok(None),
        Some(Some(w)) => ms(w).map(Some),
    };
    let channel = match (&t.channel, old) {
        (Some(c), _) => c.clone(),
        (None, Some(o)) => o.channel.clone(),
        (None, None) => return Err(FactError::MissingField { field: "channel" }),
    };
    let opened_ms = match (&t.opened_at, old) {
        (Some(w), _) => ms(w)?,
        (None, Some(o)) => o.opened_at as i64,
        (None, None) => return Err(FactError::MissingField { field: "opened_at" }),
    };
    let tags = match (&t.tags, old) {
        (Some(tags), _) => tags.clone(),
        (None, Some(o)) => serde_json::from_str(&o.tags).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    if tags.len() > MAX_TAGS {
        return Err(FactError::CountOutOfRange {
            count: tags.len() as i64,
        });
    }
    for tag in &tags {
        check_text("tags", tag)?;
    }
    Ok(Merged {
        channel,
        opened_ms,
        first_response_ms: instant(
            &t.first_response_at,
            old.and_then(|o| keep(o.first_response_at)),
        )?,
        resolved_ms: instant(&t.resolved_at, old.and_then(|o| keep(o.resolved_at)))?,
        contacts: t.contacts.or(old.and_then(|o| o.contacts())),
        agent: match &t.agent {
            Some(a) => a.clone(),
            None => old.and_then(|o| o.agent.clone()),
        },
        tags,
        transferred: t.transferred.or(old.and_then(|o| o.transferred())),
        abandoned: t.abandoned.or(old.and_then(|o| o.abandoned())),
    })
}

/// The merged ticket's own rules.
impl Merged {
    /// Validates the merged ticket with the domain's rules.
    pub fn validate(
        &self,
        tz: TimeZone,
        hours: Option<&BusinessHours>,
    ) -> Result<Ticket, FactError> {
        let raw = RawTicket {
            id: None,
            channel: self.channel.clone(),
            opened_at: WireInstant::Millis(self.opened_ms),
            first_response_at: self.first_response_ms.map(WireInstant::Millis),
            resolved_at: self.resolved_ms.map(WireInstant::Millis),
            contacts: self.contacts,
            agent: self.agent.clone(),
            tags: self.tags.clone(),
            transferred: self.transferred,
            abandoned: self.abandoned,
        };
        Ticket::from_wire(&raw, tz, hours)
    }
}

/// Parses one ticket of a request (its JSON text, an item of [`parse_body`]), checking its
/// id.
pub fn parse_item(item: &str) -> ApiResult<TicketIn> {
    let t: TicketIn = serde_json::from_str(item)
        .map_err(|e| ApiError::Invalid(format!("invalid ticket: {e}")))?;
    check_text("id", &t.id)?;
    Ok(t)
}

/// The tickets of a body, each as its own JSON text: one ticket object (`false`), or
/// `{"tickets": [...]}` (`true`) of at most [`MAX_TICKETS`].
pub(crate) fn parse_body(bytes: &[u8]) -> ApiResult<(bool, Vec<&str>)> {
    let body = http::checked_json(http::utf8(bytes)?)?;
    if !body.starts_with('{') {
        return Err(ApiError::Malformed(
            "send one ticket object or {\"tickets\": [...]}".into(),
        ));
    }
    let (batch, items) = match http::json_member(body, "tickets") {
        Some(list) => (
            true,
            http::json_items(list)
                .ok_or_else(|| ApiError::Malformed("`tickets` must be an array".into()))?,
        ),
        None => (false, vec![body]),
    };
    if items.len() > MAX_TICKETS {
        return Err(ApiError::Invalid(format!(
            "send at most {MAX_TICKETS} tickets a request"
        )));
    }
    Ok((batch, items))
}

/// The pure path of one `POST /v1/tickets` body, as `routes::tickets` runs it,
/// with `stored` standing in for the D1 rows: parse, merge each ticket over its stored row,
/// validate, encode its contribution, and keep the merged row (as D1 would return it) for
/// the next call. Each ticket's outcome is its `contrib` JSON or its rejection. For the
/// parser fuzz targets; the routes never call it.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn upsert_offline(
    bytes: &[u8],
    tz: TimeZone,
    stored: &mut std::collections::BTreeMap<String, TicketRow>,
) -> ApiResult<Vec<Result<String, String>>> {
    let (_, values) = parse_body(bytes)?;
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let t = match parse_item(v) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(e.parts().2));
                continue;
            }
        };
        let checked =
            merge(&t, stored.get(&t.id)).and_then(|m| m.validate(tz, None).map(|k| (m, k)));
        let (m, ticket) = match checked {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(e.to_string()));
                continue;
            }
        };
        let contrib = kpi_core::rollup::contrib_json(&ticket.contributions());
        let known = m.known();
        let row = TicketRow {
            id: t.id.clone(),
            channel: m.channel,
            // D1 keeps numbers as REAL: store them as the write binds them.
            opened_at: m.opened_ms as f64,
            first_response_at: m.first_response_ms.map(|x| x as f64),
            resolved_at: m.resolved_ms.map(|x| x as f64),
            contacts: m.contacts.unwrap_or(1) as f64,
            agent: m.agent,
            tags: serde_json::to_string(&m.tags).map_err(|e| ApiError::Internal(e.to_string()))?,
            transferred: if m.transferred == Some(true) {
                1.0
            } else {
                0.0
            },
            abandoned: if m.abandoned == Some(true) { 1.0 } else { 0.0 },
            known: f64::from(known),
            day: ticket.day().to_string(),
            updated_at: 0.0,
            rev: String::new(),
        };
        stored.insert(t.id, row);
        out.push(Ok(contrib));
    }
    Ok(out)
}
