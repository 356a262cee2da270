//! Customer value and retention: revenue per customer, MRR, lifetime value, net value,
//! retention and churn, repeat purchases, renewals, upsell, retention cost and the health
//! score. Customers at a span's start and end are stocks; distinct customers in a window
//! come from the repeat-order keys (see [`crate::event`]).
use super::measure::{money_value, pick_currency, pos, proportion, ratio_money, round, Measure};
use super::meta::{Direction, Group, Indicator, Unit};
use super::view::View;
use super::{clv as clv_of, find, net_value, Kpi, Needs, HEALTH_PARTS};
use crate::rollup::Family::{
    Csat10, Csat5, Customers, ExpansionMrr, FirstOrders, FirstResponse, FirstResponseBiz, Mrr, Nps,
    OrderRecency, Orders, Renewals, RepeatOrders, RetentionSpend, Spend, Upsell,
};
use crate::rollup::{key, Cells, Dim, Slot};
use crate::target::Target;
use crate::target::{Length, Scaling, TargetPeriod};

/// Customers at the end of the view's span, new, lost, and at the start; needs the to-date
/// counters.
pub(crate) fn customer_stock(v: &View) -> Option<(i64, i64, i64, i64)> {
    let td = v.to_date?;
    let at = |c: &Cells, k: i64| c.get(Slot::total(Customers), k).n;
    let end = at(td, key::CUSTOMER_WON)
        .saturating_sub(at(td, key::CUSTOMER_LOST))
        .saturating_add(at(td, key::CUSTOMER_OPENING));
    let (won, lost) = (
        at(v.cells, key::CUSTOMER_WON),
        at(v.cells, key::CUSTOMER_LOST),
    );
    Some((end, won, lost, end.saturating_sub(won).saturating_add(lost)))
}

/// Distinct customers with at least one, and at least two, orders in the view's window.
fn window_customers(v: &View) -> Option<(i64, i64)> {
    let from = v.from?.days_since_epoch();
    let (mut one, mut two) = (0i64, 0i64);
    for e in v.totals(RepeatOrders) {
        let (prev, prev2) = key::repeat_parts(e.key);
        match prev {
            Some(p) if p >= from => {
                if prev2.is_none_or(|p2| p2 < from) {
                    two = two.saturating_add(e.cell.n);
                }
            }
            _ => one = one.saturating_add(e.cell.n),
        }
    }
    Some((one, two))
}

fn arpu(v: &View) -> Measure {
    let (Some(cur), Some((active, _))) = (pick_currency(v, &[Orders]), window_customers(v)) else {
        return Measure::default();
    };
    ratio_money(v.money(Orders, cur).sum, active, cur)
}

/// Recurring revenue at the span's end, with the active subscriptions.
fn mrr(v: &View) -> Measure {
    let Some(td) = v.to_date else {
        return Measure::default();
    };
    let tv = v.with(td);
    let Some(cur) = pick_currency(&tv, &[Mrr]) else {
        return Measure::default();
    };
    let c = tv.money(Mrr, cur);
    let mut m = money_value(c.sum as f64, cur);
    m.breakdown.insert("subscriptions".into(), pos(c.n));
    m
}

fn expansion_mrr(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[ExpansionMrr]) else {
        return Measure::default();
    };
    money_value(v.money(ExpansionMrr, cur).sum as f64, cur)
}

/// Distinct customers with an order in a window starting on a month's first day (the
/// trailing year), from [`OrderRecency`]: every order whose customer had no order earlier
/// in the window.
fn window_buyers(v: &View) -> Option<i64> {
    let from = v.from?;
    let month = key::month(from.days_since_epoch());
    let mut buyers = 0i64;
    for e in v.totals(OrderRecency) {
        match key::recency_month(e.key) {
            Some(m) if m >= month => {}
            _ => buyers = buyers.saturating_add(e.cell.n),
        }
    }
    Some(buyers)
}

