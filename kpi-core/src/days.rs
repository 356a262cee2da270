//! A span of per-day rollups as one value: what `GET /v1/rollups` serves and the widget's
//! offline `mount(el, { data })` reads, and the KPI reports over any period inside the span,
//! computed exactly as the worker's `GET /v1/kpis` computes them. Owns the assembly of a
//! period's inputs from days; not the formulas ([`crate::kpi`]) nor where the days are stored.
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::json::{self, JsonError};
use crate::kpi::{Kpi, ReportOptions};
use crate::period::{CivilDate, Period};
use crate::report::{self, KpiReport, Span, SpanBuilder};
use crate::rollup::{Family, Rollup};
use crate::target::{Target, TargetPeriod};

/// Per-day rollups of a tenant over `[from, to]`, with what a report needs beside them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayRollups {
    /// The tenant's IANA time zone (the zone the days are civil days of).
    pub tz: String,
    /// First day held, `YYYY-MM-DD`.
    pub from: String,
    /// Last day held, inclusive.
    pub to: String,
    /// Every day before `from`, merged, for the stock families only (backlog, pipeline,
    /// MRR, customers): stocks are sums over all days up to a period's end.
    #[serde(default, with = "wire")]
    pub opening: Rollup,
    /// One rollup per day that has data, keyed `YYYY-MM-DD`.
    #[serde(default, with = "wire_days")]
    pub days: BTreeMap<String, Rollup>,
    /// The tenant's targets by KPI id, overriding the catalog defaults.
    #[serde(default)]
    pub targets: BTreeMap<String, Target>,
}

/// Rollups travel as base64 of their [`codec`] bytes: compact, versioned, and free of the
/// 64-bit integers (`key::STILL_OPEN`) that a JavaScript page holding the data as an object
/// would round to the nearest double.
mod wire {
    use alloc::string::String;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use crate::rollup::Rollup;
    use crate::{base64, codec};

    /// The rollup's codec bytes as standard, padded base64 ([`base64`]: decoded strictly).
    pub fn encode(r: &Rollup) -> String {
        base64::encode(&codec::encode(r))
    }

    pub fn decode(s: &str) -> Option<Rollup> {
        let bytes = base64::decode(s)?;
        codec::decode(&bytes).ok()
    }

    pub fn serialize<S: Serializer>(r: &Rollup, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(r))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Rollup, D::Error> {
        let s = String::deserialize(d)?;
        decode(&s).ok_or_else(|| D::Error::custom("not a base64-encoded rollup"))
    }
}

mod wire_days {
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use serde::{de::Error, ser::SerializeMap, Deserialize, Deserializer, Serializer};

    use crate::rollup::Rollup;

    pub fn serialize<S: Serializer>(m: &BTreeMap<String, Rollup>, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(m.len()))?;
        for (day, r) in m {
            map.serialize_entry(day, &super::wire::encode(r))?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Rollup>, D::Error> {
        let raw = BTreeMap::<String, String>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (day, s) in raw {
            let r = super::wire::decode(&s)
                .ok_or_else(|| D::Error::custom("not a base64-encoded rollup"))?;
            out.insert(day, r);
        }
        Ok(out)
    }
}

impl DayRollups {
    /// Reads the JSON of `GET /v1/rollups` without serde (the widget's offline module):
    /// every member the serde form has, unknown members ignored.
    pub fn from_json(text: &str) -> Result<DayRollups, JsonError> {
        let v = json::parse(text)?;
        let s = |k: &str| -> Result<String, JsonError> {
            v.get(k)
                .and_then(json::Value::as_str)
                .map(String::from)
                .ok_or(JsonError("a string member is missing"))
        };
        let rollup = |t: &str| wire::decode(t).ok_or(JsonError("not a base64-encoded rollup"));
        let mut out = DayRollups {
            tz: s("tz")?,
            from: s("from")?,
            to: s("to")?,
            ..DayRollups::default()
        };
        if let Some(o) = v.get("opening").and_then(json::Value::as_str) {
            out.opening = rollup(o)?;
        }
        if let Some(json::Value::Object(days)) = v.get("days") {
            for (day, r) in days {
                let r = r.as_str().ok_or(JsonError("a day is not a string"))?;
                out.days.insert(day.clone(), rollup(r)?);
            }
        }
        if let Some(json::Value::Object(targets)) = v.get("targets") {
            for (id, t) in targets {
                let n = |k: &str| t.get(k).and_then(json::Value::as_f64);
                let (Some(min), Some(goal)) = (n("min"), n("goal")) else {
                    return Err(JsonError("a target needs min and goal"));
                };
                let period = match t.get("period") {
                    None | Some(json::Value::Null) => None,
                    Some(p) => Some(
                        p.as_str()
                            .and_then(TargetPeriod::parse)
                            .ok_or(JsonError("a target's period is not a period"))?,
                    ),
                };
                out.targets.insert(id.clone(), Target { min, goal, period });
            }
        }
        Ok(out)
    }

