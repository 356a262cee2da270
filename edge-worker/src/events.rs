//! CRM events on their way to `events` rows: the body parsed (JSON array or NDJSON), each
//! event validated by `kpi_core::event`, what of it is kept, and the order history a CRM
//! did not send.
//!
//! A row's `body` keeps only the fields validated for the event's type: whatever else a CRM
//! sends along (names, e-mails, phone numbers, notes) never reaches D1, so erasure has
//! nothing to chase there. An order of a named customer keeps the customer only as a keyed
//! hash (`secrets::customer_key`).
//!
//! *Order history.* Repeat purchase, ARPU and upsell need each order's previous orders. When
//! an order does not say them, they are found among the customer's stored orders and the
//! request's own ([`fill_history`]); an earlier order that arrives later revises the orders
//! after it ([`revise_history`]), through the row's net-change trigger, so the rollups stay
//! equal to the rows.
use std::collections::BTreeMap;

use kpi_core::fact::{check_text, WireInstant};
use kpi_core::period::TimeZone;
use kpi_core::{Event, FactError, RawEvent};
use serde_json::{json, Value};
use worker::D1Database;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http;

/// An event ready to insert: the row's fields as one JSON object.
pub fn row(
    raw: &RawEvent,
    id: &str,
    ev: &Event,
    customer_key: Option<&str>,
    derived: bool,
) -> Value {
    json!({
        "id": id,
        "type": raw.kind,
        "at": ev.at_ms,
        "day": ev.day.to_string(),
        "body": kept(raw),
        "contrib": kpi_core::rollup::contrib_json(&ev.contributions()),
        "customer_key": customer_key,
        "derived": i64::from(derived),
    })
}

/// What is kept of a validated event: its id, type, instant and count, the segments
/// kpi-core checks on every event (channel, campaign, source, agent), and the fields
/// `Event::from_wire` reads for its type. Unknown fields were never parsed; known fields
/// its type does not read (a `customer` or `user` sent along) are dropped here.
pub fn kept(raw: &RawEvent) -> String {
    let r = raw.clone();
    let mut k = RawEvent {
        id: r.id,
        kind: r.kind,
        at: r.at,
        count: r.count,
        channel: r.channel,
        campaign: r.campaign,
        source: r.source,
        agent: r.agent,
        ..RawEvent::default()
    };
    let money = |k: &mut RawEvent| {
        k.amount = raw.amount;
        k.currency = raw.currency.clone();
    };
    let deal = |k: &mut RawEvent| {
        money(k);
        k.previous_amount = raw.previous_amount;
        k.previous_stage = raw.previous_stage.clone();
    };
    match raw.kind.as_str() {
        "lead.created" => k.first_contact_at = raw.first_contact_at.clone(),
        "deal.stage" => {
            deal(&mut k);
            k.stage = raw.stage.clone();
            k.stage_position = raw.stage_position;
            k.order = raw.order.clone();
        }
        "deal.won" => {
            deal(&mut k);
            k.first_touch_at = raw.first_touch_at.clone();
        }
        "deal.lost" => deal(&mut k),
        "order.placed" => {
            money(&mut k);
            k.previous_order_at = raw.previous_order_at.clone();
            k.second_previous_order_at = raw.second_previous_order_at.clone();
            k.upsell = raw.upsell;
            k.previous_upsell_at = raw.previous_upsell_at.clone();
        }
        "order.cancelled" => {
            money(&mut k);
            k.order = raw.order.clone();
        }
        "subscription.changed" => {
            k.mrr = raw.mrr;
            k.previous_mrr = raw.previous_mrr;
            k.currency = raw.currency.clone();
        }
        "spend" => {
            money(&mut k);
            k.purpose = raw.purpose.clone();
        }
        "web.visit" => k.landing = raw.landing,
        "web.session" => k.pages = raw.pages,
        "crm.user_active" => k.user = raw.user.clone(),
        "crm.activity" => {
            k.user = raw.user.clone();
            k.activity = raw.activity.clone();
        }
        _ => {}
    }
    // `RawEvent` writes no member for an absent field.
    serde_json::to_string(&k)
        .unwrap_or_else(|_| json!({"id": raw.id, "type": raw.kind}).to_string())
}

/// Parses one event (its JSON text, one item of [`parse_body`]) and checks its id; its
/// type's fields are [`Event::from_wire`]'s. Events are decoded from text only, here and
/// from D1 in [`revise_history`]: one decoder of `RawEvent` in the worker.
pub fn parse(item: &str) -> ApiResult<(String, RawEvent)> {
    let raw: RawEvent =
        serde_json::from_str(item).map_err(|e| ApiError::Invalid(format!("invalid event: {e}")))?;
    let id = raw
        .id
        .as_deref()
        .ok_or(FactError::MissingField { field: "id" })?;
    let id = check_text("id", id)?;
    Ok((id, raw))
}