/// Mean purchase × purchases per customer a year × lifespan in years (the option, else
/// 1 ÷ the annualised churn), over the period's trailing year ([`CLV`] reads it): a
/// customer buying once a quarter buys four times a year in a week's view as in a year's.
fn clv(v: &View) -> Measure {
    let (Some(cur), Some(buyers), Some(days)) = (
        pick_currency(v, &[Orders]),
        window_buyers(v),
        v.from
            .zip(v.to)
            .map(|(f, t)| t.days_since_epoch() - f.days_since_epoch()),
    ) else {
        return Measure::default();
    };
    let c = v.money(Orders, cur);
    let lifespan = v.opts.customer_lifespan_years.or_else(|| {
        let (_, _, lost, start) = customer_stock(v)?;
        let annual_churn = lost as f64 / start as f64 * 365.0 / days as f64;
        (start > 0 && lost > 0).then(|| (1.0 / annual_churn).min(50.0))
    });
    match lifespan {
        Some(years) if c.n > 0 && buyers > 0 && days > 0 => {
            let mean_purchase = c.sum as f64 / c.n as f64;
            let per_year = c.n as f64 / buyers as f64 * 365.0 / days as f64;
            let mut m = money_value(clv_of(mean_purchase, per_year, years), cur);
            m.n = Some(pos(buyers));
            m.breakdown.insert("customers".into(), pos(buyers));
            m.breakdown.insert("orders".into(), pos(c.n));
            m
        }
        _ => Measure::default(),
    }
}

/// First-order revenue per new customer minus acquisition spend per new customer.
fn customer_net_value(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[FirstOrders, Spend]) else {
        return Measure::default();
    };
    let first = v.money(FirstOrders, cur);
    let won = v.at(Customers, key::CUSTOMER_WON);
    let spend = v.money(Spend, cur).sum;
    if first.n <= 0 || won <= 0 {
        return Measure::default();
    }
    let mut m = money_value(
        net_value(first.sum as f64 / first.n as f64, spend as f64 / won as f64),
        cur,
    );
    m.n = Some(pos(won));
    m
}

/// The customers behind retention and churn, as a breakdown.
fn with_stock(mut m: Measure, (end, won, lost, start): (i64, i64, i64, i64)) -> Measure {
    m.breakdown.insert("start".into(), pos(start));
    m.breakdown.insert("end".into(), pos(end));
    m.breakdown.insert("new".into(), pos(won));
    m.breakdown.insert("lost".into(), pos(lost));
    m
}

/// (Customers at the end − new) ÷ customers at the start.
fn retention_rate(v: &View) -> Measure {
    let Some(s) = customer_stock(v) else {
        return Measure::default();
    };
    let mut m = proportion(s.0.saturating_sub(s.1), s.3, v);
    m.interval = None;
    with_stock(m, s)
}

/// Customers lost ÷ customers at the start.
fn churn_rate(v: &View) -> Measure {
    let Some(s) = customer_stock(v) else {
        return Measure::default();
    };
    with_stock(proportion(s.2, s.3, v), s)
}

fn repeat_purchase_rate(v: &View) -> Measure {
    match window_customers(v) {
        Some((one, two)) => proportion(two, one, v),
        None => Measure::default(),
    }
}

fn renewal_rate(v: &View) -> Measure {
    proportion(
        v.at(Renewals, key::RENEWAL_DONE),
        v.at(Renewals, key::RENEWAL_DUE),
        v,
    )
}

/// Existing customers who bought an additional product in the view's window ÷ customers at
/// its start: an upsell order counts unless the customer's previous upsell order lies in
/// the window too (two upsells of one customer are one customer upsold).
fn upsell_rate(v: &View) -> Measure {
    let Some(s) = customer_stock(v) else {
        return Measure::default();
    };
    // Without a window start every upsell order counts.
    let from = v.from.map_or(i64::MAX, |f| f.days_since_epoch());
    let mut upsold = 0i64;
    for e in v.totals(Upsell) {
        match key::upsell_previous(e.key) {
            Some(p) if p >= from => {}
            _ => upsold = upsold.saturating_add(e.cell.n),
        }
    }
    proportion(upsold, s.3, v)
}

/// Retention spend per customer at the span's end, and its share of MRR per customer.
fn retention_cost(v: &View) -> Measure {
    let (Some((end, ..)), Some(cur)) = (customer_stock(v), pick_currency(v, &[RetentionSpend]))
    else {
        return Measure::default();
    };
    let mut m = ratio_money(v.money(RetentionSpend, cur).sum, end, cur);
    if let (Some(td), Some(cost)) = (v.to_date, m.value) {
        let mrr = td.get(Slot::total(Mrr), cur.key()).sum;
        if mrr > 0 && end > 0 {
            let per_customer = cur.to_major(mrr as f64) / end as f64;
            m.share = round(cost * 100.0 / per_customer, 1);
        }
    }
    m
}

