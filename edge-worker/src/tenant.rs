//! A tenant's hot configuration, which every request needs (zone, locale, allowed origins,
//! KPI targets, business hours, webhook): read from the isolate's memory, then KV, then D1,
//! the source of truth. Creating a tenant is `routes::tenants`' job, changing it
//! `routes::settings`' and `routes::targets`'.
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use kpi_core::calendar::BusinessHours;
use kpi_core::period::TimeZone;
use kpi_core::target::Target;
use serde::{Deserialize, Serialize};
use worker::Env;

use crate::error::{ApiError, ApiResult};
use crate::kpi_settings::KpiSettings;
use crate::memo::Memo;

const CONFIG_TTL_S: u64 = 60;

/// A tenant's configuration, as stored and as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConfig {
    /// Slug id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// IANA zone name.
    pub timezone: String,
    /// Default locale, `vi` or `en`.
    pub locale: String,
    /// Origins allowed to embed the widget.
    pub allowed_origins: Vec<String>,
    /// KPI targets overriding the catalog defaults, by KPI id (`PUT /v1/targets`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, Target>,
    /// Weekly opening hours (`PATCH /v1/settings`); durations are also measured in them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<WireHours>,
    /// Where alerts are posted (`PATCH /v1/settings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Generation of the webhook signing secret (bumped by a rotation).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub webhook_gen: i64,
    /// Generation of the tenant's survey links: links minted under an older one are void
    /// (`POST /v1/survey-links/revoke` bumps it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub link_gen: i64,
    /// What some KPIs need beyond targets (`PATCH /v1/settings`, `kpis`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub kpi_settings: KpiSettings,
    /// The tenant-local day from which the current business hours apply: tickets stored
    /// before were measured by the hours in force then (around the clock when there were
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_since: Option<String>,
    /// The KPIs whose status moves are announced to the webhook (`PATCH /v1/settings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<crate::kpi_settings::Alerts>,
}

fn is_default(k: &KpiSettings) -> bool {
    *k == KpiSettings::default()
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Opening hours as the API writes them: weekday (`mon`…`sun`) → `[["08:00", "12:00"], …]`.
/// Days left out are closed.
pub type WireHours = BTreeMap<String, Vec<[String; 2]>>;

/// Weekday names, Monday first, as `WireHours` keys.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// Validates wire hours into a calendar in zone `tz`.
pub fn parse_hours(w: &WireHours, tz: TimeZone) -> Result<BusinessHours, String> {
    let mut week: [Vec<(u16, u16)>; 7] = Default::default();
    for (day, intervals) in w {
        let i = WEEKDAYS
            .iter()
            .position(|d| d == day)
            .ok_or_else(|| format!("`{day}` is not a weekday (mon…sun)"))?;
        for [open, close] in intervals {
            match (minutes(open), minutes(close)) {
                (Some(o), Some(c)) => week[i].push((o, c)),
                _ => return Err(format!("`{open}`–`{close}` must be HH:MM times")),
            }
        }
    }
    BusinessHours::new(tz, week).map_err(|_| {
        "opening hours must be ordered, not overlap, and open at least once a week".into()
    })
}

impl TenantConfig {
    /// The tenant's zone (validated at creation; the default if it has since become unknown).
    pub fn tz(&self) -> TimeZone {
        TimeZone::from_name(&self.timezone).unwrap_or(TimeZone::DEFAULT)
    }

    /// The tenant's business-hours calendar, if it keeps one.
    pub fn hours(&self) -> Option<BusinessHours> {
        parse_hours(self.business_hours.as_ref()?, self.tz()).ok()
    }
}

/// A display name as given, trimmed, if it is one: 1–120 characters, none of them control
/// characters (the name is shown on survey pages and in the widget). Creation and
/// `PATCH /v1/settings` both apply it.
pub fn valid_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "`name` must have 1–120 characters, none of them control characters.".into(),
        ));
    }
    Ok(name.to_string())
}

/// `scheme://host[:port]` as a browser sends it in `Origin`: a DNS name or IP (IPv6 in
/// brackets), no path. Anything else could never match a request and only misleads.
pub fn valid_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((ip, port))
                if !ip.is_empty()
                    && ip
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') =>
            {
                (ip, port)
            }
            _ => return false,
        },
        None => {
            let end = rest.find(':').unwrap_or(rest.len());
            let host = &rest[..end];
            let name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
            if host.is_empty() || !host.bytes().all(name) {
                return false;
            }
            (host, &rest[end..])
        }
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
    };
    o.len() <= 200 && !host.is_empty() && port_ok
}

thread_local! {
    static MEMO: RefCell<Memo<Rc<TenantConfig>>> = RefCell::new(Memo::new());
}