/// Validates one event: its id and its type's fields (the fuzz targets' and tests' path;
/// the route parses first, fills an order's history, then validates).
#[cfg(any(test, feature = "fuzzing"))]
pub fn validate(item: &str, tz: TimeZone) -> ApiResult<(String, RawEvent, Event)> {
    let (id, raw) = parse(item)?;
    let ev = Event::from_wire(&raw, tz)?;
    Ok((id, raw, ev))
}

/// The events of a body, each as its own JSON text: a JSON array (or `{"events": [...]}`),
/// or NDJSON, one per line. A line of NDJSON that is not JSON is that event's error, not the
/// request's. The body is checked as JSON once and split, with no `Value` tree: each event
/// is decoded once, from its text, by [`parse`].
pub fn parse_body(bytes: &[u8], ndjson: bool) -> ApiResult<Vec<ApiResult<&str>>> {
    if ndjson {
        return Ok(http::utf8(bytes)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(http::checked_json)
            .collect());
    }
    let body = http::checked_json(http::utf8(bytes)?)?;
    let list = match body.starts_with('{') {
        true => http::json_member(body, "events"),
        false => Some(body),
    };
    let items = list
        .and_then(http::json_items)
        .ok_or_else(|| ApiError::Malformed("send a JSON array of events, or NDJSON".into()))?;
    Ok(items.into_iter().map(Ok).collect())
}

/// An order of a named customer in a request.
pub struct Order<'a> {
    /// The customer's key.
    pub key: String,
    /// The order's instant, Unix ms.
    pub at: i64,
    /// The event, whose previous orders [`fill_history`] fills when `derive`.
    pub raw: &'a mut RawEvent,
    /// The CRM did not send its previous order.
    pub derive: bool,
}

/// The latest instant of `ats` strictly before `before`.
fn latest_before(ats: impl Iterator<Item = i64> + Clone, before: i64) -> Option<i64> {
    ats.filter(|a| *a < before).max()
}

/// The previous two orders before `at`, from the instants of the customer's other orders.
fn previous_two(ats: impl Iterator<Item = i64> + Clone, at: i64) -> (Option<i64>, Option<i64>) {
    let p1 = latest_before(ats.clone(), at);
    let p2 = p1.and_then(|p| latest_before(ats, p));
    (p1, p2)
}

/// Sets an order's history: its previous two orders, and its previous upsell order when it
/// is an upsell itself.
fn set_history(raw: &mut RawEvent, (p1, p2): (Option<i64>, Option<i64>), upsell: Option<i64>) {
    raw.previous_order_at = p1.map(WireInstant::Millis);
    raw.second_previous_order_at = p2.map(WireInstant::Millis);
    raw.previous_upsell_at = match raw.upsell {
        Some(true) => upsell.map(WireInstant::Millis),
        _ => None,
    };
}

/// Fills the previous orders of the orders that need them, from the customer's stored
/// orders and the other orders of the request.
pub async fn fill_history(
    db: &D1Database,
    tenant: &str,
    orders: &mut [Order<'_>],
) -> ApiResult<()> {
    let asks: Vec<(&str, i64)> = orders
        .iter()
        .filter(|o| o.derive)
        .map(|o| (o.key.as_str(), o.at))
        .collect();
    if asks.is_empty() {
        return Ok(());
    }
    let stored = db::events::previous_orders(db, tenant, &asks).await?;
    // The request's own orders by customer: (instant, upsell).
    let mut in_request: BTreeMap<String, Vec<(i64, bool)>> = BTreeMap::new();
    for o in orders.iter() {
        let upsell = o.raw.upsell == Some(true);
        in_request
            .entry(o.key.clone())
            .or_default()
            .push((o.at, upsell));
    }
    let mut stored = stored.into_iter();
    for o in orders.iter_mut().filter(|o| o.derive) {
        let s = stored.next().unwrap_or_default();
        let mine = in_request.get(&o.key).map(Vec::as_slice).unwrap_or(&[]);
        let all = mine.iter().map(|(at, _)| *at).chain(s.p1).chain(s.p2);
        let upsells = mine.iter().filter(|(_, u)| *u).map(|(at, _)| *at);
        let upsell = latest_before(upsells.chain(s.upsell), o.at);
        set_history(o.raw, previous_two(all, o.at), upsell);
    }
    Ok(())
}

/// Revises the stored orders of these customers whose previous orders the worker found and
/// which an order stored since changes (an earlier order that arrived late). Returns how
/// many were revised.
pub async fn revise_history(
    db: &D1Database,
    tenant: &str,
    tz: TimeZone,
    keys: &[&str],
) -> ApiResult<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    let rows = db::events::orders_of(db, tenant, keys).await?;
    let mut stmts = Vec::new();
    // The rows come by customer, then instant: one group per customer.
    for orders in rows.chunk_by(|a, b| a.customer_key == b.customer_key) {
        let raws: Vec<Option<RawEvent>> = orders
            .iter()
            .map(|o| serde_json::from_str::<RawEvent>(&o.body).ok())
            .collect();
        let ats: Vec<i64> = orders.iter().map(|o| o.at as i64).collect();
        let upsells: Vec<i64> = orders
            .iter()
            .zip(&raws)
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.upsell == Some(true)))
            .map(|(o, _)| o.at as i64)
            .collect();
        for (r, raw) in orders.iter().zip(raws) {
            let Some(raw) = raw.filter(|_| r.derived != 0.0) else {
                continue;
            };
            if let Some(s) = revision(db, tenant, tz, r, raw, &ats, &upsells)? {
                stmts.push(s);
            }
        }
    }
    let n = stmts.len();
    if n > 0 {
        db.batch(stmts).await?;
    }
    Ok(n)
}