/// The weighted achievement of [`HEALTH_PARTS`] against their catalog targets, each mapped to
/// the view's length by its KPI's rule (churn's monthly target over a quarter compounds).
fn health_score(v: &View) -> Measure {
    let length = v
        .from
        .zip(v.to)
        .and_then(|(from, to)| crate::period::Period::range(from, to).ok())
        .map(|p| Length::of(&p));
    let parts = HEALTH_PARTS.iter().map(|(id, w)| {
        let a = find(id).ok().and_then(|d| {
            let value = (d.formula)(v).value?;
            let target = d.default_target?.for_length(length, d.target_scaling)?;
            Some(target.achievement(value, None, d.direction))
        });
        (a, *w)
    });
    Measure {
        value: crate::target::health_score(parts).and_then(|s| round(s, 1)),
        ..Measure::default()
    }
}

/// `arpu`.
pub const ARPU: Kpi = Kpi {
    id: "arpu",
    label_en: "Average revenue per user",
    label_vi: "Doanh thu trung bình mỗi khách hàng",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::SameLength,
    source: "000_0c99e78863d5dcfa",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Orders, RepeatOrders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed: amount, customer, previous_order_at",
        "null without orders; without previous_order_at every order counts as a new customer",
    ),
    fallback: None,
    trailing_year: false,
    formula: arpu,
};

/// `mrr`.
pub const MRR: Kpi = Kpi {
    id: "mrr",
    label_en: "Monthly recurring revenue",
    label_vi: "Doanh thu định kỳ hàng tháng",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Mrr],
    stocks: &[Mrr],
    breakdowns: &[],
    needs: Needs::new(
        "events subscription.changed: mrr, previous_mrr (a stock)",
        "null without subscriptions",
    ),
    fallback: None,
    trailing_year: false,
    formula: mrr,
};

/// `expansion_mrr`.
pub const EXPANSION_MRR: Kpi = Kpi {
    id: "expansion_mrr",
    label_en: "Expansion MRR",
    label_vi: "Doanh thu định kỳ mở rộng",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[ExpansionMrr],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events subscription.changed: mrr above previous_mrr",
        "null without subscription changes",
    ),
    fallback: None,
    trailing_year: false,
    formula: expansion_mrr,
};

/// `clv`.
pub const CLV: Kpi = Kpi {
    id: "clv",
    label_en: "Customer lifetime value",
    label_vi: "Giá trị trọn đời khách hàng",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Orders, OrderRecency, Customers],
    stocks: &[Customers],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed (amount, customer or previous_order_at) over the trailing year; customer.won / customer.lost or setting customer_lifespan_years",
        "null without orders in the trailing year, or without a lifespan (neither the setting nor lost customers)",
    ),
    fallback: None,
    trailing_year: true,
    formula: clv,
};

/// `customer_net_value`.
pub const CUSTOMER_NET_VALUE: Kpi = Kpi {
    id: "customer_net_value",
    label_en: "Net value per new customer",
    label_vi: "Giá trị ròng mỗi khách hàng mới",
    unit: Unit::Money,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[FirstOrders, Spend, Customers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed (first orders), spend and customer.won",
        "null without customers won",
    ),
    fallback: None,
    trailing_year: false,
    formula: customer_net_value,
};

/// `retention_rate`.
pub const RETENTION_RATE: Kpi = Kpi {
    id: "retention_rate",
    label_en: "Customer retention rate (CRR)",
    label_vi: "Tỷ lệ giữ chân khách hàng",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: Some(Target::per(70.0, 85.0, TargetPeriod::Year)),
    target_scaling: Scaling::Power,
    source: "000_0c99e78863d5dcfa",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Customers],
    stocks: &[Customers],
    breakdowns: &[],
    needs: Needs::new(
        "events customer.won / customer.lost and an opening balance of customers (a stock)",
        "null without customers at the period start",
    ),
    fallback: None,
    trailing_year: false,
    formula: retention_rate,
};