    /// The span a report over `period` reads: one bucket per sub-period ([`report::buckets`])
    /// merged from the days, and the stocks at the period's end (the opening balance plus
    /// every day before it). Days outside the span count as empty.
    pub fn span(&self, period: Period, compare: bool, defs: &[&Kpi]) -> Span {
        let mut b = SpanBuilder::new();
        let days = |p: Period| {
            self.days
                .range::<str, _>((
                    core::ops::Bound::Included(p.from.to_string().as_str()),
                    core::ops::Bound::Excluded(p.to.to_string().as_str()),
                ))
                .map(|(_, r)| r)
        };
        for p in report::buckets(period, compare) {
            b = b.bucket_sum(p.from, p.to, days(p));
        }
        let trailing = defs.iter().any(|d| d.trailing_year);
        // Trailing years end at the last day held (today, for the widget's data).
        let until = CivilDate::parse(&self.to)
            .and_then(|d| d.add_days(1))
            .unwrap_or(period.to);
        for w in report::windows(period, compare, until)
            .into_iter()
            .filter(|_| trailing)
        {
            b = b.window_sum(w.from, w.to, days(w));
        }
        let stocks: Vec<Family> = defs.iter().flat_map(|d| d.stocks.iter().copied()).collect();
        if !stocks.is_empty() {
            let end = period.to.to_string();
            let before = self
                .days
                .range::<str, _>((
                    core::ops::Bound::Unbounded,
                    core::ops::Bound::Excluded(end.as_str()),
                ))
                .map(|(_, r)| r);
            b = b.closing_sum(core::iter::once(&self.opening).chain(before), &stocks);
        }
        b.finish()
    }

