//! The KPI catalog: every KPI id of `shared/spec/kpis.md` with its labels, unit, direction,
//! default target and source article. Owns the static definitions only; computing a KPI is
//! [`crate::kpi`]'s job, a tenant's own targets are [`crate::target`]'s.
use serde::{Deserialize, Serialize};

use crate::rollup::Dim;
use crate::target::Target;

/// Label language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Parses `vi` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The unit a KPI's value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A percentage, 0–100.
    Percent,
    /// A score on the KPI's own scale (NPS −100..100).
    Score,
    /// Seconds.
    Duration,
    /// Major units of a currency.
    Money,
    /// A whole number.
    Count,
    /// A ratio of two counts.
    Ratio,
}

/// Whether higher or lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
    /// Neither: a volume to watch (ticket volume, comments).
    None,
}

/// The six KPI groups of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Voice of the customer (surveys).
    Voice,
    /// Service desk (tickets).
    Service,
    /// Sales.
    Sales,
    /// Marketing.
    Marketing,
    /// Customer value and retention.
    Value,
    /// Team.
    Team,
}

/// Whether a KPI predicts (leading) or records (lagging) an outcome (step 7 of seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Moves before the outcome.
    Leading,
    /// Records the outcome.
    Lagging,
}

/// One entry of the KPI catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiDef {
    /// Stable id (`nps`, `csat`, …).
    pub id: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// Vietnamese label.
    pub label_vi: &'static str,
    /// Unit of the value.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// Default target, where the source articles give one. When an article gives a single
    /// threshold, `min` and `goal` are both that threshold.
    pub default_target: Option<Target>,
    /// Default target as a change against the tenant's baseline, in percent (CPL: 10–20 %
    /// below; ARPU: 15–30 % above), where the article gives it that way.
    pub baseline_target: Option<Target>,
    /// Source article (file stem in the seeds).
    pub source: &'static str,
    /// Catalog group.
    pub group: Group,
    /// Leading or lagging.
    pub indicator: Indicator,
    /// Segment dimensions the KPI's facts carry (`segment=` accepts these).
    pub segments: &'static [Dim],
}

impl KpiDef {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.label_vi,
            Lang::En => self.label_en,
        }
    }
}

