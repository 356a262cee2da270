//! Per-day rollups: sparse maps of integer counters keyed by (family, segment, key).
//!
//! A rollup is a commutative monoid under pointwise addition, so the rollup of any period is the
//! merge of its days, and a storage layer can keep each counter as one row updated atomically
//! (`n = n + ?`). Integers only: merging is exact and identical on every target.
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// What kind of fact a counter counts; each KPI reads the families it needs.
///
/// The storage codes ([`Family::as_str`]) and ids ([`Family::id`]) are stored in D1 and in
/// encoded rollups: never change or reuse one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Family {
    /// NPS answers; key = score 0–10.
    Nps,
    /// CSAT answers on a 5-point scale; key = score 1–5.
    Csat5,
    /// CSAT answers on a 10-point scale; key = score 1–10.
    Csat10,
    /// CES answers on a 7-point scale; key = score 1–7.
    Ces,
    /// Survey answers carrying a comment; key = 0.
    Comments,
    /// Survey links issued; key = 0.
    LinksIssued,
    /// Ticket counts on the day the ticket opened; key = one of [`key`]`::TICKET_*`, `sum` = contacts for `TICKET_OPENED`.
    Tickets,
    /// First response time sketch, calendar time; key = [`crate::sketch`] bucket, `sum` = ms.
    FirstResponse,
    /// Resolution time sketch, calendar time; key = bucket, `sum` = ms.
    Resolution,
    /// First response time sketch in business hours; key = bucket, `sum` = ms.
    FirstResponseBiz,
    /// Resolution time sketch in business hours; key = bucket, `sum` = ms.
    ResolutionBiz,
    /// Tickets by the local day they were resolved (days since 1970-01-01, [`key::STILL_OPEN`] when unresolved), counted on the day they opened: the backlog at any day follows from a to-date rollup.
    TicketOpenUntil,
    /// Leads created; key = 0.
    Leads,
    /// Lead response time sketch; key = bucket, `sum` = ms.
    LeadResponse,
    /// Deals reaching a pipeline stage; key = the stage's position in the pipeline.
    StageReached,
    /// Deals won; key = currency ([`crate::money::Currency::key`]), `sum` = amount in minor units.
    DealsWon,
    /// Deals lost; key = currency, `sum` = amount.
    DealsLost,
    /// Sales cycle length sketch of won deals; key = bucket, `sum` = ms.
    SalesCycle,
    /// Open pipeline changes (a stock: read it from a to-date rollup); key = currency, `n` = open deals, `sum` = open amount.
    Pipeline,
    /// Customers won and lost; key = [`key::CUSTOMER_WON`] or [`key::CUSTOMER_LOST`].
    Customers,
    /// Orders placed; key = currency, `sum` = revenue in minor units.
    Orders,
    /// First orders of new customers; key = currency, `sum` = revenue.
    FirstOrders,
    /// Orders cancelled; key = currency, `sum` = amount.
    Cancellations,
    /// Orders by the customer's two previous order days ([`key::repeat`]): distinct customers with one or two orders in any window follow from the window's rollup.
    RepeatOrders,
    /// Orders of existing customers buying an additional product; key = 0. An order count: a
    /// customer with two such orders in a period counts twice.
    Upsell,
    /// Monthly recurring revenue changes (a stock); key = currency, `n` = active subscriptions, `sum` = MRR.
    Mrr,
    /// Recurring add-on (expansion) revenue; key = currency, `sum` = MRR added.
    ExpansionMrr,
    /// Renewals; key = [`key::RENEWAL_DUE`] or [`key::RENEWAL_DONE`].
    Renewals,
    /// Marketing and acquisition spend; key = currency, `sum` = amount.
    Spend,
    /// Spend on keeping customers; key = currency, `sum` = amount.
    RetentionSpend,
    /// Spend on customer support; key = currency, `sum` = amount.
    SupportSpend,
    /// Revenue of orders attributed to a campaign (the return of ROI); key = currency.
    CampaignRevenue,
    /// Web traffic; key = one of [`key`]`::WEB_*`.
    Web,
    /// Ads; key = [`key::AD_IMPRESSION`] or [`key::AD_CLICK`].
    Ads,
    /// E-mail campaigns; key = one of [`key`]`::EMAIL_*`.
    Email,
    /// Social reach and interactions; key = [`key::SOCIAL_REACH`] or [`key::SOCIAL_INTERACTION`].
    Social,
    /// Appointments; key = [`key::APPOINTMENT_PROPOSED`] or [`key::APPOINTMENT_ACCEPTED`].
    Appointments,
    /// CRM users active; key = a 48-bit hash of the user id, so distinct users over any period are the keys with `n > 0`.
    ActiveUsers,
    /// Calls, e-mails and meetings logged by CRM users; key = one of [`key`]`::ACTIVITY_*`.
    Activities,
}

