//! Opening balances: what a business already had when it started sending events — customers,
//! open tickets, recurring revenue — so that its first churn, backlog and MRR are not computed
//! as if it had started from nothing. Counted at the end of the day before `as_of`, in the
//! stock families only: a customer of the opening balance is never a customer *won*.
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::event::MAX_COUNT;
use crate::money::{Currency, Money};
use crate::period::CivilDate;
use crate::rollup::{key, Cell, CellKey, Collect, Dim, Family, SegId, Sink};
use crate::FactError;

/// Opening balances as `PATCH /v1/settings` receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpening {
    /// The first day the balances hold for, `YYYY-MM-DD`.
    pub as_of: String,
    /// Customers at the start of `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customers: Option<i64>,
    /// Tickets open at the start of `as_of` that the CRM will not send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_tickets: Option<i64>,
    /// Monthly recurring revenue at the start of `as_of`, in minor units of `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrr: Option<i64>,
    /// Active subscriptions behind `mrr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<i64>,
    /// ISO 4217 currency of `mrr` (default VND).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Validated opening balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    as_of: CivilDate,
    customers: i64,
    open_tickets: i64,
    mrr: Option<Money>,
    subscriptions: i64,
}

fn count(v: Option<i64>) -> Result<i64, FactError> {
    match v {
        Some(n) if !(0..=MAX_COUNT).contains(&n) => Err(FactError::CountOutOfRange { count: n }),
        Some(n) => Ok(n),
        None => Ok(0),
    }
}

impl Opening {
    /// Validates balances: counts `0..=MAX_COUNT`, an amount within [`Money::MAX`], a real day.
    pub fn from_wire(raw: &RawOpening) -> Result<Opening, FactError> {
        let as_of = CivilDate::parse(&raw.as_of)?;
        let currency = match &raw.currency {
            Some(c) => Currency::parse(c)?,
            None => Currency::VND,
        };
        Ok(Opening {
            as_of,
            customers: count(raw.customers)?,
            open_tickets: count(raw.open_tickets)?,
            mrr: raw.mrr.map(|m| Money::new(m, currency)).transpose()?,
            subscriptions: count(raw.subscriptions)?,
        })
    }

    /// The day the balances count on: the one before `as_of`, so a period starting on
    /// `as_of` starts with them.
    pub fn day(&self) -> Result<CivilDate, FactError> {
        self.as_of.add_days(-1)
    }

    /// The balances as counters of the stock families, in the totals.
    pub fn contribute<S: Sink>(&self, sink: &mut S) {
        let none = SegId::NONE;
        if self.customers > 0 {
            let c = Cell {
                n: self.customers,
                sum: 0,
            };
            sink.put(Family::Customers, Dim::All, none, key::CUSTOMER_OPENING, c);
        }
        if self.open_tickets > 0 {
            let c = Cell {
                n: self.open_tickets,
                sum: 0,
            };
            sink.put(Family::TicketOpenUntil, Dim::All, none, key::STILL_OPEN, c);
        }
        if let Some(m) = self.mrr {
            let c = Cell {
                n: self.subscriptions,
                sum: m.minor,
            };
            sink.put(Family::Mrr, Dim::All, none, m.currency.key(), c);
        }
    }

    /// [`Opening::contribute`] as a list.
    pub fn contributions(&self) -> Vec<(CellKey, Cell)> {
        let mut c = Collect::default();
        self.contribute(&mut c);
        c.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_count_the_day_before_and_validate() {
        let raw = RawOpening {
            as_of: "2026-01-01".into(),
            customers: Some(800),
            open_tickets: Some(12),
            mrr: Some(150_000_000),
            subscriptions: Some(40),
            currency: None,
        };
        let o = Opening::from_wire(&raw).unwrap();
        assert_eq!(o.day().unwrap().to_string(), "2025-12-31");
        let c = o.contributions();
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[0],
            (
                CellKey::total(Family::Customers, key::CUSTOMER_OPENING),
                Cell { n: 800, sum: 0 }
            )
        );
        for bad in [
            RawOpening {
                as_of: "2026-02-30".into(),
                ..RawOpening::default()
            },
            RawOpening {
                customers: Some(-1),
                ..raw.clone()
            },
            RawOpening {
                mrr: Some(-5),
                ..raw.clone()
            },
            RawOpening {
                currency: Some("V1".into()),
                ..raw.clone()
            },
        ] {
            assert!(Opening::from_wire(&bad).is_err(), "{bad:?}");
        }
    }
}
