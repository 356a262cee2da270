//! Marketing: acquisition costs and return, web and ad funnels, social and e-mail engagement,
//! and lead volume.
use super::measure::{count, pick_currency, proportion, ratio_money, round, Measure};
use super::meta::{Direction, Group, Indicator, Unit};
use super::view::View;
use super::{Kpi, Needs};
use crate::rollup::key;
use crate::rollup::Dim;
use crate::rollup::Family::{Ads, CampaignRevenue, Customers, Email, Leads, Social, Spend, Web};
use crate::target::Scaling;

/// Acquisition spend per unit of `den`, in the main currency of spend.
fn spend_per(v: &View, den: i64) -> Measure {
    let Some(cur) = pick_currency(v, &[Spend]) else {
        return Measure::default();
    };
    ratio_money(v.money(Spend, cur).sum, den, cur)
}

fn cost_per_lead(v: &View) -> Measure {
    spend_per(v, v.total(Leads).n)
}

fn cost_per_acquisition(v: &View) -> Measure {
    spend_per(v, v.at(Customers, key::CUSTOMER_WON))
}

fn cost_per_click(v: &View) -> Measure {
    spend_per(v, v.at(Ads, key::AD_CLICK))
}

fn roi(v: &View) -> Measure {
    let Some(cur) = pick_currency(v, &[Spend, CampaignRevenue]) else {
        return Measure::default();
    };
    let cost = v.money(Spend, cur).sum;
    let ret = v.money(CampaignRevenue, cur).sum;
    Measure {
        value: (cost > 0)
            .then(|| ret.saturating_sub(cost) as f64 * 100.0 / cost as f64)
            .and_then(|x| round(x, 1)),
        currency: Some(cur),
        ..Measure::default()
    }
}

fn visit_to_lead(v: &View) -> Measure {
    proportion(v.total(Leads).n, v.at(Web, key::WEB_VISIT), v)
}

fn landing_conversion(v: &View) -> Measure {
    proportion(
        v.at(Web, key::WEB_CONVERSION),
        v.at(Web, key::WEB_LANDING_VISIT),
        v,
    )
}

fn ctr(v: &View) -> Measure {
    proportion(v.at(Ads, key::AD_CLICK), v.at(Ads, key::AD_IMPRESSION), v)
}

fn bounce_rate(v: &View) -> Measure {
    proportion(v.at(Web, key::WEB_BOUNCE), v.at(Web, key::WEB_SESSION), v)
}

fn engagement_rate(v: &View) -> Measure {
    proportion(
        v.at(Social, key::SOCIAL_INTERACTION),
        v.at(Social, key::SOCIAL_REACH),
        v,
    )
}

fn email_open_rate(v: &View) -> Measure {
    proportion(
        v.at(Email, key::EMAIL_OPENED),
        v.at(Email, key::EMAIL_DELIVERED),
        v,
    )
}

fn email_click_rate(v: &View) -> Measure {
    proportion(
        v.at(Email, key::EMAIL_CLICKED),
        v.at(Email, key::EMAIL_DELIVERED),
        v,
    )
}

fn unsubscribe_rate(v: &View) -> Measure {
    proportion(
        v.at(Email, key::EMAIL_UNSUBSCRIBED),
        v.at(Email, key::EMAIL_DELIVERED),
        v,
    )
}

fn total_leads(v: &View) -> Measure {
    count(v.total(Leads).n, v.has(Leads))
}

/// `cost_per_lead`.
pub const COST_PER_LEAD: Kpi = Kpi {
    id: "cost_per_lead",
    label_en: "Cost per lead (CPL)",
    label_vi: "Chi phí mỗi khách hàng tiềm năng",
    unit: Unit::Money,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Spend, Leads],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events spend (purpose acquisition) and lead.created",
        "null without leads",
    ),
    fallback: None,
    trailing_year: false,
    formula: cost_per_lead,
};

/// `cost_per_acquisition`.
pub const COST_PER_ACQUISITION: Kpi = Kpi {
    id: "cost_per_acquisition",
    label_en: "Cost per conversion (CAC)",
    label_vi: "Chi phí mỗi chuyển đổi",
    unit: Unit::Money,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Spend, Customers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events spend (purpose acquisition) and customer.won",
        "null without customers won",
    ),
    fallback: None,
    trailing_year: false,
    formula: cost_per_acquisition,
};

/// `roi`.
pub const ROI: Kpi = Kpi {
    id: "roi",
    label_en: "Return on investment",
    label_vi: "Tỷ lệ ROI",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Spend, CampaignRevenue],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events spend and order.placed with a campaign",
        "null without spend",
    ),
    fallback: None,
    trailing_year: false,
    formula: roi,
};