impl Family {
    /// Every family, in id order.
    pub const ALL: [Family; 39] = [
        Family::Nps,
        Family::Csat5,
        Family::Csat10,
        Family::Ces,
        Family::Comments,
        Family::LinksIssued,
        Family::Tickets,
        Family::FirstResponse,
        Family::Resolution,
        Family::FirstResponseBiz,
        Family::ResolutionBiz,
        Family::TicketOpenUntil,
        Family::Leads,
        Family::LeadResponse,
        Family::StageReached,
        Family::DealsWon,
        Family::DealsLost,
        Family::SalesCycle,
        Family::Pipeline,
        Family::Customers,
        Family::Orders,
        Family::FirstOrders,
        Family::Cancellations,
        Family::RepeatOrders,
        Family::Upsell,
        Family::Mrr,
        Family::ExpansionMrr,
        Family::Renewals,
        Family::Spend,
        Family::RetentionSpend,
        Family::SupportSpend,
        Family::CampaignRevenue,
        Family::Web,
        Family::Ads,
        Family::Email,
        Family::Social,
        Family::Appointments,
        Family::ActiveUsers,
        Family::Activities,
    ];

    /// The storage code of the family.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Nps => "nps",
            Family::Csat5 => "csat5",
            Family::Csat10 => "csat10",
            Family::Ces => "ces",
            Family::Comments => "comments",
            Family::LinksIssued => "links_issued",
            Family::Tickets => "tickets",
            Family::FirstResponse => "first_response",
            Family::Resolution => "resolution",
            Family::FirstResponseBiz => "first_response_biz",
            Family::ResolutionBiz => "resolution_biz",
            Family::TicketOpenUntil => "ticket_open_until",
            Family::Leads => "leads",
            Family::LeadResponse => "lead_response",
            Family::StageReached => "stage_reached",
            Family::DealsWon => "deals_won",
            Family::DealsLost => "deals_lost",
            Family::SalesCycle => "sales_cycle",
            Family::Pipeline => "pipeline",
            Family::Customers => "customers",
            Family::Orders => "orders",
            Family::FirstOrders => "first_orders",
            Family::Cancellations => "cancellations",
            Family::RepeatOrders => "repeat_orders",
            Family::Upsell => "upsell",
            Family::Mrr => "mrr",
            Family::ExpansionMrr => "expansion_mrr",
            Family::Renewals => "renewals",
            Family::Spend => "spend",
            Family::RetentionSpend => "retention_spend",
            Family::SupportSpend => "support_spend",
            Family::CampaignRevenue => "campaign_revenue",
            Family::Web => "web",
            Family::Ads => "ads",
            Family::Email => "email",
            Family::Social => "social",
            Family::Appointments => "appointments",
            Family::ActiveUsers => "active_users",
            Family::Activities => "activities",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The compact id used by [`crate::codec`]; stable like the storage code.
    pub fn id(self) -> u8 {
        match self {
            Family::Nps => 0,
            Family::Csat5 => 1,
            Family::Csat10 => 2,
            Family::Ces => 3,
            Family::Comments => 4,
            Family::LinksIssued => 5,
            Family::Tickets => 6,
            Family::FirstResponse => 7,
            Family::Resolution => 8,
            Family::FirstResponseBiz => 9,
            Family::ResolutionBiz => 10,
            Family::TicketOpenUntil => 11,
            Family::Leads => 12,
            Family::LeadResponse => 13,
            Family::StageReached => 14,
            Family::DealsWon => 15,
            Family::DealsLost => 16,
            Family::SalesCycle => 17,
            Family::Pipeline => 18,
            Family::Customers => 19,
            Family::Orders => 20,
            Family::FirstOrders => 21,
            Family::Cancellations => 22,
            Family::RepeatOrders => 23,
            Family::Upsell => 24,
            Family::Mrr => 25,
            Family::ExpansionMrr => 26,
            Family::Renewals => 27,
            Family::Spend => 28,
            Family::RetentionSpend => 29,
            Family::SupportSpend => 30,
            Family::CampaignRevenue => 31,
            Family::Web => 32,
            Family::Ads => 33,
            Family::Email => 34,
            Family::Social => 35,
            Family::Appointments => 36,
            Family::ActiveUsers => 37,
            Family::Activities => 38,
        }
    }

