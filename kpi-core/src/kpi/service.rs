//! Service desk: response and resolution times, service level, first-contact resolution,
//! backlog, volume, transfers, abandonment and the support cost ratio, from ticket counters
//! and duration sketches.
use super::measure::{
    count, duration, known_proportion, pick_currency, pos, proportion, Measure, Missing,
};
use super::meta::{Direction, Group, Indicator, Unit};
use super::view::View;
use super::{Fallback, Kpi, Needs};
use crate::fact::Channel;
use crate::rollup::Family::{
    self, FirstResponse, FirstResponseBiz, Orders, Resolution, ResolutionBiz, SupportSpend,
    TicketOpenUntil, Tickets,
};
use crate::rollup::{key, Dim, Slot};
use crate::sketch::Sketch;
use crate::target::Scaling;
use crate::target::Target;

/// The sketch of a duration in calendar time, or in business time when the report asks.
fn ticket_sketch<'a>(v: &View<'a>, calendar: Family, business: Family) -> Sketch<'a> {
    Sketch::new(v.run(if v.opts.business_hours {
        business
    } else {
        calendar
    }))
}

fn first_response_time(v: &View) -> Measure {
    duration(&ticket_sketch(v, FirstResponse, FirstResponseBiz), v)
}

fn resolution_time(v: &View) -> Measure {
    duration(&ticket_sketch(v, Resolution, ResolutionBiz), v)
}

/// Tickets answered within their own channel's first-response target, over tickets opened.
/// Exact from the counts made when each ticket was folded ([`key::TICKET_SLA`]), in any
/// segment (an agent's e-mail tickets against the e-mail target, chats against the chat one).
/// Days folded before those counts existed are estimated from the duration sketch instead.
fn service_level(v: &View) -> Measure {
    let opened = v.at(Tickets, key::TICKET_OPENED);
    let sla = v.cells.get(
        Slot::new(Tickets, v.dim, v.seg),
        if v.opts.business_hours {
            key::TICKET_SLA_BIZ
        } else {
            key::TICKET_SLA
        },
    );
    if sla.n > 0 && sla.n >= opened {
        return proportion(sla.sum, sla.n, v);
    }
    proportion(sketched_within(v).min(i64::MAX as u64) as i64, opened, v)
}

/// Tickets answered within target, estimated from the sketches (±2 s at 5 minutes): for the
/// days folded before the exact counts.
fn sketched_within(v: &View) -> u64 {
    let family = if v.opts.business_hours {
        FirstResponseBiz
    } else {
        FirstResponse
    };
    let within_channel = |ch: Channel| -> u64 {
        let limit = v.opts.service_targets.of(ch) as i64 * 1000;
        match v.seg_id(ch.as_str()) {
            Some(seg) => {
                Sketch::new(v.cells.run(Slot::new(family, Dim::Channel, seg))).count_within(limit)
            }
            None => 0,
        }
    };
    match v.dim {
        Dim::All => Channel::ALL
            .iter()
            .fold(0u64, |a, ch| a.saturating_add(within_channel(*ch))),
        Dim::Channel => Channel::parse(v.seg_name()).map_or(0, within_channel),
        // Other segments have no per-channel split in the sketches: the strictest target.
        _ => {
            let limit = v.opts.service_targets.0.iter().min().copied().unwrap_or(0) as i64 * 1000;
            Sketch::new(v.run(family)).count_within(limit)
        }
    }
}

/// Resolved with one contact, over resolved tickets that say how many contacts they took.
fn fcr(v: &View) -> Measure {
    known_proportion(
        v.at(Tickets, key::TICKET_RESOLVED_FIRST_CONTACT),
        v.at(Tickets, key::TICKET_RESOLVED),
        v.at(Tickets, key::TICKET_CONTACTS_UNKNOWN),
        Missing::ContactsNotSent,
        v,
    )
}

/// Tickets opened up to the span's end and not resolved before it.
fn backlog(v: &View) -> Measure {
    let Some(td) = v.to_date else {
        return Measure::default();
    };
    let run = td.run(Slot::new(TicketOpenUntil, v.dim, v.seg));
    let end = v.to.map_or(key::STILL_OPEN, |d| d.days_since_epoch());
    let open = run
        .iter()
        .filter(|e| e.key >= end)
        .fold(0i64, |a, e| a.saturating_add(e.cell.n));
    count(open, !run.is_empty())
}

fn ticket_volume(v: &View) -> Measure {
    let mut m = count(v.at(Tickets, key::TICKET_OPENED), v.has(Tickets));
    m.breakdown.insert(
        "complaints".into(),
        pos(v.at(Tickets, key::TICKET_COMPLAINT)),
    );
    m
}

/// Transferred over tickets that carry the flag.
fn transfer_rate(v: &View) -> Measure {
    known_proportion(
        v.at(Tickets, key::TICKET_TRANSFERRED),
        v.at(Tickets, key::TICKET_OPENED),
        v.at(Tickets, key::TICKET_TRANSFER_UNKNOWN),
        Missing::TransferredNotSent,
        v,
    )
}