/// The tenant's configuration: this isolate's copy, then KV's, then D1. Unknown → 404.
pub async fn config(env: &Env, id: &str) -> ApiResult<Rc<TenantConfig>> {
    if let Some(c) = MEMO.with(|m| m.borrow().get(id)) {
        return Ok(c);
    }
    let kv = env.kv("KV")?;
    let cache_key = format!("tenant:{id}");
    if let Some(c) = crate::kv::get::<TenantConfig>(&kv, &cache_key).await {
        let c = Rc::new(c);
        MEMO.with(|m| m.borrow_mut().put(id, c.clone()));
        return Ok(c);
    }
    let row = crate::db::tenants::get(&crate::db::open(env)?, id)
        .await?
        .ok_or(ApiError::NotFound("No such tenant."))?;
    let cfg = TenantConfig {
        id: row.id,
        name: row.name,
        timezone: row.timezone,
        locale: row.locale,
        allowed_origins: serde_json::from_str(&row.allowed_origins).unwrap_or_default(),
        targets: serde_json::from_str(&row.targets).unwrap_or_default(),
        business_hours: row
            .business_hours
            .and_then(|h| serde_json::from_str(&h).ok()),
        webhook_url: row.webhook_url,
        webhook_gen: row.webhook_gen as i64,
        link_gen: row.link_gen as i64,
        kpi_settings: row
            .kpi_settings
            .and_then(|k| serde_json::from_str(&k).ok())
            .unwrap_or_default(),
        hours_since: row.hours_since,
        alerts: row.alerts.and_then(|a| serde_json::from_str(&a).ok()),
    };
    let _ = crate::kv::put(&kv, &cache_key, &cfg, Some(CONFIG_TTL_S)).await;
    let cfg = Rc::new(cfg);
    MEMO.with(|m| m.borrow_mut().put(id, cfg.clone()));
    Ok(cfg)
}

fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Stores what `PATCH /v1/settings` may change of this configuration.
pub async fn save_settings(db: &worker::D1Database, t: &TenantConfig) -> ApiResult<()> {
    let hours = t.business_hours.as_ref().map(text);
    let kpis = (t.kpi_settings != KpiSettings::default()).then(|| text(&t.kpi_settings));
    let alerts = t.alerts.as_ref().map(text);
    let columns = crate::db::tenants::SettingsColumns {
        name: &t.name,
        locale: &t.locale,
        allowed_origins: &text(&t.allowed_origins),
        business_hours: hours.as_deref(),
        webhook_url: t.webhook_url.as_deref(),
        webhook_gen: t.webhook_gen,
        kpi_settings: kpis.as_deref(),
        hours_since: t.hours_since.as_deref(),
        alerts: alerts.as_deref(),
    };
    crate::db::tenants::update_settings(db, &t.id, &columns).await
}

/// Stores this configuration's targets.
pub async fn save_targets(db: &worker::D1Database, t: &TenantConfig) -> ApiResult<()> {
    crate::db::tenants::update_targets(db, &t.id, &text(&t.targets)).await
}

/// The statement creating this tenant.
pub fn insert(
    db: &worker::D1Database,
    t: &TenantConfig,
    created_at: &str,
) -> ApiResult<worker::D1PreparedStatement> {
    crate::db::tenants::insert(
        db,
        &t.id,
        &t.name,
        &t.timezone,
        &t.locale,
        &text(&t.allowed_origins),
        created_at,
    )
}

/// Drops every copy of tenant `id`'s configuration (this isolate's and KV's). The copies
/// inside cached key resolutions are `auth::invalidate`'s, which calls this.
pub async fn forget(env: &Env, id: &str) -> ApiResult<()> {
    MEMO.with(|m| m.borrow_mut().forget(id));
    env.kv("KV")?.delete(&format!("tenant:{id}")).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert_eq!(
            valid_name("  Hoa Sen Spa ").ok().as_deref(),
            Some("Hoa Sen Spa")
        );
        for bad in ["", "   ", "Spa\u{17}X", "Spa\tX", "Spa\nX"] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
        assert!(valid_name(&"x".repeat(120)).is_ok());
        assert!(valid_name(&"x".repeat(121)).is_err());
    }

    #[test]
    fn wire_hours() {
        let w: WireHours = serde_json::from_value(json!({
            "mon": [["08:00", "12:00"], ["13:30", "17:30"]], "sat": [["08:00", "24:00"]]
        }))
        .unwrap();
        let h = parse_hours(&w, TimeZone::DEFAULT).unwrap();
        assert_eq!(h.week[0], vec![(480, 720), (810, 1050)]);
        assert_eq!(h.week[5], vec![(480, 1440)]);
        for bad in [
            json!({"mon": [["12:00", "08:00"]]}),
            json!({"mon": [["8:00", "12:00"]]}),
            json!({"mon": [["08:00", "24:30"]]}),
            json!({"funday": [["08:00", "12:00"]]}),
            json!({"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}),
            json!({}),
        ] {
            let w: WireHours = serde_json::from_value(bad.clone()).unwrap();
            assert!(parse_hours(&w, TimeZone::DEFAULT).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert!(valid_origin("https://crm.hoasen.vn"));
        assert!(valid_origin("http://127.0.0.1:8787"));
        assert!(!valid_origin("https://crm.hoasen.vn/"));
        assert!(!valid_origin("crm.hoasen.vn"));
        assert!(!valid_origin("https://"));
        assert!(valid_origin("http://[::1]:8080"));
        // Found by spec fuzzing: these were accepted, yet no browser sends them.
        assert!(!valid_origin("http://["));
        assert!(!valid_origin("https://crm.hoasen.vn:"));
        assert!(!valid_origin("https://a b.vn"));
        assert!(!valid_origin("https://crm.hoasen.vn?x"));
    }
}