/// `churn_rate`.
pub const CHURN_RATE: Kpi = Kpi {
    id: "churn_rate",
    label_en: "Churn rate",
    label_vi: "Tỷ lệ khách hàng rời bỏ",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: Some(Target::per(5.0, 5.0, TargetPeriod::Month)),
    target_scaling: Scaling::Compound,
    source: "000_0c99e78863d5dcfa",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[Customers],
    stocks: &[Customers],
    breakdowns: &[],
    needs: Needs::new(
        "events customer.lost and an opening balance of customers (a stock)",
        "null without customers at the period start",
    ),
    fallback: None,
    trailing_year: false,
    formula: churn_rate,
};

/// `repeat_purchase_rate`.
pub const REPEAT_PURCHASE_RATE: Kpi = Kpi {
    id: "repeat_purchase_rate",
    label_en: "Repeat purchase rate",
    label_vi: "Tỷ lệ khách hàng quay lại",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: Some(Target::per(40.0, 40.0, TargetPeriod::Half)),
    target_scaling: Scaling::SameLength,
    source: "000_0c99e78863d5dcfa",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[],
    reads: &[RepeatOrders],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed: previous_order_at, second_previous_order_at",
        "null without orders; without previous_order_at every order counts as a first order",
    ),
    fallback: None,
    trailing_year: false,
    formula: repeat_purchase_rate,
};

/// `renewal_rate`.
pub const RENEWAL_RATE: Kpi = Kpi {
    id: "renewal_rate",
    label_en: "Renewal rate",
    label_vi: "Tỷ lệ gia hạn",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Agent],
    reads: &[Renewals],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events renewal.due and renewal.done",
        "null without renewals due",
    ),
    fallback: None,
    trailing_year: false,
    formula: renewal_rate,
};

/// `upsell_rate`.
pub const UPSELL_RATE: Kpi = Kpi {
    id: "upsell_rate",
    label_en: "Upsell / cross-sell rate",
    label_vi: "Tỷ lệ bán thêm",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::SameLength,
    source: "002_8183e6a055baabc9",
    group: Group::Value,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[Upsell, Customers],
    stocks: &[Customers],
    breakdowns: &[],
    needs: Needs::new(
        "events order.placed: upsell, customer (the API finds the previous upsell order) or previous_upsell_at; customers at the period start (a stock)",
        "null without customers at the period start; an upsell order without customer or previous_upsell_at counts as a customer of its own",
    ),
    fallback: None,
    trailing_year: false,
    formula: upsell_rate,
};

/// `retention_cost`.
pub const RETENTION_COST: Kpi = Kpi {
    id: "retention_cost",
    label_en: "Customer retention cost",
    label_vi: "Chi phí duy trì khách hàng",
    unit: Unit::Money,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[RetentionSpend, Customers, Mrr],
    stocks: &[Customers, Mrr],
    breakdowns: &[],
    needs: Needs::new(
        "events spend (purpose retention); customers and MRR (stocks)",
        "null without customers at the period end",
    ),
    fallback: None,
    trailing_year: false,
    formula: retention_cost,
};

/// `health_score`.
pub const HEALTH_SCORE: Kpi = Kpi {
    id: "health_score",
    label_en: "Customer health score",
    label_vi: "Điểm sức khỏe khách hàng",
    unit: Unit::Score,
    direction: Direction::Up,
    default_target: Some(Target::new(50.0, 70.0)),
    target_scaling: Scaling::AsIs,
    source: "003_7e7bb242a4f31d67",
    group: Group::Value,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[
        Nps,
        Csat5,
        Csat10,
        Customers,
        FirstResponse,
        FirstResponseBiz,
    ],
    stocks: &[Customers],
    breakdowns: &[],
    needs: Needs::new(
        "what nps, csat, churn_rate and first_response_time need",
        "null when none of its parts has a value; a part without a value does not count",
    ),
    fallback: None,
    trailing_year: false,
    formula: health_score,
};

/// The value KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[
    ARPU,
    MRR,
    EXPANSION_MRR,
    CLV,
    CUSTOMER_NET_VALUE,
    RETENTION_RATE,
    CHURN_RATE,
    REPEAT_PURCHASE_RATE,
    RENEWAL_RATE,
    UPSELL_RATE,
    RETENTION_COST,
    HEALTH_SCORE,
];