/// Abandoned over tickets that carry the flag.
fn abandonment_rate(v: &View) -> Measure {
    known_proportion(
        v.at(Tickets, key::TICKET_ABANDONED),
        v.at(Tickets, key::TICKET_OPENED),
        v.at(Tickets, key::TICKET_ABANDON_UNKNOWN),
        Missing::AbandonedNotSent,
        v,
    )
}

/// Support spend as a share of revenue, in the main currency.
fn support_cost_ratio(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[SupportSpend, Orders]) else {
        return Measure::default();
    };
    let mut m = proportion(v.money(SupportSpend, cur).sum, v.money(Orders, cur).sum, v);
    m.interval = None;
    m.n = None;
    m.insufficient_sample = false;
    m
}

/// `first_response_time`.
pub const FIRST_RESPONSE_TIME: Kpi = Kpi {
    id: "first_response_time",
    label_en: "First response time",
    label_vi: "Thời gian phản hồi đầu tiên",
    unit: Unit::Duration,
    direction: Direction::Down,
    default_target: Some(Target::new(3600.0, 300.0)),
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[FirstResponse, FirstResponseBiz],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: opened_at, first_response_at (business time: setting business_hours)",
        "null without answered tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: first_response_time,
};

/// `resolution_time`.
pub const RESOLUTION_TIME: Kpi = Kpi {
    id: "resolution_time",
    label_en: "Resolution time",
    label_vi: "Thời gian giải quyết",
    unit: Unit::Duration,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Resolution, ResolutionBiz],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: opened_at, resolved_at",
        "null without resolved tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: resolution_time,
};

/// `service_level`.
pub const SERVICE_LEVEL: Kpi = Kpi {
    id: "service_level",
    label_en: "Service level",
    label_vi: "Mức độ dịch vụ",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Tickets],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: opened_at, first_response_at, channel; setting service_targets per channel",
        "null without tickets; a ticket never answered counts as late",
    ),
    // The sketches `sketched_within` estimates from, for days without the exact counts.
    fallback: Some(Fallback {
        family: Tickets,
        exact: &[key::TICKET_SLA, key::TICKET_SLA_BIZ],
        of: key::TICKET_OPENED,
        reads: &[FirstResponse, FirstResponseBiz],
        breakdowns: &[
            (FirstResponse, Dim::Channel),
            (FirstResponseBiz, Dim::Channel),
        ],
    }),
    trailing_year: false,
    formula: service_level,
};

/// `fcr`.
pub const FCR: Kpi = Kpi {
    id: "fcr",
    label_en: "First contact resolution",
    label_vi: "Tỷ lệ giải quyết ngay lần đầu",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Tickets],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: resolved_at, contacts",
        "null with reason contacts_not_sent when resolved tickets never carry contacts (tickets without it are not counted); null without resolved tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: fcr,
};

/// `backlog`.
pub const BACKLOG: Kpi = Kpi {
    id: "backlog",
    label_en: "Unresolved requests",
    label_vi: "Số yêu cầu chưa giải quyết",
    unit: Unit::Count,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[TicketOpenUntil],
    stocks: &[TicketOpenUntil],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: opened_at, resolved_at (a stock: needs every ticket, or an opening balance)",
        "null without tickets up to the period end",
    ),
    fallback: None,
    trailing_year: false,
    formula: backlog,
};

/// `ticket_volume`.
pub const TICKET_VOLUME: Kpi = Kpi {
    id: "ticket_volume",
    label_en: "Issues received",
    label_vi: "Số lượng vấn đề",
    unit: Unit::Count,
    direction: Direction::None,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Tickets],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: opened_at (complaints: tag complaint)",
        "null without tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: ticket_volume,
};

/// `transfer_rate`.
pub const TRANSFER_RATE: Kpi = Kpi {
    id: "transfer_rate",
    label_en: "Transferred calls",
    label_vi: "% cuộc gọi được chuyển",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Tickets],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: transferred",
        "null with reason transferred_not_sent when tickets never carry the flag (tickets without it are not counted); null without tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: transfer_rate,
};

/// `abandonment_rate`.
pub const ABANDONMENT_RATE: Kpi = Kpi {
    id: "abandonment_rate",
    label_en: "Abandonment rate",
    label_vi: "Tỷ lệ bỏ qua",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Tickets],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "tickets: abandoned",
        "null with reason abandoned_not_sent when tickets never carry the flag (tickets without it are not counted); null without tickets",
    ),
    fallback: None,
    trailing_year: false,
    formula: abandonment_rate,
};

/// `support_cost_ratio`.
pub const SUPPORT_COST_RATIO: Kpi = Kpi {
    id: "support_cost_ratio",
    label_en: "Support cost vs revenue",
    label_vi: "Chi phí hỗ trợ so với doanh thu",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Service,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[SupportSpend, Orders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events spend (purpose support) and order.placed amount",
        "null without revenue in the period",
    ),
    fallback: None,
    trailing_year: false,
    formula: support_cost_ratio,
};

/// The service KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[
    FIRST_RESPONSE_TIME,
    RESOLUTION_TIME,
    SERVICE_LEVEL,
    FCR,
    BACKLOG,
    TICKET_VOLUME,
    TRANSFER_RATE,
    ABANDONMENT_RATE,
    SUPPORT_COST_RATIO,
];
