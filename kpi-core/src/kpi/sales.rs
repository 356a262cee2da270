//! Sales: lead conversion, the pipeline (stage conversion, value, cycle length, lead response),
//! orders (average value, revenue per rep, growth, cancellations) and appointments.
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::measure::{
    duration, money_value, pick_currency, pos, proportion, ratio_money, round, Measure,
};
use super::meta::{Direction, Group, Indicator, Unit};
use super::view::View;
use super::{Kpi, Needs};
use crate::rollup::Family::{
    ActiveUsers, Activities, Appointments, Cancellations, Customers, LeadResponse, Leads, Orders,
    Pipeline, SalesCycle, StageReached,
};
use crate::rollup::{key, Dim};
use crate::sketch::Sketch;
use crate::target::Scaling;
use crate::target::Target;

/// Distinct CRM users active in the span (keys of [`Family::ActiveUsers`] with a count).
pub(crate) fn distinct_users(v: &View) -> i64 {
    v.totals(ActiveUsers)
        .iter()
        .filter(|e| e.cell.n > 0)
        .count() as i64
}

fn conversion_rate(v: &View) -> Measure {
    proportion(v.at(Customers, key::CUSTOMER_WON), v.total(Leads).n, v)
}

fn transaction_conversion(v: &View) -> Measure {
    proportion(v.total(Orders).n, v.total(Activities).n, v)
}

/// Per stage: deals that reached the next stage over those that reached this one. Overall:
/// deals that reached the last stage over those that reached the first. The totals carry
/// the stages' names.
fn stage_conversion(v: &View) -> Measure {
    let all = v.totals(StageReached);
    let reached = |order: i64| all.iter().find(|e| e.key == order).map_or(0, |e| e.cell.n);
    let (num, den) = match v.dim {
        Dim::Stage => {
            let Some(e) = v.run(StageReached).first() else {
                return Measure::default();
            };
            // The last stage has no next one: no conversion to report.
            let Some(next) = all.iter().map(|x| x.key).find(|k| *k > e.key) else {
                return Measure::default();
            };
            (reached(next), e.cell.n)
        }
        _ => match (all.first(), all.last()) {
            (Some(first), Some(last)) if first.key != last.key => (last.cell.n, first.cell.n),
            _ => (0, 0),
        },
    };
    let mut m = proportion(num, den, v);
    if v.dim == Dim::All {
        let named: Vec<_> = v.cells.family_dim_runs(StageReached, Dim::Stage).collect();
        for e in all {
            // A position two stage names share is shown under the first name.
            let name = named
                .iter()
                .filter(|(_, run)| {
                    e.key >= 0 && run.binary_search_by_key(&e.key, |s| s.key).is_ok()
                })
                .map(|(slot, _)| v.segs.name(slot.seg()))
                .min()
                .map(String::from)
                .unwrap_or_else(|| e.key.to_string());
            m.breakdown.insert(name, pos(e.cell.n));
        }
    }
    m
}

fn sales_cycle_length(v: &View) -> Measure {
    duration(&Sketch::new(v.run(SalesCycle)), v)
}

fn lead_response_time(v: &View) -> Measure {
    duration(&Sketch::new(v.run(LeadResponse)), v)
}

/// The open pipeline at the span's end, in the main currency.
fn pipeline_value(v: &View) -> Measure {
    let Some(td) = v.to_date else {
        return Measure::default();
    };
    let tv = v.with(td);
    let Some(cur) = pick_currency(&tv, &[Pipeline]) else {
        return Measure::default();
    };
    let c = tv.money(Pipeline, cur);
    let mut m = money_value(c.sum as f64, cur);
    m.n = Some(pos(c.n));
    m
}

fn average_order_value(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[Orders]) else {
        return Measure::default();
    };
    let c = v.money(Orders, cur);
    ratio_money(c.sum, c.n, cur)
}

fn revenue_per_rep(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[Orders]) else {
        return Measure::default();
    };
    ratio_money(v.money(Orders, cur).sum, distinct_users(v), cur)
}

/// Revenue change against the previous span, and progress to the revenue target.
fn sales_growth(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[Orders]) else {
        return Measure::default();
    };
    let now = v.money(Orders, cur).sum;
    let mut m = Measure::default();
    if let Some(p) = v.previous {
        let before = v.with(p).money(Orders, cur).sum;
        if before > 0 && v.has(Orders) {
            m.value = round(now.saturating_sub(before) as f64 * 100.0 / before as f64, 1);
        }
    }
    if let Some(t) = v.opts.revenue_target.filter(|t| *t > 0.0) {
        m.share = round(cur.to_major(now as f64) * 100.0 / t, 1);
    }
    m
}

fn cancellation_rate(v: &View) -> Measure {
    proportion(v.total(Cancellations).n, v.total(Orders).n, v)
}

fn appointment_acceptance(v: &View) -> Measure {
    proportion(
        v.at(Appointments, key::APPOINTMENT_ACCEPTED),
        v.at(Appointments, key::APPOINTMENT_PROPOSED),
        v,
    )
}