/// The statement revising stored order `r` (its kept event `raw`) if the instants `ats` of
/// its customer's orders, and `upsells` of their upsell orders, give it another history
/// than it holds.
fn revision(
    db: &D1Database,
    tenant: &str,
    tz: TimeZone,
    r: &db::events::OrderRow,
    mut raw: RawEvent,
    ats: &[i64],
    upsells: &[i64],
) -> ApiResult<Option<worker::D1PreparedStatement>> {
    let at = r.at as i64;
    let want = previous_two(ats.iter().copied(), at);
    let want_upsell = match raw.upsell {
        Some(true) => latest_before(upsells.iter().copied(), at),
        _ => None,
    };
    let ms = |w: &Option<WireInstant>| w.as_ref().and_then(|w| w.to_ms().ok());
    if (
        ms(&raw.previous_order_at),
        ms(&raw.second_previous_order_at),
    ) == want
        && ms(&raw.previous_upsell_at) == want_upsell
    {
        return Ok(None);
    }
    set_history(&mut raw, want, want_upsell);
    let Ok(ev) = Event::from_wire(&raw, tz) else {
        return Ok(None);
    };
    let contrib = kpi_core::rollup::contrib_json(&ev.contributions());
    let body = kept(&raw);
    Ok(Some(db::events::revise(
        db, tenant, &r.id, &r.contrib, &body, &contrib,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kpi_core::period::TimeZone;

    /// Every type of event kpi-core knows, each carrying every field `RawEvent` knows (with
    /// values that suit all types at once) plus a few a CRM might send along.
    fn kitchen_sinks() -> Vec<String> {
        kpi_core::event::EVENT_TYPES
            .iter()
            .map(|t| {
                json!({"id": format!("ev-{t}"), "type": t, "at": "2026-11-20T09:00:00+07:00",
                    "count": 2, "source": "zalo", "campaign": "tet", "channel": "web",
                    "agent": "minh", "deal": "D-1", "stage": "demo", "order": 2,
                    "previous_stage": "consult", "amount": 100000, "previous_amount": 90000,
                    "currency": "VND", "customer": "C-1", "mrr": 50000, "previous_mrr": 40000,
                    "pages": 3, "user": "lan", "kind": "call",
                    "first_contact_at": "2026-11-20T10:00:00+07:00",
                    "first_touch_at": "2026-11-01T09:00:00+07:00",
                    "previous_order_at": "2026-10-01T09:00:00+07:00",
                    "second_previous_order_at": "2026-09-01T09:00:00+07:00",
                    "landing": true, "upsell": true, "purpose": "retention",
                    "previous_upsell_at": "2026-10-05T09:00:00+07:00",
                    "email": "lan@example.com", "phone": "0909 123 456", "note": {"x": 1}})
                .to_string()
            })
            .collect()
    }

    #[test]
    fn a_kept_body_counts_exactly_as_the_event_sent() {
        let tz = TimeZone::DEFAULT;
        for v in kitchen_sinks() {
            let (id, raw, ev) = validate(&v, tz).unwrap_or_else(|e| panic!("{v}: {}", e.detail()));
            let body = kept(&raw);
            // Validating what is kept gives the very same contributions.
            let (id2, _, ev2) =
                validate(&body, tz).unwrap_or_else(|e| panic!("{body}: {}", e.detail()));
            let body: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(id, id2);
            assert_eq!(
                kpi_core::rollup::contrib_json(&ev.contributions()),
                kpi_core::rollup::contrib_json(&ev2.contributions()),
                "{body}"
            );
            for gone in ["email", "phone", "note", "customer", "deal"] {
                assert!(body.get(gone).is_none(), "{gone} kept in {body}");
            }
        }
    }

    #[test]
    fn fields_a_type_does_not_read_are_dropped() {
        let v = json!({"id": "l1", "type": "lead.created", "at": 1_790_000_000_000i64,
                       "source": "zalo", "user": "leak@example.com", "mrr": 5, "stage": "x"});
        let (_, raw, _) = validate(&v.to_string(), TimeZone::DEFAULT).expect("valid");
        assert_eq!(
            serde_json::from_str::<Value>(&kept(&raw)).expect("JSON"),
            json!({"id": "l1", "type": "lead.created", "at": 1_790_000_000_000i64, "source": "zalo"})
        );
    }
}
