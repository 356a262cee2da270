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
//!   the window's rollup (key = [`key::repeat`] of the two days).
//! - *Distinct CRM users* (adoption, per-rep KPIs): few per tenant, so the key is a 48-bit
//!   hash of the user id and distinct users are the keys with a count.
//!
//! These two distinct counts are kept in the totals only; every other counter also goes to each
//! segment the event carries (channel, campaign, source, stage, agent).
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::fact::{check_opt_text, check_text, Channel, Contributions, WireInstant, MAX_SEGMENTS};
use crate::money::{Currency, Money};
use crate::period::{CivilDate, TimeZone};
use crate::rollup::{key, Cell, CellKey, Collect, Dim, Family, Sink};
use crate::sketch;
use crate::FactError;

/// Largest aggregated `count` of one fact.
pub const MAX_COUNT: i64 = 1_000_000_000;

pub use crate::fact::MAX_TEXT;

/// The default pipeline of the source articles (000, 004), in order.
pub const DEFAULT_STAGES: [&str; 5] = ["interested", "consult", "demo", "negotiate", "won"];

/// An event as `POST /v1/events` receives it: `type`, `at` and the fields of its type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawEvent {
    /// Unique per tenant (idempotency key; not used by the domain).
    pub id: Option<String>,
    /// Event type, e.g. `order.placed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: Option<WireInstant>,
    /// Aggregated count (default 1).
    pub count: Option<i64>,
    /// Lead source.
    pub source: Option<String>,
    /// Marketing campaign.
    pub campaign: Option<String>,
    /// Channel name.
    pub channel: Option<String>,
    /// Deal id.
    pub deal: Option<String>,
    /// Pipeline stage.
    pub stage: Option<String>,
    /// The stage's position in the tenant's pipeline (needed outside [`DEFAULT_STAGES`]).
    pub order: Option<i64>,
    /// The stage the deal was at before.
    pub previous_stage: Option<String>,
    /// Amount in minor units.
    pub amount: Option<i64>,
    /// The deal's amount as last counted in the open pipeline (minor units).
    pub previous_amount: Option<i64>,
    /// ISO 4217 currency of the amounts (default VND).
    pub currency: Option<String>,
    /// Customer id.
    pub customer: Option<String>,
    /// The customer's monthly recurring revenue after the change (minor units).
    pub mrr: Option<i64>,
    /// The customer's MRR before the change (default 0: a new subscription).
    pub previous_mrr: Option<i64>,
    /// Pages viewed in a session.
    pub pages: Option<i64>,
    /// CRM user.
    pub user: Option<String>,
    /// Activity kind: `call`, `email` or `meeting`.
    #[serde(rename = "kind")]
    pub activity: Option<String>,
    /// Agent or sales rep.
    pub agent: Option<String>,
    /// Lead: first contact by the business.
    pub first_contact_at: Option<WireInstant>,
    /// Won deal: first touch.
    pub first_touch_at: Option<WireInstant>,
    /// Order: the customer's previous order.
    pub previous_order_at: Option<WireInstant>,
    /// Order: the customer's order before the previous one.
    pub second_previous_order_at: Option<WireInstant>,
    /// Visit: the page is a landing page.
    pub landing: Option<bool>,
    /// Order: an existing customer buying an additional product.
    pub upsell: Option<bool>,
    /// Spend: `acquisition` (default), `retention` or `support`.
    pub purpose: Option<String>,
}

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
        order: i64,
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
    },
    /// `order.cancelled`.
    OrderCancelled {
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

/// Every event type's wire name.
pub const EVENT_TYPES: [&str; 27] = [
    "lead.created",
    "deal.stage",
    "deal.won",
    "deal.lost",
    "customer.won",
    "customer.lost",
    "order.placed",
    "order.cancelled",
    "subscription.changed",
    "renewal.due",
    "renewal.done",
    "spend",
    "web.visit",
    "web.session",
    "web.conversion",
    "ad.impression",
    "ad.click",
    "email.delivered",
    "email.opened",
    "email.clicked",
    "email.unsubscribed",
    "social.reach",
    "social.interaction",
    "appointment.proposed",
    "appointment.accepted",
    "crm.user_active",
    "crm.activity",
];

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

fn money(raw: &RawEvent, minor: i64) -> Result<Money, FactError> {
    let currency = match &raw.currency {
        Some(c) => Currency::parse(c)?,
        None => Currency::VND,
    };
    Money::new(minor, currency)
}

fn need<T: Clone>(v: &Option<T>, field: &'static str) -> Result<T, FactError> {
    v.clone().ok_or(FactError::MissingField { field })
}

fn since(at: i64, from: &Option<WireInstant>) -> Result<Option<i64>, FactError> {
    Ok(match from {
        Some(w) => Some(
            at.checked_sub(w.to_ms()?)
                .filter(|d| *d >= 0)
                .ok_or(FactError::InvalidDate)?,
        ),
        None => None,
    })
}

fn deal_amount(raw: &RawEvent) -> Result<Option<(Money, Option<i64>)>, FactError> {
    let Some(a) = raw.amount else {
        return Ok(None);
    };
    let m = money(raw, a)?;
    let prev = raw
        .previous_amount
        .map(|p| Money::new(p, m.currency).map(|p| p.minor))
        .transpose()?;
    Ok(Some((m, prev)))
}

/// 48-bit FNV-1a hash of a user id: the [`Family::ActiveUsers`] key.
pub fn user_key(user: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 16) as i64
}