/// `conversion_rate`.
pub const CONVERSION_RATE: Kpi = Kpi {
    id: "conversion_rate",
    label_en: "Conversion rate",
    label_vi: "Tỷ lệ chuyển đổi khách hàng",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: Some(Target::new(5.0, 20.0)),
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    reads: &[Leads, Customers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events lead.created and customer.won", "null without leads"),
    fallback: None,
    trailing_year: false,
    formula: conversion_rate,
};

/// `transaction_conversion`.
pub const TRANSACTION_CONVERSION: Kpi = Kpi {
    id: "transaction_conversion",
    label_en: "Transaction conversion",
    label_vi: "Tỷ lệ chuyển đổi giao dịch",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "001_52ae2a46d99de276",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Agent],
    reads: &[Activities, Orders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events crm.activity and order.placed",
        "null without activities",
    ),
    fallback: None,
    trailing_year: false,
    formula: transaction_conversion,
};

/// `stage_conversion`.
pub const STAGE_CONVERSION: Kpi = Kpi {
    id: "stage_conversion",
    label_en: "Pipeline stage conversion",
    label_vi: "Chuyển đổi theo giai đoạn",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "004_a8e5ac888f8d34c3",
    group: Group::Sales,
    indicator: Indicator::Leading,
    segments: &[Dim::Stage],
    reads: &[StageReached],
    stocks: &[],
    breakdowns: &[(StageReached, Dim::Stage)],
    needs: Needs::new(
        "events deal.stage: stage (stage_position outside the default pipeline)",
        "null without deals at the first stage",
    ),
    fallback: None,
    trailing_year: false,
    formula: stage_conversion,
};

/// `sales_cycle_length`.
pub const SALES_CYCLE_LENGTH: Kpi = Kpi {
    id: "sales_cycle_length",
    label_en: "Sales cycle length",
    label_vi: "Độ dài chu kỳ bán hàng",
    unit: Unit::Duration,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source, Dim::Agent],
    reads: &[SalesCycle],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events deal.won: first_touch_at",
        "null without won deals that carry first_touch_at",
    ),
    fallback: None,
    trailing_year: false,
    formula: sales_cycle_length,
};

/// `lead_response_time`.
pub const LEAD_RESPONSE_TIME: Kpi = Kpi {
    id: "lead_response_time",
    label_en: "Lead response time",
    label_vi: "Thời gian phản hồi khách tiềm năng",
    unit: Unit::Duration,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source, Dim::Agent],
    reads: &[LeadResponse],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events lead.created: first_contact_at",
        "null without leads that carry first_contact_at",
    ),
    fallback: None,
    trailing_year: false,
    formula: lead_response_time,
};

/// `pipeline_value`.
pub const PIPELINE_VALUE: Kpi = Kpi {
    id: "pipeline_value",
    label_en: "Pipeline value",
    label_vi: "Giá trị đường ống",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Leading,
    segments: &[Dim::Stage, Dim::Agent],
    reads: &[Pipeline],
    stocks: &[Pipeline],
    breakdowns: &[],
    needs: Needs::new(
        "events deal.stage / deal.won / deal.lost: amount, previous_amount (a stock: every deal, or an opening balance)",
        "null without deals",
    ),
    fallback: None,
    trailing_year: false,
    formula: pipeline_value,
};

/// `average_order_value`.
pub const AVERAGE_ORDER_VALUE: Kpi = Kpi {
    id: "average_order_value",
    label_en: "Average order value",
    label_vi: "Giá trị đơn hàng trung bình",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    reads: &[Orders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events order.placed: amount", "null without orders"),
    fallback: None,
    trailing_year: false,
    formula: average_order_value,
};

/// `revenue_per_rep`.
pub const REVENUE_PER_REP: Kpi = Kpi {
    id: "revenue_per_rep",
    label_en: "Revenue per sales rep",
    label_vi: "Doanh thu mỗi nhân viên",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Orders, ActiveUsers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed: amount; crm.activity or crm.user_active (the reps)",
        "null without active reps",
    ),
    fallback: None,
    trailing_year: false,
    formula: revenue_per_rep,
};

/// `sales_growth`.
pub const SALES_GROWTH: Kpi = Kpi {
    id: "sales_growth",
    label_en: "Sales growth",
    label_vi: "Tăng trưởng doanh số",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::SameLength,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    reads: &[Orders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed: amount, this period and the previous one; setting revenue_target for progress",
        "null without revenue in the previous period",
    ),
    fallback: None,
    trailing_year: false,
    formula: sales_growth,
};

/// `cancellation_rate`.
pub const CANCELLATION_RATE: Kpi = Kpi {
    id: "cancellation_rate",
    label_en: "Order cancellation rate",
    label_vi: "Tỷ lệ hủy đơn",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    reads: &[Cancellations, Orders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.cancelled (order, amount) and order.placed",
        "null without orders",
    ),
    fallback: None,
    trailing_year: false,
    formula: cancellation_rate,
};

/// `appointment_acceptance`.
pub const APPOINTMENT_ACCEPTANCE: Kpi = Kpi {
    id: "appointment_acceptance",
    label_en: "Appointment acceptance",
    label_vi: "Tỷ lệ chấp nhận cuộc hẹn",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Sales,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Appointments],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events appointment.proposed and appointment.accepted",
        "null without proposed appointments",
    ),
    fallback: None,
    trailing_year: false,
    formula: appointment_acceptance,
};

/// The sales KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[
    CONVERSION_RATE,
    TRANSACTION_CONVERSION,
    STAGE_CONVERSION,
    SALES_CYCLE_LENGTH,
    LEAD_RESPONSE_TIME,
    PIPELINE_VALUE,
    AVERAGE_ORDER_VALUE,
    REVENUE_PER_REP,
    SALES_GROWTH,
    CANCELLATION_RATE,
    APPOINTMENT_ACCEPTANCE,
];
