//! The options that shape a report: language, sample threshold, segment, the period, and the
//! tenant settings some formulas read (CSAT thresholds, business hours, service targets,
//! licensed users, customer lifespan, revenue target).

use super::meta::Lang;
use crate::money::Currency;
use crate::period::Period;
use crate::rollup::Dim;
use crate::stats;
use crate::target::Target;
pub use crate::ticket::ServiceTargets;

/// Options that shape a report.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Label language.
    pub lang: Lang,
    /// Minimum sample for `insufficient_sample`.
    pub min_sample: u64,
    /// Target overriding the catalog default.
    pub target: Option<Target>,
    /// Segment dimension to break down by.
    pub segment: Option<Dim>,
    /// The period reported on: its first day opens the window of distinct-customer KPIs, its
    /// end is where stocks are read.
    pub period: Option<Period>,
    /// Lowest positive CSAT answer on the 5-point scale (default 4).
    pub csat_positive_5: u8,
    /// Lowest positive CSAT answer on the 10-point scale (default 8).
    pub csat_positive_10: u8,
    /// Report money in this currency (default: the one with the most facts).
    pub currency: Option<Currency>,
    /// Durations in business hours (tickets validated with a calendar) instead of calendar
    /// time.
    pub business_hours: bool,
    /// First-response targets per channel.
    pub service_targets: ServiceTargets,
    /// Licensed CRM users, for the adoption rate.
    pub licensed_users: Option<u64>,
    /// Mean customer lifespan in years for CLV (default: 1 ÷ the annualised churn).
    pub customer_lifespan_years: Option<f64>,
    /// Revenue target of the period in major units, for sales growth's progress.
    pub revenue_target: Option<f64>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            lang: Lang::Vi,
            min_sample: stats::DEFAULT_MIN_SAMPLE,
            target: None,
            segment: None,
            period: None,
            csat_positive_5: 4,
            csat_positive_10: 8,
            currency: None,
            business_hours: false,
            service_targets: ServiceTargets::default(),
            licensed_users: None,
            customer_lifespan_years: None,
            revenue_target: None,
        }
    }
}