/// `visit_to_lead`.
pub const VISIT_TO_LEAD: Kpi = Kpi {
    id: "visit_to_lead",
    label_en: "Traffic-to-lead ratio",
    label_vi: "Tỷ lệ truy cập thành khách tiềm năng",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    reads: &[Web, Leads],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events web.visit and lead.created", "null without visits"),
    fallback: None,
    trailing_year: false,
    formula: visit_to_lead,
};

/// `landing_conversion`.
pub const LANDING_CONVERSION: Kpi = Kpi {
    id: "landing_conversion",
    label_en: "Landing page conversion",
    label_vi: "Chuyển đổi trang đích",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    reads: &[Web],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events web.visit (landing) and web.conversion",
        "null without landing-page visits",
    ),
    fallback: None,
    trailing_year: false,
    formula: landing_conversion,
};

/// `ctr`.
pub const CTR: Kpi = Kpi {
    id: "ctr",
    label_en: "Click-through rate",
    label_vi: "Tỷ lệ nhấp",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Ads],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events ad.impression and ad.click",
        "null without impressions",
    ),
    fallback: None,
    trailing_year: false,
    formula: ctr,
};

/// `cost_per_click`.
pub const COST_PER_CLICK: Kpi = Kpi {
    id: "cost_per_click",
    label_en: "Cost per click",
    label_vi: "Chi phí mỗi nhấp chuột",
    unit: Unit::Money,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Spend, Ads],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events spend and ad.click", "null without clicks"),
    fallback: None,
    trailing_year: false,
    formula: cost_per_click,
};

/// `bounce_rate`.
pub const BOUNCE_RATE: Kpi = Kpi {
    id: "bounce_rate",
    label_en: "Bounce rate",
    label_vi: "Tỷ lệ thoát",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    reads: &[Web],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events web.session: pages", "null without sessions"),
    fallback: None,
    trailing_year: false,
    formula: bounce_rate,
};

/// `engagement_rate`.
pub const ENGAGEMENT_RATE: Kpi = Kpi {
    id: "engagement_rate",
    label_en: "Engagement rate",
    label_vi: "Tỷ lệ tương tác",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "001_52ae2a46d99de276",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign],
    reads: &[Social],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events social.reach and social.interaction",
        "null without reach",
    ),
    fallback: None,
    trailing_year: false,
    formula: engagement_rate,
};

/// `email_open_rate`.
pub const EMAIL_OPEN_RATE: Kpi = Kpi {
    id: "email_open_rate",
    label_en: "Email open rate",
    label_vi: "Tỷ lệ mở email",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Campaign],
    reads: &[Email],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events email.delivered and email.opened",
        "null without delivered e-mails",
    ),
    fallback: None,
    trailing_year: false,
    formula: email_open_rate,
};

/// `email_click_rate`.
pub const EMAIL_CLICK_RATE: Kpi = Kpi {
    id: "email_click_rate",
    label_en: "Email click rate",
    label_vi: "Tỷ lệ nhấp email",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Campaign],
    reads: &[Email],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events email.delivered and email.clicked",
        "null without delivered e-mails",
    ),
    fallback: None,
    trailing_year: false,
    formula: email_click_rate,
};

/// `unsubscribe_rate`.
pub const UNSUBSCRIBE_RATE: Kpi = Kpi {
    id: "unsubscribe_rate",
    label_en: "Unsubscribe rate",
    label_vi: "Tỷ lệ hủy đăng ký",
    unit: Unit::Percent,
    direction: Direction::Down,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "001_52ae2a46d99de276",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Campaign],
    reads: &[Email],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events email.delivered and email.unsubscribed",
        "null without delivered e-mails",
    ),
    fallback: None,
    trailing_year: false,
    formula: unsubscribe_rate,
};

/// `total_leads`.
pub const TOTAL_LEADS: Kpi = Kpi {
    id: "total_leads",
    label_en: "Total leads",
    label_vi: "Tổng số khách hàng tiềm năng",
    unit: Unit::Count,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "002_8183e6a055baabc9",
    group: Group::Marketing,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    reads: &[Leads],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events lead.created", "null without leads"),
    fallback: None,
    trailing_year: false,
    formula: total_leads,
};

/// The marketing KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[
    COST_PER_LEAD,
    COST_PER_ACQUISITION,
    ROI,
    VISIT_TO_LEAD,
    LANDING_CONVERSION,
    CTR,
    COST_PER_CLICK,
    BOUNCE_RATE,
    ENGAGEMENT_RATE,
    EMAIL_OPEN_RATE,
    EMAIL_CLICK_RATE,
    UNSUBSCRIBE_RATE,
    TOTAL_LEADS,
];
