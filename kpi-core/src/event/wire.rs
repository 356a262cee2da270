//! The wire shape of `POST /v1/events`: [`RawEvent`], and the one table of event type
//! names ([`EventType`]) that validation matches on and that lists every type. Owns names and
//! field shapes; not what a value means (see [`Event::from_wire`](super::Event::from_wire)).
use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::fact::WireInstant;

/// An event as `POST /v1/events` receives it: `type`, `at` and the fields of its type.
/// Written back (the worker's stored body), an absent field has no member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawEvent {
    /// Unique per tenant (idempotency key; not used by the domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Event type, e.g. `order.placed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<WireInstant>,
    /// Aggregated count (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Lead source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Marketing campaign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Channel name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Deal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal: Option<String>,
    /// Pipeline stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// `deal.stage`: the stage's position in the tenant's pipeline (needed outside
    /// [`super::DEFAULT_STAGES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_position: Option<i64>,
    /// `order.cancelled`: the id of the order it cancels. `deal.stage` still accepts its
    /// stage position here, as before `stage_position` existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderField>,
    /// The stage the deal was at before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_stage: Option<String>,
    /// Amount in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// The deal's amount as last counted in the open pipeline (minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_amount: Option<i64>,
    /// ISO 4217 currency of the amounts (default VND).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Customer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The customer's monthly recurring revenue after the change (minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrr: Option<i64>,
    /// The customer's MRR before the change (default 0: a new subscription).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_mrr: Option<i64>,
    /// Pages viewed in a session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<i64>,
    /// CRM user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Activity kind: `call`, `email` or `meeting`.
    #[serde(skip_serializing_if = "Option::is_none", rename = "kind")]
    pub activity: Option<String>,
    /// Agent or sales rep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Lead: first contact by the business.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_contact_at: Option<WireInstant>,
    /// Won deal: first touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_touch_at: Option<WireInstant>,
    /// Order: the customer's previous order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_order_at: Option<WireInstant>,
    /// Order: the customer's order before the previous one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_previous_order_at: Option<WireInstant>,
    /// Visit: the page is a landing page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landing: Option<bool>,
    /// Order: an existing customer buying an additional product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upsell: Option<bool>,
    /// Upsell order: the customer's previous upsell order (found by the API among stored
    /// orders when the CRM names the customer and not its previous order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_upsell_at: Option<WireInstant>,
    /// Spend: `acquisition` (default), `retention` or `support`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// The `order` member: text (or a number) naming an order, or, on `deal.stage`, the
/// number that was its stage position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OrderField {
    /// A number: an order id such as `1042`, or a stage position on `deal.stage`.
    Number(i64),
    /// An order id such as `O-1042`.
    Text(String),
}

impl<'de> Deserialize<'de> for OrderField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::fact::int_or_text(
            d,
            "an order id (text or integer) or a stage position",
            OrderField::Number,
            OrderField::Text,
        )
    }
}

/// Declares [`EventType`] and its table of wire names in one place.
macro_rules! event_types {
    ($($variant:ident => $name:literal, $doc:literal;)+) => {
        /// An event type, as named on the wire by [`EventType::name`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum EventType {
            $(#[doc = $doc] $variant,)+
        }

        /// Every event type with its wire name, in catalog order: the only place a name is
        /// written.
        pub const TYPES: &[(EventType, &str)] = &[$((EventType::$variant, $name),)+];
    };
}

event_types! {
    LeadCreated => "lead.created", "A lead was created.";
    DealStage => "deal.stage", "A deal reached a pipeline stage.";
    DealWon => "deal.won", "A deal was won.";
    DealLost => "deal.lost", "A deal was lost.";
    CustomerWon => "customer.won", "A customer was won.";
    CustomerLost => "customer.lost", "A customer was lost.";
    OrderPlaced => "order.placed", "An order was placed.";
    OrderCancelled => "order.cancelled", "An order was cancelled.";
    SubscriptionChanged => "subscription.changed", "A customer's recurring revenue changed.";
    RenewalDue => "renewal.due", "A renewal came due.";
    RenewalDone => "renewal.done", "A customer renewed.";
    Spend => "spend", "Money was spent (acquisition, retention or support).";
    WebVisit => "web.visit", "A web visit.";
    WebSession => "web.session", "A web session and its page count.";
    WebConversion => "web.conversion", "A conversion on a landing page.";
    AdImpression => "ad.impression", "An ad impression.";
    AdClick => "ad.click", "An ad click.";
    EmailDelivered => "email.delivered", "An e-mail was delivered.";
    EmailOpened => "email.opened", "An e-mail was opened.";
    EmailClicked => "email.clicked", "A link in an e-mail was clicked.";
    EmailUnsubscribed => "email.unsubscribed", "A recipient unsubscribed.";
    SocialReach => "social.reach", "Audience reached on social media.";
    SocialInteraction => "social.interaction", "Likes, shares, comments, clicks.";
    AppointmentProposed => "appointment.proposed", "An appointment was proposed.";
    AppointmentAccepted => "appointment.accepted", "An appointment was accepted.";
    UserActive => "crm.user_active", "A CRM user was active.";
    Activity => "crm.activity", "A call, e-mail or meeting by a CRM user.";
}

/// Every event type's wire name, in [`TYPES`] order.
pub const EVENT_TYPES: [&str; TYPES.len()] = {
    let mut names = [""; TYPES.len()];
    let mut i = 0;
    while i < TYPES.len() {
        names[i] = TYPES[i].1;
        i += 1;
    }
    names
};

impl EventType {
    /// The type named `name` on the wire, if any.
    pub fn parse(name: &str) -> Option<EventType> {
        TYPES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("", |(_, n)| n)
    }
}