    /// The family of a compact id.
    pub fn from_id(id: u8) -> Option<Family> {
        Family::ALL
            .get(id as usize)
            .copied()
            .filter(|f| f.id() == id)
    }
}

/// Family-specific keys.
pub mod key {
    /// [`super::Family::Tickets`]: a ticket opened (`sum` = its contacts).
    pub const TICKET_OPENED: i64 = 0;
    /// [`super::Family::Tickets`]: a ticket tagged `complaint`.
    pub const TICKET_COMPLAINT: i64 = 1;
    /// [`super::Family::Tickets`]: a ticket transferred.
    pub const TICKET_TRANSFERRED: i64 = 2;
    /// [`super::Family::Tickets`]: a ticket abandoned by the customer before an answer.
    pub const TICKET_ABANDONED: i64 = 3;
    /// [`super::Family::Tickets`]: a ticket resolved.
    pub const TICKET_RESOLVED: i64 = 4;
    /// [`super::Family::Tickets`]: a ticket resolved with a single contact.
    pub const TICKET_RESOLVED_FIRST_CONTACT: i64 = 5;
    /// [`super::Family::Tickets`]: a ticket that got a first response.
    pub const TICKET_ANSWERED: i64 = 6;
    /// [`super::Family::TicketOpenUntil`]: not resolved yet.
    pub const STILL_OPEN: i64 = i64::MAX;
    /// [`super::Family::Customers`]: a customer won.
    pub const CUSTOMER_WON: i64 = 1;
    /// [`super::Family::Customers`]: a customer lost.
    pub const CUSTOMER_LOST: i64 = 2;
    /// [`super::Family::Renewals`]: a renewal came due.
    pub const RENEWAL_DUE: i64 = 1;
    /// [`super::Family::Renewals`]: a renewal was done.
    pub const RENEWAL_DONE: i64 = 2;
    /// [`super::Family::Web`]: a visit.
    pub const WEB_VISIT: i64 = 1;
    /// [`super::Family::Web`]: a session.
    pub const WEB_SESSION: i64 = 2;
    /// [`super::Family::Web`]: a single-page session (a bounce).
    pub const WEB_BOUNCE: i64 = 3;
    /// [`super::Family::Web`]: a visit to a landing page.
    pub const WEB_LANDING_VISIT: i64 = 4;
    /// [`super::Family::Web`]: a conversion on a landing page.
    pub const WEB_CONVERSION: i64 = 5;
    /// [`super::Family::Ads`]: impressions.
    pub const AD_IMPRESSION: i64 = 1;
    /// [`super::Family::Ads`]: clicks.
    pub const AD_CLICK: i64 = 2;
    /// [`super::Family::Email`]: delivered.
    pub const EMAIL_DELIVERED: i64 = 1;
    /// [`super::Family::Email`]: opened.
    pub const EMAIL_OPENED: i64 = 2;
    /// [`super::Family::Email`]: clicked.
    pub const EMAIL_CLICKED: i64 = 3;
    /// [`super::Family::Email`]: unsubscribed.
    pub const EMAIL_UNSUBSCRIBED: i64 = 4;
    /// [`super::Family::Social`]: audience reached.
    pub const SOCIAL_REACH: i64 = 1;
    /// [`super::Family::Social`]: interactions (likes, shares, comments, clicks).
    pub const SOCIAL_INTERACTION: i64 = 2;
    /// [`super::Family::Appointments`]: proposed.
    pub const APPOINTMENT_PROPOSED: i64 = 1;
    /// [`super::Family::Appointments`]: accepted.
    pub const APPOINTMENT_ACCEPTED: i64 = 2;
    /// [`super::Family::Activities`]: a call.
    pub const ACTIVITY_CALL: i64 = 1;
    /// [`super::Family::Activities`]: an e-mail.
    pub const ACTIVITY_EMAIL: i64 = 2;
    /// [`super::Family::Activities`]: a meeting.
    pub const ACTIVITY_MEETING: i64 = 3;