/// Every KPI the product computes, in catalog order.
pub const CATALOG: &[KpiDef] = &[
    KpiDef {
        id: "nps",
        label_en: "Net Promoter Score",
        label_vi: "Chỉ số khuyến nghị",
        unit: Unit::Score,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 0.0,
            goal: 50.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Voice,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel],
    },
    KpiDef {
        id: "csat",
        label_en: "Customer Satisfaction",
        label_vi: "Mức độ hài lòng",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 85.0,
            goal: 85.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Voice,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel],
    },
    KpiDef {
        id: "csat_mean",
        label_en: "Mean satisfaction score",
        label_vi: "Điểm hài lòng trung bình",
        unit: Unit::Score,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Voice,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel],
    },
    KpiDef {
        id: "ces",
        label_en: "Customer Effort Score",
        label_vi: "Chỉ số nỗ lực khách hàng",
        unit: Unit::Score,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Voice,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel],
    },
    KpiDef {
        id: "survey_response_rate",
        label_en: "Survey response rate",
        label_vi: "Tỷ lệ phản hồi khảo sát",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "001_52ae2a46d99de276",
        group: Group::Voice,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Survey],
    },
    KpiDef {
        id: "feedback_balance",
        label_en: "Positive : negative feedback",
        label_vi: "Tỷ lệ phản hồi tích cực – tiêu cực",
        unit: Unit::Ratio,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Voice,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel],
    },
    KpiDef {
        id: "comments",
        label_en: "Qualitative feedback",
        label_vi: "Phản hồi định tính",
        unit: Unit::Count,
        direction: Direction::None,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Voice,
        indicator: Indicator::Lagging,
        segments: &[Dim::Survey],
    },
    KpiDef {
        id: "first_response_time",
        label_en: "First response time",
        label_vi: "Thời gian phản hồi đầu tiên",
        unit: Unit::Duration,
        direction: Direction::Down,
        default_target: Some(Target {
            min: 3600.0,
            goal: 300.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "resolution_time",
        label_en: "Resolution time",
        label_vi: "Thời gian giải quyết",
        unit: Unit::Duration,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "service_level",
        label_en: "Service level",
        label_vi: "Mức độ dịch vụ",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "fcr",
        label_en: "First contact resolution",
        label_vi: "Tỷ lệ giải quyết ngay lần đầu",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "backlog",
        label_en: "Unresolved requests",
        label_vi: "Số yêu cầu chưa giải quyết",
        unit: Unit::Count,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "ticket_volume",
        label_en: "Issues received",
        label_vi: "Số lượng vấn đề",
        unit: Unit::Count,
        direction: Direction::None,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "transfer_rate",
        label_en: "Transferred calls",
        label_vi: "% cuộc gọi được chuyển",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "abandonment_rate",
        label_en: "Abandonment rate",
        label_vi: "Tỷ lệ bỏ qua",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "support_cost_ratio",
        label_en: "Support cost vs revenue",
        label_vi: "Chi phí hỗ trợ so với doanh thu",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Service,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "conversion_rate",
        label_en: "Conversion rate",
        label_vi: "Tỷ lệ chuyển đổi khách hàng",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 5.0,
            goal: 20.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    },
    KpiDef {
        id: "transaction_conversion",
        label_en: "Transaction conversion",
        label_vi: "Tỷ lệ chuyển đổi giao dịch",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "001_52ae2a46d99de276",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Agent],
    },
    KpiDef {
        id: "stage_conversion",
        label_en: "Pipeline stage conversion",
        label_vi: "Chuyển đổi theo giai đoạn",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "004_a8e5ac888f8d34c3",
        group: Group::Sales,
        indicator: Indicator::Leading,
        segments: &[Dim::Stage],
    },
    KpiDef {
        id: "sales_cycle_length",
        label_en: "Sales cycle length",
        label_vi: "Độ dài chu kỳ bán hàng",
        unit: Unit::Duration,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source, Dim::Agent],
    },
    KpiDef {
        id: "lead_response_time",
        label_en: "Lead response time",
        label_vi: "Thời gian phản hồi khách tiềm năng",
        unit: Unit::Duration,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source, Dim::Agent],
    },
    KpiDef {
        id: "pipeline_value",
        label_en: "Pipeline value",
        label_vi: "Giá trị đường ống",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Leading,
        segments: &[Dim::Stage, Dim::Agent],
    },
    KpiDef {
        id: "average_order_value",
        label_en: "Average order value",
        label_vi: "Giá trị đơn hàng trung bình",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    },
    KpiDef {
        id: "revenue_per_rep",
        label_en: "Revenue per sales rep",
        label_vi: "Doanh thu mỗi nhân viên",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "sales_growth",
        label_en: "Sales growth",
        label_vi: "Tăng trưởng doanh số",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    },
    KpiDef {
        id: "cancellation_rate",
        label_en: "Order cancellation rate",
        label_vi: "Tỷ lệ hủy đơn",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Agent],
    },
    KpiDef {
        id: "appointment_acceptance",
        label_en: "Appointment acceptance",
        label_vi: "Tỷ lệ chấp nhận cuộc hẹn",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Sales,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "cost_per_lead",
        label_en: "Cost per lead (CPL)",
        label_vi: "Chi phí mỗi khách hàng tiềm năng",
        unit: Unit::Money,
        direction: Direction::Down,
        default_target: None,
        baseline_target: Some(Target {
            min: -10.0,
            goal: -20.0,
        }),
        source: "000_0c99e78863d5dcfa",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "cost_per_acquisition",
        label_en: "Cost per conversion (CAC)",
        label_vi: "Chi phí mỗi chuyển đổi",
        unit: Unit::Money,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "roi",
        label_en: "Return on investment",
        label_vi: "Tỷ lệ ROI",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "visit_to_lead",
        label_en: "Traffic-to-lead ratio",
        label_vi: "Tỷ lệ truy cập thành khách tiềm năng",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    },
    KpiDef {
        id: "landing_conversion",
        label_en: "Landing page conversion",
        label_vi: "Chuyển đổi trang đích",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    },
    KpiDef {
        id: "ctr",
        label_en: "Click-through rate",
        label_vi: "Tỷ lệ nhấp",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "cost_per_click",
        label_en: "Cost per click",
        label_vi: "Chi phí mỗi nhấp chuột",
        unit: Unit::Money,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "bounce_rate",
        label_en: "Bounce rate",
        label_vi: "Tỷ lệ thoát",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    },
    KpiDef {
        id: "engagement_rate",
        label_en: "Engagement rate",
        label_vi: "Tỷ lệ tương tác",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "001_52ae2a46d99de276",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "email_open_rate",
        label_en: "Email open rate",
        label_vi: "Tỷ lệ mở email",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Campaign],
    },
    KpiDef {
        id: "email_click_rate",
        label_en: "Email click rate",
        label_vi: "Tỷ lệ nhấp email",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Campaign],
    },
    KpiDef {
        id: "unsubscribe_rate",
        label_en: "Unsubscribe rate",
        label_vi: "Tỷ lệ hủy đăng ký",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "001_52ae2a46d99de276",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Campaign],
    },
    KpiDef {
        id: "total_leads",
        label_en: "Total leads",
        label_vi: "Tổng số khách hàng tiềm năng",
        unit: Unit::Count,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Marketing,
        indicator: Indicator::Leading,
        segments: &[Dim::Channel, Dim::Campaign, Dim::Source],
    },
    KpiDef {
        id: "arpu",
        label_en: "Average revenue per user",
        label_vi: "Doanh thu trung bình mỗi khách hàng",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: Some(Target {
            min: 15.0,
            goal: 30.0,
        }),
        source: "000_0c99e78863d5dcfa",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "mrr",
        label_en: "Monthly recurring revenue",
        label_vi: "Doanh thu định kỳ hàng tháng",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "expansion_mrr",
        label_en: "Expansion MRR",
        label_vi: "Doanh thu định kỳ mở rộng",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Leading,
        segments: &[],
    },
    KpiDef {
        id: "clv",
        label_en: "Customer lifetime value",
        label_vi: "Giá trị trọn đời khách hàng",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "customer_net_value",
        label_en: "Net value per new customer",
        label_vi: "Giá trị ròng mỗi khách hàng mới",
        unit: Unit::Money,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Campaign],
    },
    KpiDef {
        id: "retention_rate",
        label_en: "Customer retention rate (CRR)",
        label_vi: "Tỷ lệ giữ chân khách hàng",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 70.0,
            goal: 85.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "churn_rate",
        label_en: "Churn rate",
        label_vi: "Tỷ lệ khách hàng rời bỏ",
        unit: Unit::Percent,
        direction: Direction::Down,
        default_target: Some(Target {
            min: 5.0,
            goal: 5.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "repeat_purchase_rate",
        label_en: "Repeat purchase rate",
        label_vi: "Tỷ lệ khách hàng quay lại",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 40.0,
            goal: 40.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[],
    },
    KpiDef {
        id: "renewal_rate",
        label_en: "Renewal rate",
        label_vi: "Tỷ lệ gia hạn",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Lagging,
        segments: &[Dim::Channel, Dim::Agent],
    },
    KpiDef {
        id: "upsell_rate",
        label_en: "Upsell / cross-sell rate",
        label_vi: "Tỷ lệ bán thêm",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Value,
        indicator: Indicator::Leading,
        segments: &[],
    },
    KpiDef {
        id: "retention_cost",
        label_en: "Customer retention cost",
        label_vi: "Chi phí duy trì khách hàng",
        unit: Unit::Money,
        direction: Direction::Down,
        default_target: None,
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Leading,
        segments: &[],
    },
    KpiDef {
        id: "health_score",
        label_en: "Customer health score",
        label_vi: "Điểm sức khỏe khách hàng",
        unit: Unit::Score,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 50.0,
            goal: 70.0,
        }),
        baseline_target: None,
        source: "003_7e7bb242a4f31d67",
        group: Group::Value,
        indicator: Indicator::Leading,
        segments: &[],
    },
    KpiDef {
        id: "crm_adoption_rate",
        label_en: "CRM adoption rate",
        label_vi: "Tỷ lệ sử dụng CRM",
        unit: Unit::Percent,
        direction: Direction::Up,
        default_target: Some(Target {
            min: 80.0,
            goal: 80.0,
        }),
        baseline_target: None,
        source: "000_0c99e78863d5dcfa",
        group: Group::Team,
        indicator: Indicator::Leading,
        segments: &[],
    },
    KpiDef {
        id: "activities_per_rep",
        label_en: "Calls and emails per rep",
        label_vi: "Số cuộc gọi, email mỗi nhân viên",
        unit: Unit::Count,
        direction: Direction::Up,
        default_target: None,
        baseline_target: None,
        source: "002_8183e6a055baabc9",
        group: Group::Team,
        indicator: Indicator::Leading,
        segments: &[],
    },
];

