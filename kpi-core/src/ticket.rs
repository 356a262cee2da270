//! Service-desk tickets: validated timestamps and flags, and what a ticket adds to the rollup
//! of the day it opened. Owns ticket validation; not SLAs or KPIs (see [`crate::kpi`]).
//!
//! Everything a ticket contributes goes to its opening day, so that an upsert (a later call
//! fills in `resolved_at`) is one retract-and-add on one day. The backlog ("open at the end of
//! the period") is a stock, not a sum of days: the ticket records, on its opening day, the day
//! it was resolved ([`Family::TicketOpenUntil`], key = local day, or `STILL_OPEN`). The
//! backlog at the end of a period is then the tickets of a to-date rollup (every day up to
//! the period's end) whose key lies at or after the end — a sum over a few hundred counters,
//! never a scan of tickets.
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessHours;
use crate::event::MAX_COUNT;
use crate::fact::{check_instant, check_opt_text, Channel, Contributions, WireInstant};
use crate::period::{CivilDate, TimeZone};
use crate::rollup::{key, Cell, CellKey, Collect, Dim, Family, Sink};
use crate::sketch;
use crate::FactError;

/// First-response targets per channel, in seconds ([`Channel::ALL`] order), for the service
/// level. Defaults from seed 000: chat and Zalo 5 min, phone 1 min, the rest 1 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTargets(pub [u32; 7]);

impl Default for ServiceTargets {
    fn default() -> Self {
        ServiceTargets([3600, 300, 60, 300, 3600, 3600, 3600])
    }
}

impl ServiceTargets {
    /// The target of a channel, in seconds.
    pub fn of(&self, channel: Channel) -> u32 {
        let i = Channel::ALL.iter().position(|c| *c == channel).unwrap_or(6);
        self.0.get(i).copied().unwrap_or(u32::MAX)
    }
}

/// A ticket as `POST /v1/tickets` receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawTicket {
    /// The CRM's ticket id (upsert key; not used by the domain).
    #[serde(default)]
    pub id: Option<String>,
    /// Channel name.
    pub channel: String,
    /// When the ticket was opened.
    pub opened_at: WireInstant,
    /// First response by an agent.
    #[serde(default)]
    pub first_response_at: Option<WireInstant>,
    /// Resolution.
    #[serde(default)]
    pub resolved_at: Option<WireInstant>,
    /// Contacts it took. Without it the ticket does not count in first-contact resolution
    /// (unknown is not one contact).
    #[serde(default)]
    pub contacts: Option<i64>,
    /// Agent handling it.
    #[serde(default)]
    pub agent: Option<String>,
    /// Tags; `complaint` counts as a complaint.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Transferred to another agent or team. Without it the ticket does not count in the
    /// transfer rate.
    #[serde(default)]
    pub transferred: Option<bool>,
    /// Abandoned by the customer before an answer. Without it the ticket does not count in
    /// the abandonment rate.
    #[serde(default)]
    pub abandoned: Option<bool>,
}

/// A validated ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    channel: Channel,
    opened_ms: i64,
    first_response_ms: Option<i64>,
    resolved_ms: Option<i64>,
    contacts: Option<i64>,
    agent: Option<String>,
    complaint: bool,
    transferred: Option<bool>,
    abandoned: Option<bool>,
    opened_day: CivilDate,
    resolved_day: Option<i64>,
    business: Option<(Option<i64>, Option<i64>)>,
    targets: ServiceTargets,
}

impl Ticket {
    /// Validates timestamps (Unix ms): a first response or resolution before the opening is
    /// an error. `tz` places the ticket on its local days.
    pub fn new(
        channel: Channel,
        opened_ms: i64,
        first_response_ms: Option<i64>,
        resolved_ms: Option<i64>,
        tz: TimeZone,
    ) -> Result<Ticket, FactError> {
        let opened_ms = check_instant(opened_ms)?;
        let first_response_ms = first_response_ms.map(check_instant).transpose()?;
        let resolved_ms = resolved_ms.map(check_instant).transpose()?;
        if first_response_ms.is_some_and(|f| f < opened_ms) {
            return Err(FactError::FirstResponseBeforeOpening);
        }
        if resolved_ms.is_some_and(|r| r < opened_ms) {
            return Err(FactError::ResolvedBeforeOpening);
        }
        let resolved_day = resolved_ms
            .map(|r| CivilDate::day_number_of_instant(r, tz))
            .transpose()?;
        Ok(Ticket {
            channel,
            opened_ms,
            first_response_ms,
            resolved_ms,
            contacts: None,
            agent: None,
            complaint: false,
            transferred: None,
            abandoned: None,
            opened_day: CivilDate::of_instant(opened_ms, tz)?,
            resolved_day,
            business: None,
            targets: ServiceTargets::default(),
        })
    }

