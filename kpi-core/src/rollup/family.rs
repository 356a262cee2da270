//! What a counter counts ([`Family`]), how it is broken down ([`Dim`]), and the
//! family-specific keys ([`key`]). Ids and codes are stored in D1, in raw rows'
//! contributions and in encoded rollups: never change or reuse one, only add.
use serde::{Deserialize, Serialize};

/// Declares [`Family`] from one table: variant, stable id, storage code and doc, so that the
/// id, the code and the list of every family cannot drift apart.
macro_rules! families {
    ($( $(#[doc = $doc:literal])* $name:ident = $id:literal, $code:literal; )*) => {
        /// What kind of fact a counter counts; each KPI declares the families it reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Family {
            $( $(#[doc = $doc])* $name = $id, )*
        }

        impl Family {
            /// Every family, in id order.
            pub const ALL: &'static [Family] = &[$(Family::$name),*];

            /// The storage code of the family (logs, CSV, the bench's SQL).
            pub fn as_str(self) -> &'static str {
                match self { $(Family::$name => $code,)* }
            }

            /// The family of a compact id (`None` for an id this build does not know).
            pub fn from_id(id: u8) -> Option<Family> {
                match id { $($id => Some(Family::$name),)* _ => None }
            }
        }
    };
}

families! {
    /// NPS answers; key = score 0–10, `sum` = answers carrying a comment.
    Nps = 0, "nps";
    /// CSAT answers on a 5-point scale; key = score 1–5, `sum` = answers with a comment.
    Csat5 = 1, "csat5";
    /// CSAT answers on a 10-point scale; key = score 1–10, `sum` = answers with a comment.
    Csat10 = 2, "csat10";
    /// CES answers on a 7-point scale; key = score 1–7, `sum` = answers with a comment.
    Ces = 3, "ces";
    // Id 4 ("comments") was a family of its own until migration 0005; comments are now the
    // `sum` of the survey families. Never reuse 4.
    /// Survey links issued; key = 0.
    LinksIssued = 5, "links_issued";
    /// Ticket counts on the day the ticket opened; key = one of [`key`]`::TICKET_*`, `sum` = contacts for `TICKET_OPENED`.
    Tickets = 6, "tickets";
    /// First response time sketch, calendar time; key = [`crate::sketch`] bucket, `sum` = ms.
    FirstResponse = 7, "first_response";
    /// Resolution time sketch, calendar time; key = bucket, `sum` = ms.
    Resolution = 8, "resolution";
    /// First response time sketch in business hours; key = bucket, `sum` = ms.
    FirstResponseBiz = 9, "first_response_biz";
    /// Resolution time sketch in business hours; key = bucket, `sum` = ms.
    ResolutionBiz = 10, "resolution_biz";
    /// Tickets by the local day they were resolved (days since 1970-01-01, [`key::STILL_OPEN`] when unresolved), counted on the day they opened: the backlog at any day follows from a to-date rollup.
    TicketOpenUntil = 11, "ticket_open_until";
    /// Leads created; key = 0.
    Leads = 12, "leads";
    /// Lead response time sketch; key = bucket, `sum` = ms.
    LeadResponse = 13, "lead_response";
    /// Deals reaching a pipeline stage; key = the stage's position in the pipeline.
    StageReached = 14, "stage_reached";
    /// Deals won; key = currency ([`crate::money::Currency::key`]), `sum` = amount in minor units.
    DealsWon = 15, "deals_won";
    /// Deals lost; key = currency, `sum` = amount.
    DealsLost = 16, "deals_lost";
    /// Sales cycle length sketch of won deals; key = bucket, `sum` = ms.
    SalesCycle = 17, "sales_cycle";
    /// Open pipeline changes (a stock: read it from a to-date rollup); key = currency, `n` = open deals, `sum` = open amount.
    Pipeline = 18, "pipeline";
    /// Customers won and lost, and the opening balance; key = [`key::CUSTOMER_WON`], [`key::CUSTOMER_LOST`] or [`key::CUSTOMER_OPENING`].
    Customers = 19, "customers";
    /// Orders placed; key = currency, `sum` = revenue in minor units.
    Orders = 20, "orders";
    /// First orders of new customers; key = currency, `sum` = revenue.
    FirstOrders = 21, "first_orders";
    /// Orders cancelled; key = currency, `sum` = amount.
    Cancellations = 22, "cancellations";
    /// Orders by the customer's two previous order days ([`key::repeat`]): distinct customers with one or two orders in any window follow from the window's rollup.
    RepeatOrders = 23, "repeat_orders";
    /// Orders of existing customers buying an additional product, by the customer's previous upsell order ([`key::upsell`]): the distinct customers who bought more in any window follow from the window's rollup.
    Upsell = 24, "upsell";
    /// Monthly recurring revenue changes (a stock); key = currency, `n` = active subscriptions, `sum` = MRR.
    Mrr = 25, "mrr";
    /// Recurring add-on (expansion) revenue; key = currency, `sum` = MRR added.
    ExpansionMrr = 26, "expansion_mrr";
    /// Renewals; key = [`key::RENEWAL_DUE`] or [`key::RENEWAL_DONE`].
    Renewals = 27, "renewals";
    /// Marketing and acquisition spend; key = currency, `sum` = amount.
    Spend = 28, "spend";
    /// Spend on keeping customers; key = currency, `sum` = amount.
    RetentionSpend = 29, "retention_spend";
    /// Spend on customer support; key = currency, `sum` = amount.
    SupportSpend = 30, "support_spend";
    /// Revenue of orders attributed to a campaign (the return of ROI); key = currency.
    CampaignRevenue = 31, "campaign_revenue";
    /// Web traffic; key = one of [`key`]`::WEB_*`.
    Web = 32, "web";
    /// Ads; key = [`key::AD_IMPRESSION`] or [`key::AD_CLICK`].
    Ads = 33, "ads";
    /// E-mail campaigns; key = one of [`key`]`::EMAIL_*`.
    Email = 34, "email";
    /// Social reach and interactions; key = [`key::SOCIAL_REACH`] or [`key::SOCIAL_INTERACTION`].
    Social = 35, "social";
    /// Appointments; key = [`key::APPOINTMENT_PROPOSED`] or [`key::APPOINTMENT_ACCEPTED`].
    Appointments = 36, "appointments";
    /// CRM users active; key = a 48-bit hash of the user id, so distinct users over any period are the keys with `n > 0`.
    ActiveUsers = 37, "active_users";
    /// Calls, e-mails and meetings logged by CRM users; key = one of [`key`]`::ACTIVITY_*`.
    Activities = 38, "activities";
    /// Orders by the month of the customer's previous order ([`key::recency`]): the distinct customers of any window starting on a month's first day follow from the window's rollup, in a few keys a month (CLV's trailing year).
    OrderRecency = 39, "order_recency";
    /// Answers that came through an open (reusable) survey link; key = 0. They also count in
    /// their survey family; the response rate leaves them out of its numerator, as open links
    /// are left out of [`Family::LinksIssued`].
    OpenAnswers = 40, "open_answers";
}

impl Family {
    /// The compact id stored in D1 and in encoded rollups.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.iter().copied().find(|f| f.as_str() == s)
    }

    /// True for the survey families, whose key is the score.
    pub fn is_survey(self) -> bool {
        matches!(
            self,
            Family::Nps | Family::Csat5 | Family::Csat10 | Family::Ces
        )
    }

    /// True for the duration sketches ([`crate::sketch`]): key = bucket, `sum` = ms. Only the
    /// mean reads their `sum`, and only its total over the cells with `n > 0`, so a reader
    /// may carry that total on any one such cell of a slot instead of one per bucket.
    pub fn is_sketch(self) -> bool {
        matches!(
            self,
            Family::FirstResponse
                | Family::Resolution
                | Family::FirstResponseBiz
                | Family::ResolutionBiz
                | Family::LeadResponse
                | Family::SalesCycle
        )
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
    /// [`super::Family::Tickets`]: every ticket judged against its own channel's
    /// first-response target when it was counted (`n`), and those answered within it (`sum`),
    /// in calendar time. Exact at the thresholds in force; a threshold change recounts.
    pub const TICKET_SLA: i64 = 7;
    /// [`super::Family::Tickets`]: as [`TICKET_SLA`], in business time (tickets counted with
    /// business hours only).
    pub const TICKET_SLA_BIZ: i64 = 8;
    /// [`super::Family::Tickets`]: a resolved ticket whose `contacts` was never sent.
    pub const TICKET_CONTACTS_UNKNOWN: i64 = 9;
    /// [`super::Family::Tickets`]: a ticket whose `transferred` flag was never sent.
    pub const TICKET_TRANSFER_UNKNOWN: i64 = 10;
    /// [`super::Family::Tickets`]: a ticket whose `abandoned` flag was never sent.
    pub const TICKET_ABANDON_UNKNOWN: i64 = 11;
    /// [`super::Family::TicketOpenUntil`]: not resolved yet.
    pub const STILL_OPEN: i64 = i64::MAX;
    /// [`super::Family::Customers`]: a customer won.
    pub const CUSTOMER_WON: i64 = 1;
    /// [`super::Family::Customers`]: a customer lost.
    pub const CUSTOMER_LOST: i64 = 2;
    /// [`super::Family::Customers`]: customers the tenant had when it started sending events
    /// (`PATCH /v1/settings` `opening_balances`): part of the stock, never a customer won.
    pub const CUSTOMER_OPENING: i64 = 3;
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

    /// [`super::Family::OrderRecency`] key of an order placed on day `day` whose customer
    /// last ordered on day `previous` (days since 1970-01-01): 1 + the month of `previous`
    /// (months since 1970-01) when it lies within the 12 months before `day`'s month, else 0
    /// (no earlier order, or an older one). A window starting on the first day of month `w`
    /// at most 12 months before the order counts the order's customer once: as the keys 0 and
    /// those below `w + 1`.
    pub fn recency(day: i64, previous: Option<i64>) -> i64 {
        match previous {
            Some(p) if p <= day && month(day) - month(p) <= 12 => month(p) + 1,
            _ => 0,
        }
    }

    /// The month of day `day` (both counted from 1970-01-01): what [`recency`] keys hold.
    pub fn month(day: i64) -> i64 {
        let (y, m, _) = crate::period::civil_from_days(day);
        y * 12 + m - 1 - 1970 * 12
    }

    /// The month (since 1970-01) of the previous order a [`recency`] key names.
    pub fn recency_month(key: i64) -> Option<i64> {
        (key > 0).then(|| key - 1)
    }

    /// [`super::Family::Upsell`] key of an upsell order whose customer's previous upsell
    /// order was on day `previous` (days since 1970-01-01): `previous + 1`, or 0 when there
    /// was none or it is not known (the order then counts as a customer of its own).
    pub fn upsell(previous: Option<i64>) -> i64 {
        previous.map_or(0, |d| (d + 1).max(1))
    }

    /// The day of the previous upsell order an [`upsell`] key names.
    pub fn upsell_previous(key: i64) -> Option<i64> {
        (key > 0).then(|| key - 1)
    }

    /// The inverse of [`repeat`].
    pub fn repeat_parts(key: i64) -> (Option<i64>, Option<i64>) {
        let dec = |v: i64| if v == 0 { None } else { Some(v - 1) };
        (dec((key >> DAY_BITS) & DAY_MASK), dec(key & DAY_MASK))
    }
}

/// The dimension a counter is broken down by; `All` holds the totals. The discriminant is
/// the stored id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Dim {
    /// No breakdown: the total over every segment.
    All = 0,
    /// By contact channel (email, chat, zalo, …).
    Channel = 1,
    /// By survey kind.
    Survey = 2,
    /// By marketing campaign.
    Campaign = 3,
    /// By lead source.
    Source = 4,
    /// By pipeline stage.
    Stage = 5,
    /// By agent or sales rep.
    Agent = 6,
}

impl Dim {
    /// Every dimension, in id order.
    pub const ALL: [Dim; 7] = [
        Dim::All,
        Dim::Channel,
        Dim::Survey,
        Dim::Campaign,
        Dim::Source,
        Dim::Stage,
        Dim::Agent,
    ];

    /// The stored id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The dimension of a stored id.
    pub fn from_id(id: u8) -> Option<Dim> {
        Dim::ALL.get(id as usize).copied()
    }

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
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }
}
