//! What a validated [`Event`] adds to its day's rollup: the counters of its type, in the
//! totals and in each segment it carries. Owns the mapping from facts to counters; not
//! validation (see [`super::validate`]).
use alloc::vec::Vec;

use super::{user_key, Event, EventKind, SpendPurpose};
use crate::fact::{Contributions, MAX_SEGMENTS};
use crate::money::Money;
use crate::rollup::{key, Cell, CellKey, Collect, Dim, Family, Sink};
use crate::sketch;

impl Event {
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
                position,
                amount,
                previous_stage,
                ..
            } => {
                c.add(Family::StageReached, *position, n);
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
                previous_upsell,
            } => {
                let cur = amount.currency.key();
                c.add(Family::Orders, cur, money(amount));
                match previous_days.0 {
                    None => c.add(Family::FirstOrders, cur, money(amount)),
                    Some(_) if *upsell => c.add(Family::Upsell, key::upsell(*previous_upsell), n),
                    Some(_) => {}
                }
                c.total(
                    Family::RepeatOrders,
                    key::repeat(previous_days.0, previous_days.1),
                    n,
                );
                c.total(
                    Family::OrderRecency,
                    key::recency(self.day.days_since_epoch(), previous_days.0),
                    n,
                );
                if c.has(Dim::Campaign) {
                    c.total(Family::CampaignRevenue, cur, money(amount));
                    c.only(Dim::Campaign, Family::CampaignRevenue, cur, money(amount));
                    c.only(Dim::Channel, Family::CampaignRevenue, cur, money(amount));
                }
            }
            EventKind::OrderCancelled { amount, .. } => {
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