    /// Days since 1970-01-01 fit in 22 bits up to year 9999.
    const DAY_BITS: u32 = 22;
    const DAY_MASK: i64 = (1 << DAY_BITS) - 1;

    /// [`super::Family::RepeatOrders`] key of an order whose customer last ordered on day
    /// `previous` and before that on `second_previous` (days since 1970-01-01; `None` when
    /// there was no such order).
    pub fn repeat(previous: Option<i64>, second_previous: Option<i64>) -> i64 {
        let enc = |d: Option<i64>| d.map_or(0, |d| (d + 1).clamp(1, DAY_MASK));
        match previous {
            None => 0,
            Some(_) => (enc(previous) << DAY_BITS) | enc(second_previous),
        }
    }

    /// The inverse of [`repeat`].
    pub fn repeat_parts(key: i64) -> (Option<i64>, Option<i64>) {
        let dec = |v: i64| if v == 0 { None } else { Some(v - 1) };
        (dec((key >> DAY_BITS) & DAY_MASK), dec(key & DAY_MASK))
    }
}

/// The dimension a counter is broken down by; `All` holds the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// No breakdown: the total over every segment.
    All,
    /// By contact channel (email, chat, zalo, …).
    Channel,
    /// By survey kind.
    Survey,
    /// By marketing campaign.
    Campaign,
    /// By lead source.
    Source,
    /// By pipeline stage.
    Stage,
    /// By agent or sales rep.
    Agent,
}

impl Dim {
    /// Every dimension, in storage-id order (the binary codec's ids are indexes here).
    pub const ALL: [Dim; 7] = [
        Dim::All,
        Dim::Channel,
        Dim::Survey,
        Dim::Campaign,
        Dim::Source,
        Dim::Stage,
        Dim::Agent,
    ];

    /// The wire and storage name (`""` for `All`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::All => "",
            Dim::Channel => "channel",
            Dim::Survey => "survey",
            Dim::Campaign => "campaign",
            Dim::Source => "source",
            Dim::Stage => "stage",
            Dim::Agent => "agent",
        }
    }

    /// Parses a name (`""` is `All`).
    pub fn parse(s: &str) -> Option<Dim> {
        Some(match s {
            "" => Dim::All,
            "channel" => Dim::Channel,
            "survey" => Dim::Survey,
            "campaign" => Dim::Campaign,
            "source" => Dim::Source,
            "stage" => Dim::Stage,
            "agent" => Dim::Agent,
            _ => return None,
        })
    }
}

/// Where a counter sits: family, segment dimension and value, and a family-specific key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    /// What is counted.
    pub family: Family,
    /// Breakdown dimension.
    pub dim: Dim,
    /// Segment value within the dimension (`""` for `Dim::All`).
    pub segment: String,
    /// Family-specific key (a score, a sketch bucket, an event type…).
    pub key: i64,
}

impl CellKey {
    /// A key.
    pub fn new(family: Family, dim: Dim, segment: &str, key: i64) -> Self {
        CellKey {
            family,
            dim,
            segment: String::from(segment),
            key,
        }
    }

    /// A key of the totals (`Dim::All`).
    pub fn total(family: Family, key: i64) -> Self {
        CellKey::new(family, Dim::All, "", key)
    }
}