    /// The reports of `defs` over `period` (and its previous period when `compare`): the
    /// same assembly the worker runs on D1's counters, so the same numbers. A tenant target
    /// overrides the catalog default of its KPI.
    pub fn reports(
        &self,
        period: Period,
        compare: bool,
        defs: &[&'static Kpi],
        opts: &ReportOptions,
    ) -> Vec<KpiReport> {
        let span = self.span(period, compare, defs);
        report::reports(&span, period, compare, defs, opts, &self.targets)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kpi;
    use crate::period::{CivilDate, PeriodKind};
    use crate::rollup::{key, Cell, CellKey, Dim};

    /// A day of NPS answers: `promoters` 10s and `detractors` 2s.
    pub(crate) fn nps_day(promoters: i64, detractors: i64) -> Rollup {
        let mut r = Rollup::new();
        r.add(
            CellKey::total(Family::Nps, 10),
            Cell {
                n: promoters,
                sum: 0,
            },
        );
        r.add(
            CellKey::total(Family::Nps, 2),
            Cell {
                n: detractors,
                sum: 0,
            },
        );
        r
    }

    #[test]
    fn a_month_with_its_previous_month_equals_the_report_over_merged_rollups() {
        let mut days = BTreeMap::new();
        days.insert("2026-10-03".to_string(), nps_day(3, 1));
        days.insert("2026-11-02".to_string(), nps_day(5, 1));
        days.insert("2026-11-20".to_string(), nps_day(1, 3));
        let data = DayRollups {
            tz: "Asia/Ho_Chi_Minh".into(),
            from: "2026-10-01".into(),
            to: "2026-11-30".into(),
            days,
            ..Default::default()
        };
        let period =
            Period::containing(PeriodKind::Month, CivilDate::parse("2026-11-15").unwrap()).unwrap();
        let nps = kpi::find("nps").unwrap();
        let got = &data.reports(period, true, &[nps], &ReportOptions::default())[0];
        let mut cur = nps_day(5, 1);
        cur.merge(&nps_day(1, 3));
        let series: Vec<(String, Rollup)> = period
            .series()
            .iter()
            .map(|p| {
                let from = p.from.to_string();
                let r = data.days.get(&from).cloned().unwrap_or_default();
                (from, r)
            })
            .collect();
        let want = report::report(
            nps,
            &cur,
            Some(&nps_day(3, 1)),
            &series,
            &ReportOptions {
                period: Some(period),
                ..ReportOptions::default()
            },
        );
        assert_eq!(got, &want);
        assert_eq!(got.measure.value, Some(20.0));
        assert_eq!(got.previous, Some(50.0));
    }

    #[test]
    fn base64_with_a_misplaced_pad_is_rejected() {
        let r = opening_like();
        let text = wire::encode(&r);
        assert_eq!(wire::decode(&text), Some(r));
        // The padding of a length not divisible by 3, moved into the middle.
        assert!(text.ends_with('='), "{text}");
        let body = text.trim_end_matches('=');
        let mid = body.len() / 2;
        let misplaced = alloc::format!("{}={}", &body[..mid], &body[mid..]);
        assert_eq!(wire::decode(&misplaced), None);
        assert_eq!(wire::decode(&alloc::format!("={body}")), None);
        assert_eq!(wire::decode(&alloc::format!("{text}=")), None);
        assert_eq!(wire::decode("!!"), None);
    }

    fn opening_like() -> Rollup {
        let mut r = nps_day(2, 1);
        r.add(
            CellKey::new(Family::Nps, Dim::Channel, "Tết \"zalo\"", 9),
            Cell { n: 1, sum: 1 },
        );
        r
    }

    #[test]
    fn stocks_count_the_opening_balance_and_survive_json() {
        // One ticket opened before the span and still open: the backlog at any period's end.
        let mut opening = Rollup::new();
        opening.add(
            CellKey::new(Family::TicketOpenUntil, Dim::All, "", key::STILL_OPEN),
            Cell { n: 1, sum: 0 },
        );
        let data = DayRollups {
            tz: "Asia/Ho_Chi_Minh".into(),
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            opening,
            ..Default::default()
        };
        let json = serde_json::to_string(&data).unwrap();
        assert!(!json.contains("9223372036854775807"), "{json}");
        let back: DayRollups = serde_json::from_str(&json).unwrap();
        assert_eq!(back, data);
        assert_eq!(DayRollups::from_json(&json), Ok(data.clone()));
        let mut with_more = data.clone();
        with_more.days.insert("2026-11-03".into(), opening_like());
        with_more
            .targets
            .insert("nps".into(), Target::new(0.5, 60.0));
        let json = serde_json::to_string(&with_more).unwrap();
        assert_eq!(DayRollups::from_json(&json), Ok(with_more));
        assert!(DayRollups::from_json("{\"tz\": 1}").is_err());
        assert!(DayRollups::from_json(
            "{\"tz\":\"x\",\"from\":\"a\",\"to\":\"b\",\"days\":{\"d\":\"!!\"}}"
        )
        .is_err());
        let period =
            Period::containing(PeriodKind::Month, CivilDate::parse("2026-11-15").unwrap()).unwrap();
        let backlog = kpi::find("backlog").unwrap();
        let r = &back.reports(period, false, &[backlog], &ReportOptions::default())[0];
        assert_eq!(r.measure.value, Some(1.0));
    }
}