/// Every catalog entry.
pub fn catalog() -> &'static [KpiDef] {
    CATALOG
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of kpis.md, for when the spec is not checked out beside the repository.
    const SPEC_IDS: &str = "nps csat csat_mean ces survey_response_rate feedback_balance comments \
        first_response_time resolution_time service_level fcr backlog ticket_volume transfer_rate \
        abandonment_rate support_cost_ratio conversion_rate transaction_conversion stage_conversion \
        sales_cycle_length lead_response_time pipeline_value average_order_value revenue_per_rep \
        sales_growth cancellation_rate appointment_acceptance cost_per_lead cost_per_acquisition roi \
        visit_to_lead landing_conversion ctr cost_per_click bounce_rate engagement_rate \
        email_open_rate email_click_rate unsubscribe_rate total_leads arpu mrr clv \
        customer_net_value retention_rate churn_rate repeat_purchase_rate renewal_rate upsell_rate \
        retention_cost health_score crm_adoption_rate activities_per_rep";

    #[test]
    fn every_id_of_the_spec_is_in_the_catalog_once() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/kpis.md");
        let spec = std::fs::read_to_string(path).unwrap_or_default();
        let mut spec_ids: alloc::vec::Vec<&str> = SPEC_IDS.split_whitespace().collect();
        for line in spec.lines().filter(|l| l.starts_with("| `")) {
            let first = line.split('|').nth(1).unwrap_or("");
            for part in first.split('`').skip(1).step_by(2) {
                spec_ids.push(part);
            }
        }
        assert!(spec_ids.len() >= 45, "{spec_ids:?}");
        for id in &spec_ids {
            assert!(CATALOG.iter().any(|d| d.id == *id), "{id} missing");
        }
        for (i, d) in CATALOG.iter().enumerate() {
            assert!(
                CATALOG[i + 1..].iter().all(|e| e.id != d.id),
                "{} twice",
                d.id
            );
            assert!(!d.label_vi.is_empty() && !d.label_en.is_empty());
            assert!(d.source.len() == 20, "{}", d.id);
        }
    }
}