    /// Validates a ticket from the wire; with `hours`, durations are also measured in
    /// business time. The ticket is judged against the default first-response targets unless
    /// [`Ticket::with_service_targets`] gives the tenant's.
    pub fn from_wire(
        raw: &RawTicket,
        tz: TimeZone,
        hours: Option<&BusinessHours>,
    ) -> Result<Ticket, FactError> {
        let channel = Channel::parse(&raw.channel)?;
        let opt = |w: &Option<WireInstant>| w.as_ref().map(WireInstant::to_ms).transpose();
        let t = Ticket::new(
            channel,
            raw.opened_at.to_ms()?,
            opt(&raw.first_response_at)?,
            opt(&raw.resolved_at)?,
            tz,
        )?
        .with_agent(raw.agent.as_deref())?;
        let mut t = match raw.contacts {
            Some(c) => t.with_contacts(c)?,
            None => t,
        };
        t.complaint = raw.tags.iter().any(|t| t.eq_ignore_ascii_case("complaint"));
        t.transferred = raw.transferred;
        t.abandoned = raw.abandoned;
        Ok(match hours {
            Some(h) => t.with_business_hours(h),
            None => t,
        })
    }

    /// Sets the number of contacts (1..=[`MAX_COUNT`]).
    pub fn with_contacts(mut self, contacts: i64) -> Result<Ticket, FactError> {
        if !(1..=MAX_COUNT).contains(&contacts) {
            return Err(FactError::CountOutOfRange { count: contacts });
        }
        self.contacts = Some(contacts);
        Ok(self)
    }

    /// Sets the agent.
    pub fn with_agent(mut self, agent: Option<&str>) -> Result<Ticket, FactError> {
        self.agent = check_opt_text("agent", agent)?;
        Ok(self)
    }

    /// Sets the complaint, transferred and abandoned flags (all three known).
    pub fn with_flags(mut self, complaint: bool, transferred: bool, abandoned: bool) -> Ticket {
        self.complaint = complaint;
        self.transferred = Some(transferred);
        self.abandoned = Some(abandoned);
        self
    }

    /// Judges the first response against `targets` (the tenant's, per channel) instead of the
    /// defaults: what [`key::TICKET_SLA`] counts.
    pub fn with_service_targets(mut self, targets: ServiceTargets) -> Ticket {
        self.targets = targets;
        self
    }

    /// Also measures first response and resolution in the business hours of `hours`.
    pub fn with_business_hours(mut self, hours: &BusinessHours) -> Ticket {
        let biz = |end: Option<i64>| end.map(|e| hours.business_ms(self.opened_ms, e));
        self.business = Some((biz(self.first_response_ms), biz(self.resolved_ms)));
        self
    }

    /// The local day the ticket opened: the rollup day its contributions go to.
    pub fn day(&self) -> CivilDate {
        self.opened_day
    }

    /// First response time in ms, when answered.
    pub fn first_response_ms(&self) -> Option<i64> {
        self.first_response_ms.map(|f| f - self.opened_ms)
    }

    /// Resolution time in ms, when resolved.
    pub fn resolution_ms(&self) -> Option<i64> {
        self.resolved_ms.map(|r| r - self.opened_ms)
    }

    /// What this ticket adds to the rollup of the day it opened, in the totals, by channel
    /// and by agent.
    pub fn contribute<S: Sink>(&self, sink: &mut S) {
        let mut c = match &self.agent {
            Some(a) => Contributions::of_channel(sink, self.channel, &[(Dim::Agent, a)]),
            None => Contributions::of_channel(sink, self.channel, &[]),
        };
        let one = Cell { n: 1, sum: 0 };
        c.add(
            Family::Tickets,
            key::TICKET_OPENED,
            Cell {
                n: 1,
                sum: self.contacts.unwrap_or(0),
            },
        );
        let resolved = self.resolved_ms.is_some();
        for (flag, k) in [
            (self.complaint, key::TICKET_COMPLAINT),
            (self.transferred == Some(true), key::TICKET_TRANSFERRED),
            (self.transferred.is_none(), key::TICKET_TRANSFER_UNKNOWN),
            (self.abandoned == Some(true), key::TICKET_ABANDONED),
            (self.abandoned.is_none(), key::TICKET_ABANDON_UNKNOWN),
            (resolved, key::TICKET_RESOLVED),
            (
                resolved && self.contacts == Some(1),
                key::TICKET_RESOLVED_FIRST_CONTACT,
            ),
            (
                resolved && self.contacts.is_none(),
                key::TICKET_CONTACTS_UNKNOWN,
            ),
            (self.first_response_ms.is_some(), key::TICKET_ANSWERED),
        ] {
            if flag {
                c.add(Family::Tickets, k, one);
            }
        }
        // Durations in business time, by the calendar in force when the ticket was stored:
        // without opening hours every hour is a business hour, so a tenant that sets its
        // hours later still sees its earlier periods (measured around the clock then)
        // rather than blanks.
        let business = self
            .business
            .unwrap_or((self.first_response_ms(), self.resolution_ms()));
        // Each ticket against its own channel's target, whatever segment it is read in.
        let limit_ms = i64::from(self.targets.of(self.channel)).saturating_mul(1000);
        let within = |ms: Option<i64>| i64::from(ms.is_some_and(|ms| ms <= limit_ms));
        for (k, first) in [
            (key::TICKET_SLA, self.first_response_ms()),
            (key::TICKET_SLA_BIZ, business.0),
        ] {
            c.add(
                Family::Tickets,
                k,
                Cell {
                    n: 1,
                    sum: within(first),
                },
            );
        }
        for (family, ms) in [
            (Family::FirstResponse, self.first_response_ms()),
            (Family::Resolution, self.resolution_ms()),
            (Family::FirstResponseBiz, business.0),
            (Family::ResolutionBiz, business.1),
        ] {
            if let Some(ms) = ms {
                c.add(family, sketch::bucket(ms), Cell { n: 1, sum: ms });
            }
        }
        c.add(
            Family::TicketOpenUntil,
            self.resolved_day.unwrap_or(key::STILL_OPEN),
            one,
        );
    }

