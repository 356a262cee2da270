//! Validation: a [`RawEvent`] becomes an [`Event`] or a typed [`FactError`]; the fields each
//! type needs, their ranges, and the segments the event counts in. Owns the rules; not the
//! counters an event adds (see [`super::contribution`]).
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::wire::{EventType, OrderField, RawEvent};
use super::{Event, EventKind, SpendPurpose, DEFAULT_STAGES, MAX_COUNT};
use crate::fact::{check_opt_text, check_text, Channel, WireInstant};
use crate::money::{Currency, Money};
use crate::period::{CivilDate, TimeZone};
use crate::rollup::{key, Dim};
use crate::FactError;

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
        let ty = EventType::parse(&raw.kind).ok_or(FactError::UnknownEventType)?;
        let kind = match ty {
            EventType::LeadCreated => EventKind::LeadCreated {
                response_ms: since_after(at_ms, &raw.first_contact_at)?,
            },
            EventType::DealStage => {
                let stage = check_text("stage", &need(&raw.stage, "stage")?)?;
                let position = match (raw.stage_position, &raw.order) {
                    (Some(p), _) => Some(p),
                    (None, Some(OrderField::Number(p))) => Some(*p),
                    (None, Some(OrderField::Text(_))) => {
                        return Err(FactError::InvalidText { field: "order" })
                    }
                    (None, None) => None,
                };
                let position = match position {
                    Some(o) if (0..=1000).contains(&o) => o,
                    Some(o) => return Err(FactError::CountOutOfRange { count: o }),
                    None => DEFAULT_STAGES
                        .iter()
                        .position(|s| s.eq_ignore_ascii_case(&stage))
                        .ok_or(FactError::UnknownStage)? as i64,
                };
                EventKind::DealStage {
                    stage,
                    position,
                    previous_stage: check_opt_text(
                        "previous_stage",
                        raw.previous_stage.as_deref(),
                    )?,
                    amount: deal_amount(raw)?,
                }
            }
            EventType::DealWon => EventKind::DealWon {
                amount: deal_amount(raw)?,
                cycle_ms: since(at_ms, &raw.first_touch_at)?,
            },
            EventType::DealLost => EventKind::DealLost {
                amount: deal_amount(raw)?,
            },
            EventType::CustomerWon => EventKind::CustomerWon,
            EventType::CustomerLost => EventKind::CustomerLost,
            EventType::OrderPlaced => {
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
                let upsell = raw.upsell.unwrap_or(false);
                let previous_upsell = match upsell {
                    true => local_day(&raw.previous_upsell_at)?,
                    false => None,
                };
                if previous_upsell.is_some_and(|p| p > day.days_since_epoch()) {
                    return Err(FactError::InvalidDate);
                }
                EventKind::OrderPlaced {
                    amount: money(raw, need(&raw.amount, "amount")?)?,
                    previous_days: (previous, second),
                    upsell,
                    previous_upsell,
                }
            }
            EventType::OrderCancelled => EventKind::OrderCancelled {
                order: match &raw.order {
                    Some(OrderField::Text(id)) => Some(check_text("order", id)?),
                    Some(OrderField::Number(id)) => Some(id.to_string()),
                    None => None,
                },
                amount: raw.amount.map(|a| money(raw, a)).transpose()?,
            },
            EventType::SubscriptionChanged => {
                let mrr = money(raw, need(&raw.mrr, "mrr")?)?;
                let previous_mrr = Money::new(raw.previous_mrr.unwrap_or(0), mrr.currency)?.minor;
                EventKind::SubscriptionChanged { mrr, previous_mrr }
            }
            EventType::RenewalDue => EventKind::RenewalDue,
            EventType::RenewalDone => EventKind::RenewalDone,
            EventType::Spend => EventKind::Spend {
                amount: money(raw, need(&raw.amount, "amount")?)?,
                purpose: match raw.purpose.as_deref() {
                    None | Some("acquisition") | Some("marketing") => SpendPurpose::Acquisition,
                    Some("retention") => SpendPurpose::Retention,
                    Some("support") => SpendPurpose::Support,
                    Some(_) => return Err(FactError::InvalidText { field: "purpose" }),
                },
            },
            EventType::WebVisit => EventKind::WebVisit {
                landing: raw.landing.unwrap_or(false),
            },
            EventType::WebSession => {
                let pages = need(&raw.pages, "pages")?;
                if !(1..=MAX_COUNT).contains(&pages) {
                    return Err(FactError::CountOutOfRange { count: pages });
                }
                EventKind::WebSession { pages }
            }
            EventType::WebConversion => EventKind::WebConversion,
            EventType::AdImpression => EventKind::AdImpression,
            EventType::AdClick => EventKind::AdClick,
            EventType::EmailDelivered => EventKind::EmailDelivered,
            EventType::EmailOpened => EventKind::EmailOpened,
            EventType::EmailClicked => EventKind::EmailClicked,
            EventType::EmailUnsubscribed => EventKind::EmailUnsubscribed,
            EventType::SocialReach => EventKind::SocialReach,
            EventType::SocialInteraction => EventKind::SocialInteraction,
            EventType::AppointmentProposed => EventKind::AppointmentProposed,
            EventType::AppointmentAccepted => EventKind::AppointmentAccepted,
            EventType::UserActive => EventKind::UserActive {
                user: check_text("user", &need(&raw.user, "user")?)?,
            },
            EventType::Activity => EventKind::Activity {
                user: check_text("user", &need(&raw.user, "user")?)?,
                kind: match raw.activity.as_deref() {
                    Some("call") => key::ACTIVITY_CALL,
                    Some("email") => key::ACTIVITY_EMAIL,
                    Some("meeting") => key::ACTIVITY_MEETING,
                    Some(_) => return Err(FactError::InvalidText { field: "kind" }),
                    None => return Err(FactError::MissingField { field: "kind" }),
                },
            },
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
