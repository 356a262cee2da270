//! Business hours: a tenant's weekly opening hours in its time zone, and the business time
//! between two instants. Owns the weekly calendar only; public holidays are not modelled
//! (a closed day is a weekday with no interval).
//!
//! The business time between `a` and `b` is `C(b) − C(a)`, where `C(t)` counts the business
//! milliseconds from a fixed Monday before 1970 to `t`: whole weeks times the weekly total,
//! plus the days of `t`'s week so far. Constant time whatever the span, integers only.
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::period::TimeZone;
use crate::FactError;

const DAY_MS: i64 = 86_400_000;
const MIN_MS: i64 = 60_000;

/// Weekly opening hours: for each weekday (Monday first), intervals `[open, close)` in
/// minutes after local midnight, sorted and not overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// Offset of the tenant's zone east of UTC, minutes.
    pub offset_minutes: i16,
    /// Monday..Sunday, each a list of `(open, close)` minutes of the day.
    pub week: [Vec<(u16, u16)>; 7],
}

impl BusinessHours {
    /// Validates a calendar: every interval within 0..=1440, open before close, sorted,
    /// disjoint, and at least one opening in the week.
    pub fn new(tz: TimeZone, week: [Vec<(u16, u16)>; 7]) -> Result<Self, FactError> {
        for day in &week {
            let mut last_close = 0u16;
            for (i, &(open, close)) in day.iter().enumerate() {
                if open >= close || close > 1440 || (i > 0 && open < last_close) {
                    return Err(FactError::InvalidHours);
                }
                last_close = close;
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(FactError::InvalidHours);
        }
        Ok(BusinessHours {
            offset_minutes: tz.offset_minutes,
            week,
        })
    }

    /// The same hours (`open`..`close` minutes) Monday to Friday, optionally Saturday.
    pub fn weekdays(
        tz: TimeZone,
        intervals: &[(u16, u16)],
        saturday: bool,
    ) -> Result<Self, FactError> {
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (i, day) in week.iter_mut().enumerate() {
            if i < 5 || (i == 5 && saturday) {
                *day = intervals.to_vec();
            }
        }
        BusinessHours::new(tz, week)
    }

    fn day_ms(&self, weekday: usize) -> i64 {
        self.week[weekday]
            .iter()
            .map(|&(o, c)| (c.min(1440) as i64 - o as i64).max(0) * MIN_MS)
            .sum()
    }

    fn within_day(&self, weekday: usize, ms_of_day: i64) -> i64 {
        self.week[weekday]
            .iter()
            .map(|&(o, c)| {
                // Deserialized calendars skip `new`: an inverted interval counts as empty.
                let (o, c) = (o as i64 * MIN_MS, c.min(1440) as i64 * MIN_MS);
                (ms_of_day.min(c) - o).max(0)
            })
            .sum()
    }

    /// Business ms from the reference Monday to the instant `unix_ms`.
    fn cumulative(&self, unix_ms: i64) -> i64 {
        let local = unix_ms.saturating_add(self.offset_minutes as i64 * MIN_MS);
        let day = local.div_euclid(DAY_MS);
        let ms_of_day = local.rem_euclid(DAY_MS);
        // 1970-01-01 was a Thursday: day + 3 counts from Monday 1969-12-29.
        let weeks = (day + 3).div_euclid(7);
        let weekday = (day + 3).rem_euclid(7) as usize;
        let weekly: i64 = (0..7).map(|d| self.day_ms(d)).sum();
        let earlier_days: i64 = (0..weekday).map(|d| self.day_ms(d)).sum();
        weeks
            .saturating_mul(weekly)
            .saturating_add(earlier_days)
            .saturating_add(self.within_day(weekday, ms_of_day))
    }

    /// Business milliseconds between two instants (0 when `to` is not after `from`).
    pub fn business_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        self.cumulative(to_ms)
            .saturating_sub(self.cumulative(from_ms))
            .max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::parse_rfc3339;

    fn office() -> BusinessHours {
        // 08:00–12:00 and 13:30–17:30, Monday to Friday.
        BusinessHours::weekdays(TimeZone::DEFAULT, &[(480, 720), (810, 1050)], false).unwrap()
    }

    fn t(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn lunch_break_and_night_do_not_count() {
        let h = office();
        // Monday 2026-11-23 11:30 → 14:00 local: 30 min before lunch + 30 min after.
        let a = t("2026-11-23T11:30:00+07:00");
        let b = t("2026-11-23T14:00:00+07:00");
        assert_eq!(h.business_ms(a, b), 60 * MIN_MS);
        // Friday 17:00 → Monday 08:30: 30 min Friday + 30 min Monday.
        let a = t("2026-11-27T17:00:00+07:00");
        let b = t("2026-11-30T08:30:00+07:00");
        assert_eq!(h.business_ms(a, b), 60 * MIN_MS);
        assert_eq!(h.business_ms(b, a), 0);
    }

    #[test]
    fn long_spans_are_whole_weeks() {
        let h = office();
        let a = t("2026-01-05T00:00:00+07:00"); // a Monday
        let b = t("2027-01-04T00:00:00+07:00"); // 52 weeks later
        assert_eq!(h.business_ms(a, b), 52 * 5 * 8 * 60 * MIN_MS);
    }

    #[test]
    fn invalid_calendars_are_rejected() {
        let tz = TimeZone::DEFAULT;
        assert!(BusinessHours::weekdays(tz, &[(600, 500)], false).is_err());
        assert!(BusinessHours::weekdays(tz, &[(0, 1441)], false).is_err());
        assert!(BusinessHours::weekdays(tz, &[(0, 600), (500, 700)], false).is_err());
        assert!(BusinessHours::new(tz, Default::default()).is_err());
    }
}
