//! Team: CRM adoption and activity per rep, from distinct active users and logged activities.
use super::measure::{proportion, Measure, Missing};
use super::meta::{Direction, Group, Indicator, Unit};
use super::sales::distinct_users;
use super::view::View;
use super::{Kpi, Needs};
use crate::rollup::Family::{ActiveUsers, Activities};
use crate::stats;
use crate::target::Target;
use crate::target::{Scaling, TargetPeriod};

fn crm_adoption_rate(v: &View) -> Measure {
    match v.opts.licensed_users {
        Some(l) if !v.totals(ActiveUsers).is_empty() => {
            proportion(distinct_users(v), l.min(i64::MAX as u64) as i64, v)
        }
        None if !v.totals(ActiveUsers).is_empty() => Measure {
            reason: Some(Missing::LicensedUsersNotSet),
            ..Measure::default()
        },
        _ => Measure::default(),
    }
}

fn activities_per_rep(v: &View) -> Measure {
    let reps = distinct_users(v);
    Measure {
        value: (reps > 0).then(|| stats::round_to(v.total(Activities).n as f64 / reps as f64, 1)),
        n: Some(reps.max(0) as u64),
        ..Measure::default()
    }
}

/// `crm_adoption_rate`.
pub const CRM_ADOPTION_RATE: Kpi = Kpi {
    id: "crm_adoption_rate",
    label_en: "CRM adoption rate",
    label_vi: "Tỷ lệ sử dụng CRM",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: Some(Target::per(80.0, 80.0, TargetPeriod::Month)),
    target_scaling: Scaling::SameLength,
    source: "000_0c99e78863d5dcfa",
    group: Group::Team,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[ActiveUsers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "events crm.user_active or crm.activity: user; setting licensed_users",
        "null with reason licensed_users_not_set without the setting; null without active users",
    ),
    fallback: None,
    trailing_year: false,
    formula: crm_adoption_rate,
};

/// `activities_per_rep`.
pub const ACTIVITIES_PER_REP: Kpi = Kpi {
    id: "activities_per_rep",
    label_en: "Calls and emails per rep",
    label_vi: "Số cuộc gọi, email mỗi nhân viên",
    unit: Unit::Count,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "002_8183e6a055baabc9",
    group: Group::Team,
    indicator: Indicator::Leading,
    segments: &[],
    reads: &[Activities, ActiveUsers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("events crm.activity: user, kind", "null without activities"),
    fallback: None,
    trailing_year: false,
    formula: activities_per_rep,
};

/// The team KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[CRM_ADOPTION_RATE, ACTIVITIES_PER_REP];
