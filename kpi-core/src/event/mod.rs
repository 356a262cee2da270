//! CRM events: the facts behind the sales, marketing, value and team KPIs, validated from
//! the wire shape of `POST /v1/events`, and what each adds to its day's rollup. Owns event
//! validation; not idempotency (the worker dedupes on `id`).
//!
//! Every event may carry an aggregated `count` (120 impressions in one fact); amounts are then
//! the total over the counted facts, while durations (from two instants) are per fact. Money is kept per currency: the currency is the cell key.
//!
//! Some KPIs are not sums over days; the event carries what makes them so:
//! - *Stocks* (open pipeline, MRR, customers) are kept as signed changes: a `deal.stage`
//!   carries the deal's `previous_amount`, a `subscription.changed` its `previous_mrr`, so the
//!   stock at the end of a period is the sum of a to-date rollup.
//! - *Distinct customers in a window* (repeat purchase rate, active customers): an
//!   `order.placed` carries the customer's two previous order instants. In a window starting
//!   on day F, a customer's first order in the window is the one whose previous order is
//!   before F, and the second is the one whose previous order is in the window and whose
//!   second-previous is before F: exactly one of each per customer, so both counts are sums of
//!   the window's rollup (key = [`crate::rollup::key::repeat`] of the two days).
//! - *Distinct CRM users* (adoption, per-rep KPIs): few per tenant, so the key is a 48-bit
//!   hash of the user id and distinct users are the keys with a count.
//!
//! These two distinct counts are kept in the totals only; every other counter also goes to each
//! segment the event carries (channel, campaign, source, stage, agent).
use alloc::string::String;
use alloc::vec::Vec;

use crate::money::Money;
use crate::period::CivilDate;
use crate::rollup::Dim;

mod contribution;
mod validate;
pub mod wire;

pub use wire::{EventType, OrderField, RawEvent, EVENT_TYPES, TYPES};

/// Largest aggregated `count` of one fact.
pub const MAX_COUNT: i64 = 1_000_000_000;

pub use crate::fact::MAX_TEXT;

/// The default pipeline of the source articles (000, 004), in order.
pub const DEFAULT_STAGES: [&str; 5] = ["interested", "consult", "demo", "negotiate", "won"];

/// What a spend paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendPurpose {
    /// Marketing and acquisition (CPL, CAC, ROI, CPC).
    Acquisition,
    /// Keeping customers (retention cost).
    Retention,
    /// Customer support (support cost ratio).
    Support,
}

/// The typed content of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// `lead.created`.
    LeadCreated {
        /// ms from creation to the first contact, when contacted.
        response_ms: Option<i64>,
    },
    /// `deal.stage`: a deal reached a stage.
    DealStage {
        /// Stage name.
        stage: String,
        /// Position in the pipeline.
        position: i64,
        /// The stage before, for the pipeline by stage.
        previous_stage: Option<String>,
        /// Amount now, and as last counted in the pipeline.
        amount: Option<(Money, Option<i64>)>,
    },
    /// `deal.won`.
    DealWon {
        /// Amount won and the amount to take out of the open pipeline.
        amount: Option<(Money, Option<i64>)>,
        /// ms from first touch to won.
        cycle_ms: Option<i64>,
    },
    /// `deal.lost`.
    DealLost {
        /// Amount lost and the amount to take out of the open pipeline.
        amount: Option<(Money, Option<i64>)>,
    },
    /// `customer.won`.
    CustomerWon,
    /// `customer.lost`.
    CustomerLost,
    /// `order.placed`.
    OrderPlaced {
        /// Order value.
        amount: Money,
        /// Local days of the customer's previous two orders.
        previous_days: (Option<i64>, Option<i64>),
        /// An existing customer buying an additional product.
        upsell: bool,
        /// Local day of the customer's previous upsell order, when known.
        previous_upsell: Option<i64>,
    },
    /// `order.cancelled`.
    OrderCancelled {
        /// The order it cancels, when the CRM names it.
        order: Option<String>,
        /// Cancelled value.
        amount: Option<Money>,
    },
    /// `subscription.changed`.
    SubscriptionChanged {
        /// MRR after the change.
        mrr: Money,
        /// MRR before (minor units, same currency).
        previous_mrr: i64,
    },
    /// `renewal.due`.
    RenewalDue,
    /// `renewal.done`.
    RenewalDone,
    /// `spend`.
    Spend {
        /// Amount spent.
        amount: Money,
        /// What it paid for.
        purpose: SpendPurpose,
    },
    /// `web.visit`.
    WebVisit {
        /// On a landing page.
        landing: bool,
    },
    /// `web.session`.
    WebSession {
        /// Pages viewed.
        pages: i64,
    },
    /// `web.conversion`: a conversion on a landing page.
    WebConversion,
    /// `ad.impression`.
    AdImpression,
    /// `ad.click`.
    AdClick,
    /// `email.delivered`.
    EmailDelivered,
    /// `email.opened`.
    EmailOpened,
    /// `email.clicked`.
    EmailClicked,
    /// `email.unsubscribed`.
    EmailUnsubscribed,
    /// `social.reach`: audience reached.
    SocialReach,
    /// `social.interaction`: likes, shares, comments, clicks.
    SocialInteraction,
    /// `appointment.proposed`.
    AppointmentProposed,
    /// `appointment.accepted`.
    AppointmentAccepted,
    /// `crm.user_active`.
    UserActive {
        /// The user.
        user: String,
    },
    /// `crm.activity`.
    Activity {
        /// The user.
        user: String,
        /// One of `key::ACTIVITY_*`.
        kind: i64,
    },
}