impl Event {
    /// Validates a wire event; `tz` places it (and the previous orders it names) on local days.
    pub fn from_wire(raw: &RawEvent, tz: TimeZone) -> Result<Event, FactError> {
        let at_ms = need(&raw.at, "at")?.to_ms()?;
        let day = CivilDate::of_instant(at_ms, tz)?;
        let count = raw.count.unwrap_or(1);
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(FactError::CountOutOfRange { count });
        }
        let local_day = |w: &Option<WireInstant>| -> Result<Option<i64>, FactError> {
            w.as_ref()
                .map(|w| Ok(CivilDate::of_instant(w.to_ms()?, tz)?.days_since_epoch()))
                .transpose()
        };
        let kind = match raw.kind.as_str() {
            "lead.created" => EventKind::LeadCreated {
                response_ms: since_after(at_ms, &raw.first_contact_at)?,
            },
            "deal.stage" => {
                let stage = check_text("stage", &need(&raw.stage, "stage")?)?;
                let order = match raw.order {
                    Some(o) if (0..=1000).contains(&o) => o,
                    Some(o) => return Err(FactError::CountOutOfRange { count: o }),
                    None => DEFAULT_STAGES
                        .iter()
                        .position(|s| s.eq_ignore_ascii_case(&stage))
                        .ok_or(FactError::UnknownStage)? as i64,
                };
                EventKind::DealStage {
                    stage,
                    order,
                    previous_stage: check_opt_text(
                        "previous_stage",
                        raw.previous_stage.as_deref(),
                    )?,
                    amount: deal_amount(raw)?,
                }
            }
            "deal.won" => EventKind::DealWon {
                amount: deal_amount(raw)?,
                cycle_ms: since(at_ms, &raw.first_touch_at)?,
            },
            "deal.lost" => EventKind::DealLost {
                amount: deal_amount(raw)?,
            },
            "customer.won" => EventKind::CustomerWon,
            "customer.lost" => EventKind::CustomerLost,
            "order.placed" => {
                let previous = local_day(&raw.previous_order_at)?;
                let second = match previous {
                    Some(_) => local_day(&raw.second_previous_order_at)?,
                    None => None,
                };
                // Previous orders come before this one, the second-previous before the previous.
                if previous.is_some_and(|p| p > day.days_since_epoch())
                    || second.zip(previous).is_some_and(|(s, p)| s > p)
                {
                    return Err(FactError::InvalidDate);
                }
                EventKind::OrderPlaced {
                    amount: money(raw, need(&raw.amount, "amount")?)?,
                    previous_days: (previous, second),
                    upsell: raw.upsell.unwrap_or(false),
                }
            }
            "order.cancelled" => EventKind::OrderCancelled {
                amount: raw.amount.map(|a| money(raw, a)).transpose()?,
            },
            "subscription.changed" => {
                let mrr = money(raw, need(&raw.mrr, "mrr")?)?;
                let previous_mrr = Money::new(raw.previous_mrr.unwrap_or(0), mrr.currency)?.minor;
                EventKind::SubscriptionChanged { mrr, previous_mrr }
            }
            "renewal.due" => EventKind::RenewalDue,
            "renewal.done" => EventKind::RenewalDone,
            "spend" => EventKind::Spend {
                amount: money(raw, need(&raw.amount, "amount")?)?,
                purpose: match raw.purpose.as_deref() {
                    None | Some("acquisition") | Some("marketing") => SpendPurpose::Acquisition,
                    Some("retention") => SpendPurpose::Retention,
                    Some("support") => SpendPurpose::Support,
                    Some(_) => return Err(FactError::InvalidText { field: "purpose" }),
                },
            },
            "web.visit" => EventKind::WebVisit {
                landing: raw.landing.unwrap_or(false),
            },
            "web.session" => {
                let pages = need(&raw.pages, "pages")?;
                if !(1..=MAX_COUNT).contains(&pages) {
                    return Err(FactError::CountOutOfRange { count: pages });
                }
                EventKind::WebSession { pages }
            }
            "web.conversion" => EventKind::WebConversion,
            "ad.impression" => EventKind::AdImpression,
            "ad.click" => EventKind::AdClick,
            "email.delivered" => EventKind::EmailDelivered,
            "email.opened" => EventKind::EmailOpened,
            "email.clicked" => EventKind::EmailClicked,
            "email.unsubscribed" => EventKind::EmailUnsubscribed,
            "social.reach" => EventKind::SocialReach,
            "social.interaction" => EventKind::SocialInteraction,
            "appointment.proposed" => EventKind::AppointmentProposed,
            "appointment.accepted" => EventKind::AppointmentAccepted,
            "crm.user_active" => EventKind::UserActive {
                user: check_text("user", &need(&raw.user, "user")?)?,
            },
            "crm.activity" => EventKind::Activity {
                user: check_text("user", &need(&raw.user, "user")?)?,
                kind: match raw.activity.as_deref() {
                    Some("call") => key::ACTIVITY_CALL,
                    Some("email") => key::ACTIVITY_EMAIL,
                    Some("meeting") => key::ACTIVITY_MEETING,
                    Some(_) => return Err(FactError::InvalidText { field: "kind" }),
                    None => return Err(FactError::MissingField { field: "kind" }),
                },
            },
            _ => return Err(FactError::UnknownEventType),
        };
        let mut segments = Vec::new();
        if let Some(c) = &raw.channel {
            segments.push((Dim::Channel, String::from(Channel::parse(c)?.as_str())));
        }
        for (dim, field, v) in [
            (Dim::Campaign, "campaign", &raw.campaign),
            (Dim::Source, "source", &raw.source),
            (Dim::Agent, "agent", &raw.agent),
        ] {
            if let Some(v) = v {
                segments.push((dim, check_text(field, v)?));
            }
        }
        match &kind {
            EventKind::DealStage { stage, .. } => segments.push((Dim::Stage, stage.clone())),
            // A closed deal counts at the stage it closed from, and leaves that stage's pipeline.
            EventKind::DealWon { .. } | EventKind::DealLost { .. } => {
                if let Some(ps) = check_opt_text("previous_stage", raw.previous_stage.as_deref())? {
                    segments.push((Dim::Stage, ps));
                }
            }
            _ => {}
        }
        if let EventKind::Activity { user, .. } = &kind {
            if raw.agent.is_none() {
                segments.push((Dim::Agent, user.clone()));
            }
        }
        Ok(Event {
            kind,
            at_ms,
            day,
            count,
            segments,
        })
    }

    /// The segments (dimension, value) this event counts in besides the totals.
    pub fn segments(&self) -> &[(Dim, String)] {
        &self.segments
    }

    /// [`Event::contribute`] as a list.
    pub fn contributions(&self) -> Vec<(CellKey, Cell)> {
        let mut c = Collect::default();
        self.contribute(&mut c);
        c.out
    }

    /// What this event adds to its day's rollup, `count` times.
    pub fn contribute<S: Sink>(&self, sink: &mut S) {
        let k = self.count;
        let n = Cell { n: k, sum: 0 };
        let mut names: [(Dim, &str); MAX_SEGMENTS] = [(Dim::All, ""); MAX_SEGMENTS];
        let len = self.segments.len().min(MAX_SEGMENTS);
        for (slot, (d, s)) in names.iter_mut().zip(&self.segments) {
            *slot = (*d, s.as_str());
        }
        let mut c = Contributions::new(sink, &names[..len]);
        let money = |m: &Money| Cell { n: k, sum: m.minor };
        match &self.kind {
            EventKind::LeadCreated { response_ms } => {
                c.add(Family::Leads, 0, n);
                if let Some(ms) = response_ms {
                    c.add(
                        Family::LeadResponse,
                        sketch::bucket(*ms),
                        Cell {
                            n: k,
                            sum: ms.saturating_mul(k),
                        },
                    );
                }
            }
            EventKind::DealStage {
                order,
                amount,
                previous_stage,
                ..
            } => {
                c.add(Family::StageReached, *order, n);
                if let Some((m, prev)) = amount {
                    let cell = Cell {
                        n: if prev.is_none() { k } else { 0 },
                        sum: m.minor.saturating_sub(prev.unwrap_or(0)),
                    };
                    let cur = m.currency.key();
                    c.total(Family::Pipeline, cur, cell);
                    c.except(Dim::Stage, Family::Pipeline, cur, cell);
                    // By stage, the deal moves: in at its stage, out of the one it was counted at.
                    if let Some(stage) = self.stage() {
                        c.segment(
                            Family::Pipeline,
                            Dim::Stage,
                            stage,
                            cur,
                            Cell { n: k, sum: m.minor },
                        );
                        if let Some(p) = prev {
                            let from = previous_stage.as_deref().unwrap_or(stage);
                            c.segment(
                                Family::Pipeline,
                                Dim::Stage,
                                from,
                                cur,
                                Cell {
                                    n: k.saturating_neg(),
                                    sum: p.saturating_neg(),
                                },
                            );
                        }
                    }
                }
            }
            EventKind::DealWon { amount, cycle_ms } => {
                deal_closed(&mut c, Family::DealsWon, amount, k);
                if let Some(ms) = cycle_ms {
                    c.add(
                        Family::SalesCycle,
                        sketch::bucket(*ms),
                        Cell {
                            n: k,
                            sum: ms.saturating_mul(k),
                        },
                    );
                }
            }
            EventKind::DealLost { amount } => deal_closed(&mut c, Family::DealsLost, amount, k),
            EventKind::CustomerWon => c.add(Family::Customers, key::CUSTOMER_WON, n),
            EventKind::CustomerLost => c.add(Family::Customers, key::CUSTOMER_LOST, n),
            EventKind::OrderPlaced {
                amount,
                previous_days,
                upsell,
            } => {
                let cur = amount.currency.key();
                c.add(Family::Orders, cur, money(amount));
                match previous_days.0 {
                    None => c.add(Family::FirstOrders, cur, money(amount)),
                    Some(_) if *upsell => c.add(Family::Upsell, 0, n),
                    Some(_) => {}
                }
                c.total(
                    Family::RepeatOrders,
                    key::repeat(previous_days.0, previous_days.1),
                    n,
                );
                if c.has(Dim::Campaign) {
                    c.total(Family::CampaignRevenue, cur, money(amount));
                    c.only(Dim::Campaign, Family::CampaignRevenue, cur, money(amount));
                    c.only(Dim::Channel, Family::CampaignRevenue, cur, money(amount));
                }
            }
            EventKind::OrderCancelled { amount } => {
                let (cur, cell) = match amount {
                    Some(m) => (m.currency.key(), money(m)),
                    None => (0, n),
                };
                c.add(Family::Cancellations, cur, cell);
            }
            EventKind::SubscriptionChanged { mrr, previous_mrr } => {
                let cur = mrr.currency.key();
                let subs = match (*previous_mrr > 0, mrr.minor > 0) {
                    (false, true) => k,
                    (true, false) => -k,
                    _ => 0,
                };
                let delta = mrr.minor.saturating_sub(*previous_mrr);
                c.add(
                    Family::Mrr,
                    cur,
                    Cell {
                        n: subs,
                        sum: delta,
                    },
                );
                if *previous_mrr > 0 && delta > 0 {
                    c.add(Family::ExpansionMrr, cur, Cell { n: k, sum: delta });
                }
            }
            EventKind::RenewalDue => c.add(Family::Renewals, key::RENEWAL_DUE, n),
            EventKind::RenewalDone => c.add(Family::Renewals, key::RENEWAL_DONE, n),
            EventKind::Spend { amount, purpose } => {
                let family = match purpose {
                    SpendPurpose::Acquisition => Family::Spend,
                    SpendPurpose::Retention => Family::RetentionSpend,
                    SpendPurpose::Support => Family::SupportSpend,
                };
                c.add(family, amount.currency.key(), money(amount));
            }
            EventKind::WebVisit { landing } => {
                c.add(Family::Web, key::WEB_VISIT, n);
                if *landing {
                    c.add(Family::Web, key::WEB_LANDING_VISIT, n);
                }
            }
            EventKind::WebSession { pages } => {
                c.add(Family::Web, key::WEB_SESSION, n);
                if *pages == 1 {
                    c.add(Family::Web, key::WEB_BOUNCE, n);
                }
            }
            EventKind::WebConversion => c.add(Family::Web, key::WEB_CONVERSION, n),
            EventKind::AdImpression => c.add(Family::Ads, key::AD_IMPRESSION, n),
            EventKind::AdClick => c.add(Family::Ads, key::AD_CLICK, n),
            EventKind::EmailDelivered => c.add(Family::Email, key::EMAIL_DELIVERED, n),
            EventKind::EmailOpened => c.add(Family::Email, key::EMAIL_OPENED, n),
            EventKind::EmailClicked => c.add(Family::Email, key::EMAIL_CLICKED, n),
            EventKind::EmailUnsubscribed => c.add(Family::Email, key::EMAIL_UNSUBSCRIBED, n),
            EventKind::SocialReach => c.add(Family::Social, key::SOCIAL_REACH, n),
            EventKind::SocialInteraction => c.add(Family::Social, key::SOCIAL_INTERACTION, n),
            EventKind::AppointmentProposed => {
                c.add(Family::Appointments, key::APPOINTMENT_PROPOSED, n)
            }
            EventKind::AppointmentAccepted => {
                c.add(Family::Appointments, key::APPOINTMENT_ACCEPTED, n)
            }
            EventKind::UserActive { user } => c.total(Family::ActiveUsers, user_key(user), n),
            EventKind::Activity { user, kind } => {
                c.add(Family::Activities, *kind, n);
                c.total(Family::ActiveUsers, user_key(user), n);
            }
        }
    }

    fn stage(&self) -> Option<&str> {
        match &self.kind {
            EventKind::DealStage { stage, .. } => Some(stage),
            _ => None,
        }
    }
}

fn since_after(at: i64, later: &Option<WireInstant>) -> Result<Option<i64>, FactError> {
    Ok(match later {
        Some(w) => Some(
            w.to_ms()?
                .checked_sub(at)
                .filter(|d| *d >= 0)
                .ok_or(FactError::InvalidDate)?,
        ),
        None => None,
    })
}

fn deal_closed<S: Sink>(
    c: &mut Contributions<S>,
    family: Family,
    amount: &Option<(Money, Option<i64>)>,
    k: i64,
) {
    match amount {
        Some((m, prev)) => {
            let cur = m.currency.key();
            c.add(family, cur, Cell { n: k, sum: m.minor });
            if let Some(p) = prev {
                c.add(
                    Family::Pipeline,
                    cur,
                    Cell {
                        n: k.saturating_neg(),
                        sum: p.saturating_neg(),
                    },
                );
            }
        }
        None => c.add(family, 0, Cell { n: k, sum: 0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
                order: Some(order),
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