    /// [`Ticket::contribute`] as a list.
    pub fn contributions(&self) -> Vec<(CellKey, Cell)> {
        let mut c = Collect::default();
        self.contribute(&mut c);
        c.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::parse_rfc3339;

    fn raw(opened: &str, first: Option<&str>, resolved: Option<&str>) -> RawTicket {
        RawTicket {
            id: Some("T-1".into()),
            channel: "chat".into(),
            opened_at: WireInstant::Text(opened.into()),
            first_response_at: first.map(|s| WireInstant::Text(s.into())),
            resolved_at: resolved.map(|s| WireInstant::Text(s.into())),
            contacts: None,
            agent: Some("lan".into()),
            tags: alloc::vec!["complaint".into()],
            transferred: Some(false),
            abandoned: None,
        }
    }

    #[test]
    fn timestamps_out_of_order_are_typed_errors() {
        let tz = TimeZone::DEFAULT;
        let r = raw("2026-11-23T10:00:00Z", Some("2026-11-23T09:00:00Z"), None);
        assert_eq!(
            Ticket::from_wire(&r, tz, None),
            Err(FactError::FirstResponseBeforeOpening)
        );
        let r = raw("2026-11-23T10:00:00Z", None, Some("2026-11-23T09:59:59Z"));
        assert_eq!(
            Ticket::from_wire(&r, tz, None),
            Err(FactError::ResolvedBeforeOpening)
        );
        let mut r = raw("2026-11-23T10:00:00Z", None, None);
        r.contacts = Some(0);
        assert!(Ticket::from_wire(&r, tz, None).is_err());
        r.contacts = None;
        r.channel = "fax".into();
        assert_eq!(
            Ticket::from_wire(&r, tz, None),
            Err(FactError::UnknownChannel)
        );
        r.channel = "chat".into();
        r.opened_at = WireInstant::Millis(-1);
        assert_eq!(Ticket::from_wire(&r, tz, None), Err(FactError::InvalidDate));
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(opened in -1i64..253_402_400_000_000, first in -1i64..253_402_400_000_000,
                           resolved in -1i64..253_402_400_000_000, contacts in proptest::num::i64::ANY,
                           text in "\\PC{0,140}") {
            let raw = RawTicket {
                id: Some(text.clone()),
                channel: text.clone(),
                opened_at: WireInstant::Millis(opened),
                first_response_at: Some(WireInstant::Millis(first)),
                resolved_at: Some(WireInstant::Text(text.clone())),
                contacts: Some(contacts),
                agent: Some(text.clone()),
                tags: alloc::vec![text.clone()],
                transferred: Some(true),
                abandoned: None,
            };
            let _ = Ticket::from_wire(&raw, TimeZone::DEFAULT, None);
            let hours = crate::calendar::BusinessHours::weekdays(TimeZone::DEFAULT, &[(480, 1020)], true)
                .unwrap();
            if let Ok(t) = Ticket::new(Channel::Chat, opened, Some(first), Some(resolved), TimeZone::DEFAULT) {
                let _ = t.with_business_hours(&hours).contributions();
            }
        }
    }

    #[test]
    fn ticket_contributes_to_its_opening_day() {
        let r = raw(
            "2026-11-23T10:00:00Z",
            Some("2026-11-23T10:04:30Z"),
            Some("2026-11-25T10:00:00Z"),
        );
        let t = Ticket::from_wire(&r, TimeZone::DEFAULT, None).unwrap();
        assert_eq!(t.first_response_ms(), Some(270_000));
        assert_eq!(t.day().to_string(), "2026-11-23");
        let c = t.contributions();
        let resolved_day = CivilDate::of_instant(
            parse_rfc3339("2026-11-25T10:00:00Z").unwrap(),
            TimeZone::DEFAULT,
        )
        .unwrap()
        .days_since_epoch();
        assert!(c.contains(&(
            CellKey::total(Family::TicketOpenUntil, resolved_day),
            Cell { n: 1, sum: 0 }
        )));
        assert!(c.contains(&(
            CellKey::new(Family::Tickets, Dim::Agent, "lan", key::TICKET_COMPLAINT),
            Cell { n: 1, sum: 0 }
        )));
    }
}