/// A validated CRM event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The typed content.
    pub kind: EventKind,
    /// When it happened (Unix ms).
    pub at_ms: i64,
    /// Local day of `at_ms`: the rollup day.
    pub day: CivilDate,
    /// Aggregated count, 1..=[`MAX_COUNT`].
    pub count: i64,
    segments: Vec<(Dim, String)>,
}

impl Event {
    /// The segments (dimension, value) this event counts in besides the totals.
    pub fn segments(&self) -> &[(Dim, String)] {
        &self.segments
    }
}

/// 48-bit FNV-1a hash of a user id: the [`crate::rollup::Family::ActiveUsers`] key.
pub fn user_key(user: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 16) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact::WireInstant;
    use crate::money::Currency;
    use crate::period::TimeZone;
    use crate::rollup::{key, Cell, CellKey, Family};
    use crate::FactError;
    use proptest::prelude::*;

    fn parse(json: &str) -> Result<Event, FactError> {
        let raw: RawEvent = serde_json::from_str(json).unwrap();
        Event::from_wire(&raw, TimeZone::DEFAULT)
    }

    #[test]
    fn every_type_validates_from_json() {
        for t in EVENT_TYPES {
            let json = alloc::format!(
                r#"{{"id":"e1","type":"{t}","at":"2026-11-23T10:00:00+07:00","count":2,
                   "amount":120000,"currency":"VND","mrr":50000,"pages":3,"user":"lan",
                   "kind":"call","stage":"demo","customer":"c1","source":"facebook",
                   "campaign":"tet","channel":"zalo"}}"#
            );
            let e = parse(&json).unwrap_or_else(|err| panic!("{t}: {err}"));
            assert_eq!(e.count, 2);
            assert_eq!(e.day.to_string(), "2026-11-23");
            assert!(!e.contributions().is_empty(), "{t}");
        }
    }

    #[test]
    fn every_type_name_is_written_once_and_parses_back() {
        for (i, (t, name)) in TYPES.iter().enumerate() {
            assert_eq!(EventType::parse(name), Some(*t));
            assert_eq!(t.name(), *name);
            assert_eq!(EVENT_TYPES[i], *name);
            assert!(
                TYPES[..i].iter().all(|(u, n)| u != t && n != name),
                "{name}"
            );
        }
        assert_eq!(EventType::parse("order.placed "), None);
    }

    #[test]
    fn aggregated_counts_multiply_counters_not_amounts() {
        let e =
            parse(r#"{"type":"ad.impression","at":1795000000000,"count":120,"campaign":"tet"}"#)
                .unwrap();
        let c = e.contributions();
        assert!(c.contains(&(
            CellKey::new(Family::Ads, Dim::Campaign, "tet", key::AD_IMPRESSION),
            Cell { n: 120, sum: 0 }
        )));
        let e =
            parse(r#"{"type":"spend","at":1795000000000,"count":3,"amount":900,"currency":"usd"}"#)
                .unwrap();
        assert!(e.contributions().contains(&(
            CellKey::total(Family::Spend, Currency::USD.key()),
            Cell { n: 3, sum: 900 }
        )));
    }

    #[test]
    fn invalid_events_are_typed_errors() {
        let cases = [
            (
                r#"{"type":"lead.created"}"#,
                FactError::MissingField { field: "at" },
            ),
            (r#"{"type":"nope","at":0}"#, FactError::UnknownEventType),
            (
                r#"{"type":"lead.created","at":0,"count":0}"#,
                FactError::CountOutOfRange { count: 0 },
            ),
            (
                r#"{"type":"order.placed","at":0}"#,
                FactError::MissingField { field: "amount" },
            ),
            (
                r#"{"type":"order.placed","at":0,"amount":-5}"#,
                FactError::AmountOutOfRange { amount: -5 },
            ),
            (
                r#"{"type":"spend","at":0,"amount":5,"currency":"dong"}"#,
                FactError::UnknownCurrency,
            ),
            (
                r#"{"type":"deal.stage","at":0,"stage":"pilot"}"#,
                FactError::UnknownStage,
            ),
            (
                r#"{"type":"crm.activity","at":0,"user":"a","kind":"lunch"}"#,
                FactError::InvalidText { field: "kind" },
            ),
            (
                r#"{"type":"web.session","at":0,"pages":0}"#,
                FactError::CountOutOfRange { count: 0 },
            ),
            (
                r#"{"type":"lead.created","at":1000,"first_contact_at":0}"#,
                FactError::InvalidDate,
            ),
            (
                r#"{"type":"lead.created","at":0,"channel":"fax"}"#,
                FactError::UnknownChannel,
            ),
            (
                r#"{"type":"lead.created","at":0,"campaign":""}"#,
                FactError::InvalidText { field: "campaign" },
            ),
            (
                r#"{"type":"lead.created","at":"2026-02-30T00:00:00Z"}"#,
                FactError::InvalidDate,
            ),
        ];
        for (json, err) in cases {
            assert_eq!(parse(json), Err(err), "{json}");
        }
        assert!(parse(r#"{"type":"deal.stage","at":0,"stage":"pilot","order":2}"#).is_ok());
    }

    #[test]
    fn a_cancelled_order_names_the_order_and_the_stage_position_has_its_own_name() {
        // What a CRM naturally sends: the order's id, and its amount.
        let e =
            parse(r#"{"type":"order.cancelled","at":0,"order":"O-1042","amount":250000}"#).unwrap();
        assert_eq!(
            e.kind,
            EventKind::OrderCancelled {
                order: Some("O-1042".into()),
                amount: Some(Money::new(250_000, Currency::VND).unwrap()),
            }
        );
        assert!(e.contributions().contains(&(
            CellKey::total(Family::Cancellations, Currency::VND.key()),
            Cell { n: 1, sum: 250_000 }
        )));
        // A numeric order id is an id too.
        let e = parse(r#"{"type":"order.cancelled","at":0,"order":1042}"#).unwrap();
        assert!(
            matches!(e.kind, EventKind::OrderCancelled { order: Some(ref o), amount: None } if o == "1042")
        );
        // The stage position under its own name, and under `order` as before.
        let reached = |json: &str| {
            parse(json).map(|e| match e.kind {
                EventKind::DealStage { position, .. } => position,
                _ => -1,
            })
        };
        assert_eq!(
            reached(r#"{"type":"deal.stage","at":0,"stage":"pilot","stage_position":2}"#),
            Ok(2)
        );
        assert_eq!(
            reached(r#"{"type":"deal.stage","at":0,"stage":"pilot","order":2}"#),
            Ok(2)
        );
        assert_eq!(
            reached(r#"{"type":"deal.stage","at":0,"stage":"pilot","order":"O-1"}"#),
            Err(FactError::InvalidText { field: "order" })
        );
        assert_eq!(
            reached(r#"{"type":"deal.stage","at":0,"stage":"pilot","stage_position":5000}"#),
            Err(FactError::CountOutOfRange { count: 5000 })
        );
        // The wire shape round-trips both forms of `order`.
        let raw: RawEvent = serde_json::from_str(r#"{"type":"deal.stage","order":3}"#).unwrap();
        assert_eq!(raw.order, Some(OrderField::Number(3)));
        let back = serde_json::to_string(&raw).unwrap();
        assert!(back.contains(r#""order":3"#), "{back}");
    }

    #[test]
    fn a_stage_move_moves_the_pipeline_between_stages() {
        let e = parse(
            r#"{"type":"deal.stage","at":0,"stage":"demo","previous_stage":"consult",
                "amount":700,"previous_amount":500}"#,
        )
        .unwrap();
        let c = e.contributions();
        let cur = Currency::VND.key();
        assert!(c.contains(&(
            CellKey::total(Family::Pipeline, cur),
            Cell { n: 0, sum: 200 }
        )));
        assert!(c.contains(&(
            CellKey::new(Family::Pipeline, Dim::Stage, "demo", cur),
            Cell { n: 1, sum: 700 }
        )));
        assert!(c.contains(&(
            CellKey::new(Family::Pipeline, Dim::Stage, "consult", cur),
            Cell { n: -1, sum: -500 }
        )));
    }

    proptest! {
        #[test]
        fn no_input_panics(kind in 0usize..EVENT_TYPES.len() + 1, at in any::<i64>(),
                           count in any::<i64>(), amount in any::<i64>(), prev in any::<i64>(),
                           text in "\\PC{0,200}", order in any::<i64>()) {
            let raw = RawEvent {
                kind: EVENT_TYPES.get(kind).map_or(text.clone(), |s| String::from(*s)),
                at: Some(WireInstant::Millis(at)),
                count: Some(count),
                amount: Some(amount),
                previous_amount: Some(prev),
                mrr: Some(amount),
                previous_mrr: Some(prev),
                pages: Some(count),
                stage_position: Some(order),
                order: Some(OrderField::Text(text.clone())),
                stage: Some(text.clone()),
                user: Some(text.clone()),
                campaign: Some(text.clone()),
                currency: Some(text.clone()),
                first_contact_at: Some(WireInstant::Text(text.clone())),
                previous_order_at: Some(WireInstant::Millis(prev)),
                ..RawEvent::default()
            };
            if let Ok(e) = Event::from_wire(&raw, TimeZone::DEFAULT) {
                let _ = e.contributions();
            }
        }
    }
}