/// The contribution of one raw record as stored beside it (the worker's `contrib` column):
/// `[["family","dim","segment",key,n,sum],…]`, JSON written as `serde_json` would write it.
/// The worker's SQL retracts and adds rollup counters from it; `cargo xtask bench` seeds D1
/// with it. One writer, so the two cannot drift.
pub fn contrib_json(cells: &[(CellKey, Cell)]) -> String {
    use core::fmt::Write;
    let mut out = String::from("[");
    for (i, (k, c)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("[\"");
        out.push_str(k.family.as_str());
        out.push_str("\",\"");
        out.push_str(k.dim.as_str());
        out.push_str("\",\"");
        for ch in k.segment.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        let _ = write!(out, "\",{},{},{}]", k.key, c.n, c.sum);
    }
    out.push(']');
    out
}

/// A counter: how many facts, and the sum of an integer quantity they carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Number of facts.
    pub n: i64,
    /// Sum of the facts' quantity (milliseconds, minor currency units…), 0 when none.
    pub sum: i64,
}

impl Cell {
    /// Pointwise addition, saturating rather than wrapping on absurd input.
    // Saturating, so deliberately not `std::ops::Add` (which would promise wrapping or panics).
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: Cell) -> Cell {
        Cell {
            n: self.n.saturating_add(other.n),
            sum: self.sum.saturating_add(other.sum),
        }
    }

    /// The inverse, for retracting a fact.
    pub fn negate(self) -> Cell {
        Cell {
            n: self.n.saturating_neg(),
            sum: self.sum.saturating_neg(),
        }
    }

    /// `k` facts like this one (an aggregated count), saturating.
    pub fn times(self, k: i64) -> Cell {
        Cell {
            n: self.n.saturating_mul(k),
            sum: self.sum.saturating_mul(k),
        }
    }

    /// True when both counters are zero.
    pub fn is_zero(self) -> bool {
        self.n == 0 && self.sum == 0
    }
}

/// A sparse map of counters; the empty rollup is the identity of [`Rollup::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(CellKey, Cell)>", into = "Vec<(CellKey, Cell)>")]
pub struct Rollup {
    cells: BTreeMap<CellKey, Cell>,
}

impl From<Vec<(CellKey, Cell)>> for Rollup {
    fn from(cells: Vec<(CellKey, Cell)>) -> Self {
        let mut r = Rollup::default();
        for (k, c) in cells {
            r.add(k, c);
        }
        r
    }
}

impl From<Rollup> for Vec<(CellKey, Cell)> {
    fn from(r: Rollup) -> Self {
        r.cells.into_iter().collect()
    }
}

impl Rollup {
    /// The empty rollup.
    pub fn new() -> Self {
        Rollup::default()
    }

    /// Adds `cell` to the counter at `key`; counters that reach zero disappear so that equal
    /// totals compare equal however they were reached.
    pub fn add(&mut self, key: CellKey, cell: Cell) {
        let entry = self.cells.entry(key);
        match entry {
            alloc::collections::btree_map::Entry::Occupied(mut o) => {
                let v = o.get().add(cell);
                if v.is_zero() {
                    o.remove();
                } else {
                    *o.get_mut() = v;
                }
            }
            alloc::collections::btree_map::Entry::Vacant(v) => {
                if !cell.is_zero() {
                    v.insert(cell);
                }
            }
        }
    }

    /// Adds every counter of `other` (the monoid operation).
    pub fn merge(&mut self, other: &Rollup) {
        self.merge_mapped(other, |c| c);
    }

    fn merge_mapped(&mut self, other: &Rollup, f: impl Fn(Cell) -> Cell) {
        // Into a smaller map (the first day of a period): one linear pass and a bulk build.
        if other.cells.len() >= self.cells.len() {
            return self.merge_linear(other, f);
        }
        // Look up before cloning: most keys of a day are already in a period's rollup.
        for (k, c) in &other.cells {
            let c = &f(*c);
            match self.cells.get_mut(k) {
                Some(v) => {
                    *v = v.add(*c);
                    if v.is_zero() {
                        self.cells.remove(k);
                    }
                }
                None if !c.is_zero() => {
                    self.cells.insert(k.clone(), *c);
                }
                None => {}
            }
        }
    }

