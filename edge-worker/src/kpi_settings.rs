//! The settings a tenant gives some KPIs, beyond targets (`PATCH /v1/settings`, field
//! `kpis`): licensed CRM users (adoption), the CSAT top box on each scale, the first-response
//! target of each channel (service level), the customer lifespan (CLV) and the weights of the
//! scorecard. Every field is optional; a field left out keeps kpi-core's default, which the
//! catalog states. Validated here, applied to each report through `ReportOptions`.
use std::collections::BTreeMap;

use kpi_core::kpi::{self, ReportOptions, ServiceTargets};
use kpi_core::period::PeriodKind;
use kpi_core::Channel;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// What `kpis` in `PATCH /v1/settings` may hold, as stored and served.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSettings {
    /// CRM seats the tenant pays for: CRM adoption is active users ÷ this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licensed_users: Option<u64>,
    /// Lowest score counted satisfied on the 5-point CSAT scale (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_top_box_5: Option<u8>,
    /// Lowest score counted satisfied on the 10-point CSAT scale (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_top_box_10: Option<u8>,
    /// First-response target of each channel in seconds (defaults: chat and Zalo 300, phone
    /// 60, the rest 3600), for the service level.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub first_response_targets: BTreeMap<String, u32>,
    /// Mean customer lifespan in years, for CLV (default: 1 ÷ the annualised churn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_lifespan_years: Option<f64>,
    /// Weight of each KPI in the scorecard, by KPI id (default: the catalog's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scorecard_weights: BTreeMap<String, f64>,
}

fn invalid(m: String) -> ApiError {
    ApiError::Invalid(format!("kpis.{m}"))
}

impl KpiSettings {
    /// Checks every field against its bounds and the catalog.
    pub fn validate(&self) -> ApiResult<()> {
        if self
            .licensed_users
            .is_some_and(|n| !(1..=1_000_000).contains(&n))
        {
            return Err(invalid("licensed_users must be 1–1000000".into()));
        }
        if self.csat_top_box_5.is_some_and(|s| !(2..=5).contains(&s)) {
            return Err(invalid("csat_top_box_5 must be 2–5".into()));
        }
        if self.csat_top_box_10.is_some_and(|s| !(2..=10).contains(&s)) {
            return Err(invalid("csat_top_box_10 must be 2–10".into()));
        }
        for (channel, secs) in &self.first_response_targets {
            Channel::parse(channel).map_err(|_| {
                invalid(format!(
                    "first_response_targets: unknown channel `{channel}`"
                ))
            })?;
            if !(1..=7 * 86_400).contains(secs) {
                return Err(invalid(format!(
                    "first_response_targets.{channel} must be 1–604800 seconds"
                )));
            }
        }
        if self
            .customer_lifespan_years
            .is_some_and(|y| !(y.is_finite() && (0.1..=50.0).contains(&y)))
        {
            return Err(invalid("customer_lifespan_years must be 0.1–50".into()));
        }
        if self.scorecard_weights.len() > 100 {
            return Err(invalid("scorecard_weights: at most 100 KPIs".into()));
        }
        for (id, w) in &self.scorecard_weights {
            kpi::find(id).map_err(|e| {
                ApiError::Rejected("unknown_kpi", format!("kpis.scorecard_weights: {e}"))
            })?;
            if !(w.is_finite() && (0.0..=100.0).contains(w)) {
                return Err(invalid(format!("scorecard_weights.{id} must be 0–100")));
            }
        }
        Ok(())
    }

    /// The first-response targets, the defaults where the tenant set none.
    pub fn service_targets(&self) -> ServiceTargets {
        let mut t = ServiceTargets::default();
        for (i, c) in Channel::ALL.iter().enumerate() {
            if let Some(s) = self.first_response_targets.get(c.as_str()) {
                t.0[i] = *s;
            }
        }
        t
    }

    /// The first-response targets as `rejudge` reads them: a JSON map of every channel to
    /// its target in milliseconds.
    pub fn targets_ms_json(&self) -> String {
        let t = self.service_targets();
        let mut by_channel = serde_json::Map::new();
        for c in Channel::ALL {
            by_channel.insert(c.as_str().into(), (u64::from(t.of(c)) * 1000).into());
        }
        serde_json::Value::Object(by_channel).to_string()
    }

    /// Applies these settings to a report's options.
    pub fn apply(&self, opts: &mut ReportOptions) {
        if let Some(n) = self.licensed_users {
            opts.licensed_users = Some(n);
        }
        if let Some(s) = self.csat_top_box_5 {
            opts.csat_positive_5 = s;
        }
        if let Some(s) = self.csat_top_box_10 {
            opts.csat_positive_10 = s;
        }
        opts.service_targets = self.service_targets();
        if let Some(y) = self.customer_lifespan_years {
            opts.customer_lifespan_years = Some(y);
        }
    }
}

/// KPIs a tenant may watch.
const MAX_KPIS: usize = 20;

/// What a tenant watches (`alerts` in `PATCH /v1/settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// KPI ids.
    pub kpis: Vec<String>,
    /// `day`, `week` or `month`: the current one is computed.
    pub period: String,
}

impl Alerts {
    /// Checks the KPI ids against the catalog and the period.
    pub fn validate(&self) -> ApiResult<()> {
        if self.kpis.is_empty() || self.kpis.len() > MAX_KPIS {
            return Err(ApiError::Invalid(format!(
                "alerts.kpis must list 1–{MAX_KPIS} KPI ids"
            )));
        }
        for id in &self.kpis {
            kpi::find(id)
                .map_err(|e| ApiError::Rejected("unknown_kpi", format!("alerts.kpis: {e}")))?;
        }
        self.period_kind()?;
        Ok(())
    }

    /// The kind of the period watched.
    pub fn period_kind(&self) -> ApiResult<PeriodKind> {
        match self.period.as_str() {
            "day" => Ok(PeriodKind::Day),
            "week" => Ok(PeriodKind::Week),
            "month" => Ok(PeriodKind::Month),
            _ => Err(ApiError::Invalid(
                "alerts.period must be `day`, `week` or `month`".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> KpiSettings {
        serde_json::from_value(v).expect("well-formed")
    }

    #[test]
    fn bounds_and_catalog_ids_are_checked() {
        let ok = parse(
            serde_json::json!({"licensed_users": 25, "csat_top_box_5": 4,
            "first_response_targets": {"email": 14400, "chat": 120},
            "customer_lifespan_years": 3.5, "scorecard_weights": {"nps": 2.0}}),
        );
        assert!(ok.validate().is_ok());
        let t = ok.service_targets();
        assert_eq!(t.of(Channel::Email), 14400);
        assert_eq!(t.of(Channel::Chat), 120);
        assert_eq!(
            t.of(Channel::Phone),
            ServiceTargets::default().of(Channel::Phone)
        );
        for bad in [
            serde_json::json!({"licensed_users": 0}),
            serde_json::json!({"csat_top_box_5": 6}),
            serde_json::json!({"first_response_targets": {"fax": 60}}),
            serde_json::json!({"first_response_targets": {"chat": 0}}),
            serde_json::json!({"customer_lifespan_years": 0.0}),
            serde_json::json!({"scorecard_weights": {"nope": 1.0}}),
            serde_json::json!({"scorecard_weights": {"nps": -1.0}}),
        ] {
            assert!(parse(bad.clone()).validate().is_err(), "{bad}");
        }
    }
}