    fn merge_linear(&mut self, other: &Rollup, f: impl Fn(Cell) -> Cell) {
        let mine = core::mem::take(&mut self.cells);
        let mut out: Vec<(CellKey, Cell)> = Vec::with_capacity(mine.len() + other.cells.len());
        let mut a = mine.into_iter().peekable();
        let mut b = other.cells.iter().peekable();
        loop {
            let order = match (a.peek(), b.peek()) {
                (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
                (Some(_), None) => core::cmp::Ordering::Less,
                (None, Some(_)) => core::cmp::Ordering::Greater,
                (None, None) => break,
            };
            match order {
                core::cmp::Ordering::Less => out.extend(a.next()),
                core::cmp::Ordering::Greater => {
                    if let Some((k, c)) = b.next() {
                        let c = f(*c);
                        if !c.is_zero() {
                            out.push((k.clone(), c));
                        }
                    }
                }
                core::cmp::Ordering::Equal => {
                    if let (Some((k, ca)), Some((_, cb))) = (a.next(), b.next()) {
                        let c = ca.add(f(*cb));
                        if !c.is_zero() {
                            out.push((k, c));
                        }
                    }
                }
            }
        }
        // Sorted input: the map is bulk-built in linear time.
        self.cells = out.into_iter().collect();
    }

    /// Adds a list of contributions, as produced by a fact.
    pub fn extend(&mut self, contributions: impl IntoIterator<Item = (CellKey, Cell)>) {
        for (k, c) in contributions {
            self.add(k, c);
        }
    }

    /// The counter at `key` (zero when absent).
    pub fn get(&self, key: &CellKey) -> Cell {
        self.cells.get(key).copied().unwrap_or_default()
    }

    /// Every counter of one family and dimension, in key order.
    pub fn cells_of(&self, family: Family, dim: Dim) -> impl Iterator<Item = (&CellKey, &Cell)> {
        self.cells
            .iter()
            .filter(move |(k, _)| k.family == family && k.dim == dim)
    }

    /// The distinct segment values present for a family and dimension.
    pub fn segments(&self, family: Family, dim: Dim) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (k, _) in self.cells_of(family, dim) {
            if out.last() != Some(&k.segment) && !out.contains(&k.segment) {
                out.push(k.segment.clone());
            }
        }
        out
    }

    /// Subtracts every counter of `other` (`self − other`): the days of a to-date rollup
    /// before a period are the to-date rollup minus the period.
    pub fn subtract(&mut self, other: &Rollup) {
        self.merge_mapped(other, Cell::negate);
    }

    /// The counters of one segment of one family, as (key, cell), in key order.
    pub fn keyed(
        &self,
        family: Family,
        dim: Dim,
        segment: &str,
    ) -> impl Iterator<Item = (i64, Cell)> + '_ {
        let lo = CellKey::new(family, dim, segment, i64::MIN);
        let hi = CellKey::new(family, dim, segment, i64::MAX);
        self.cells.range(lo..=hi).map(|(k, c)| (k.key, *c))
    }

    /// The sum of every counter of one segment of one family (all keys).
    pub fn total(&self, family: Family, dim: Dim, segment: &str) -> Cell {
        self.keyed(family, dim, segment)
            .fold(Cell::default(), |a, (_, c)| a.add(c))
    }

    /// The counter at one key of one segment of one family.
    pub fn at(&self, family: Family, dim: Dim, segment: &str, key: i64) -> Cell {
        self.get(&CellKey::new(family, dim, segment, key))
    }

    /// The counters of the given families only.
    pub fn restricted(&self, families: &[Family]) -> Rollup {
        Rollup {
            cells: self
                .cells
                .iter()
                .filter(|(k, _)| families.contains(&k.family))
                .map(|(k, c)| (k.clone(), *c))
                .collect(),
        }
    }

    /// Number of counters.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// All counters.
    pub fn iter(&self) -> impl Iterator<Item = (&CellKey, &Cell)> {
        self.cells.iter()
    }

    /// True when no counter is non-zero.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

#[cfg(test)]
mod tests;
