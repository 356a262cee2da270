//! Calendar days in the tenant's time zone, and the periods KPIs are reported over (day, ISO
//! week, month, quarter, year, any range; the previous period; sub-periods for a series).
//! Owns civil-date arithmetic and zone offsets; does not own the clock (instants come in as
//! Unix milliseconds from the caller).
use alloc::string::String;
use core::fmt;

use crate::FactError;

/// A calendar date (proleptic Gregorian), the unit of every rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    /// Year, 1970..=9999.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=31.
    pub day: u8,
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// 9999-12-31 in days since 1970-01-01: the last day a [`CivilDate`] holds.
const MAX_DAY_NUMBER: i64 = 2_932_896;

impl CivilDate {
    /// A validated date; years outside 1970..=9999 are rejected.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, FactError> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(FactError::InvalidDate);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(FactError::InvalidDate);
        }
        Ok(CivilDate { year, month, day })
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year as i64, self.month as i64, self.day as i64)
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Result<Self, FactError> {
        // 1970-01-01 ..= 9999-12-31; also keeps the arithmetic below far from overflow.
        if !(0..=MAX_DAY_NUMBER).contains(&days) {
            return Err(FactError::InvalidDate);
        }
        let (y, m, d) = civil_from_days(days);
        let year = i32::try_from(y).map_err(|_| FactError::InvalidDate)?;
        CivilDate::new(year, m as u8, d as u8)
    }

    /// The date `n` days later (or earlier for negative `n`).
    pub fn add_days(self, n: i64) -> Result<Self, FactError> {
        let days = self
            .days_since_epoch()
            .checked_add(n)
            .ok_or(FactError::InvalidDate)?;
        Self::from_days_since_epoch(days)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, FactError> {
        let b = s.as_bytes();
        if b.len() != 10 || !s.is_ascii() || b[4] != b'-' || b[7] != b'-' {
            return Err(FactError::InvalidDate);
        }
        // `get`, not indexing: no panic path (and its formatting) in the wasm builds.
        let part = |r: core::ops::Range<usize>| s.get(r).ok_or(FactError::InvalidDate);
        let year = parse_digits(part(0..4)?)? as i32;
        let month = parse_digits(part(5..7)?)? as u8;
        let day = parse_digits(part(8..10)?)? as u8;
        CivilDate::new(year, month, day)
    }

    /// The calendar day containing the instant `unix_ms` in zone `tz`.
    pub fn of_instant(unix_ms: i64, tz: TimeZone) -> Result<Self, FactError> {
        Self::from_days_since_epoch(Self::day_number_of_instant(unix_ms, tz)?)
    }

    /// [`CivilDate::of_instant`]'s days since 1970-01-01, without the calendar: what a
    /// counter keyed by day needs.
    pub fn day_number_of_instant(unix_ms: i64, tz: TimeZone) -> Result<i64, FactError> {
        let days = unix_ms
            .checked_add(tz.offset_minutes as i64 * 60_000)
            .ok_or(FactError::InvalidDate)?
            .div_euclid(86_400_000);
        match (0..=MAX_DAY_NUMBER).contains(&days) {
            true => Ok(days),
            false => Err(FactError::InvalidDate),
        }
    }

    /// Monday 0 … Sunday 6.
    pub fn weekday(self) -> u8 {
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }

    /// The ISO 8601 week-numbering year and week (1..=53) of this day.
    pub fn iso_week(self) -> (i32, u8) {
        // The week's Thursday decides its year.
        let d = self.days_since_epoch();
        let thursday = d - self.weekday() as i64 + 3;
        let (y, _, _) = civil_from_days(thursday);
        let jan1 = days_from_civil(y, 1, 1);
        (y as i32, ((thursday - jan1) / 7 + 1) as u8)
    }

    /// The UTC instant (Unix ms) at which this day starts in zone `tz`.
    pub fn start_instant(self, tz: TimeZone) -> i64 {
        self.days_since_epoch() * 86_400_000 - tz.offset_minutes as i64 * 60_000
    }
}

pub(crate) fn parse_digits(s: &str) -> Result<u32, FactError> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(FactError::InvalidDate);
    }
    s.parse().map_err(|_| FactError::InvalidDate)
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A tenant's time zone: an IANA name and its UTC offset.
///
/// Only zones without daylight saving are listed: every zone of the product's first markets
/// (Vietnam and its neighbours) is fixed-offset, and a full tz database would cost the wasm
/// hundreds of KB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone {
    /// IANA name.
    pub name: &'static str,
    /// Offset east of UTC, in minutes.
    pub offset_minutes: i16,
}

const ZONES: &[(&str, i16)] = &[
    ("Asia/Ho_Chi_Minh", 420),
    ("Asia/Saigon", 420),
    ("Asia/Bangkok", 420),
    ("Asia/Jakarta", 420),
    ("Asia/Phnom_Penh", 420),
    ("Asia/Vientiane", 420),
    ("Asia/Singapore", 480),
    ("Asia/Kuala_Lumpur", 480),
    ("Asia/Manila", 480),
    ("Asia/Shanghai", 480),
    ("Asia/Hong_Kong", 480),
    ("Asia/Taipei", 480),
    ("Asia/Tokyo", 540),
    ("Asia/Seoul", 540),
    ("Asia/Kolkata", 330),
    ("Asia/Dubai", 240),
    ("UTC", 0),
    ("Etc/UTC", 0),
];

impl TimeZone {
    /// The product's default zone, `Asia/Ho_Chi_Minh` (UTC+7).
    pub const DEFAULT: TimeZone = TimeZone {
        name: "Asia/Ho_Chi_Minh",
        offset_minutes: 420,
    };

    /// Looks a zone up by IANA name.
    pub fn from_name(name: &str) -> Option<TimeZone> {
        ZONES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, offset_minutes)| TimeZone {
                name,
                offset_minutes,
            })
    }

    /// Every supported zone name.
    pub fn names() -> impl Iterator<Item = &'static str> {
        ZONES.iter().map(|(n, _)| *n)
    }
}

/// The kinds of period a KPI is reported over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// One calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
    /// Any range of whole days.
    Range,
}

impl PeriodKind {
    /// Parses `day|week|month|quarter|year|range`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "day" => PeriodKind::Day,
            "week" => PeriodKind::Week,
            "month" => PeriodKind::Month,
            "quarter" => PeriodKind::Quarter,
            "year" => PeriodKind::Year,
            "range" => PeriodKind::Range,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
            PeriodKind::Range => "range",
        }
    }
}

/// A half-open range of days `[from, to)` in a tenant's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// What kind of period this is.
    pub kind: PeriodKind,
    /// First day, inclusive.
    pub from: CivilDate,
    /// Day after the last day.
    pub to: CivilDate,
}

impl Period {
    /// The period of `kind` containing `day` (for `Range`, the single day).
    pub fn containing(kind: PeriodKind, day: CivilDate) -> Result<Period, FactError> {
        let (from, to) = match kind {
            PeriodKind::Day | PeriodKind::Range => (day, day.add_days(1)?),
            PeriodKind::Week => {
                // 1970-01-01 was a Thursday: Monday-based weekday index.
                let wd = (day.days_since_epoch() + 3).rem_euclid(7);
                let from = day.add_days(-wd)?;
                (from, from.add_days(7)?)
            }
            PeriodKind::Month => {
                let from = CivilDate::new(day.year, day.month, 1)?;
                (from, next_month(day.year, day.month)?)
            }
            PeriodKind::Quarter => {
                let m = (day.month - 1) / 3 * 3 + 1;
                let from = CivilDate::new(day.year, m, 1)?;
                let to = if m == 10 {
                    CivilDate::new(day.year + 1, 1, 1)?
                } else {
                    CivilDate::new(day.year, m + 3, 1)?
                };
                (from, to)
            }
            PeriodKind::Year => (
                CivilDate::new(day.year, 1, 1)?,
                CivilDate::new(day.year + 1, 1, 1)?,
            ),
        };
        Ok(Period { kind, from, to })
    }

    /// A range of days; `to` is exclusive and must be after `from`.
    pub fn range(from: CivilDate, to: CivilDate) -> Result<Period, FactError> {
        if to <= from {
            return Err(FactError::InvalidDate);
        }
        Ok(Period {
            kind: PeriodKind::Range,
            from,
            to,
        })
    }

    /// Parses the `at` selector of the API: `2026-11-23` (any kind), `2026-11` (month),
    /// `2026-Q4` (quarter), `2026-W48` (ISO week), `2026` (year).
    pub fn parse_at(kind: PeriodKind, at: &str) -> Result<Period, FactError> {
        if !at.is_ascii() {
            return Err(FactError::InvalidDate);
        }
        let day = match at.len() {
            10 => CivilDate::parse(at)?,
            7 if at.as_bytes()[4] == b'-' && at.as_bytes()[5] == b'Q' => {
                let q = parse_digits(&at[6..7])?;
                if !(1..=4).contains(&q) {
                    return Err(FactError::InvalidDate);
                }
                CivilDate::new(parse_digits(&at[0..4])? as i32, (q as u8 - 1) * 3 + 1, 1)?
            }
            7 if at.as_bytes()[4] == b'-' => CivilDate::new(
                parse_digits(&at[0..4])? as i32,
                parse_digits(&at[5..7])? as u8,
                1,
            )?,
            8 if at.as_bytes()[4] == b'-' && at.as_bytes()[5] == b'W' => {
                let year = parse_digits(&at[0..4])? as i32;
                let week = parse_digits(&at[6..8])? as i64;
                // ISO week 1 contains January 4th.
                let jan4 = CivilDate::new(year, 1, 4)?;
                let wd = (jan4.days_since_epoch() + 3).rem_euclid(7);
                if !(1..=53).contains(&week) {
                    return Err(FactError::InvalidDate);
                }
                let monday = jan4.add_days(-wd + (week - 1) * 7)?;
                // Week 53 exists only in years whose ISO calendar has it.
                if monday.iso_week().0 != year {
                    return Err(FactError::InvalidDate);
                }
                monday
            }
            4 => CivilDate::new(parse_digits(at)? as i32, 1, 1)?,
            _ => return Err(FactError::InvalidDate),
        };
        Period::containing(kind, day)
    }

    /// The period of the same kind and length just before this one.
    pub fn previous(&self) -> Result<Period, FactError> {
        match self.kind {
            PeriodKind::Range => {
                let len = self.len_days();
                Ok(Period {
                    kind: self.kind,
                    from: self.from.add_days(-len)?,
                    to: self.from,
                })
            }
            kind => Period::containing(kind, self.from.add_days(-1)?),
        }
    }

    /// A range given by its first and last day, both inclusive (the API's `from`, `to`).
    pub fn inclusive(from: CivilDate, last: CivilDate) -> Result<Period, FactError> {
        Period::range(from, last.add_days(1)?)
    }

    /// The trailing year a period is seen through by KPIs that need a year to see how often
    /// customers buy (CLV): from the first day of the month eleven months before the month
    /// of the period's last day, to the period's end. Eleven to twelve months long whatever
    /// the period's length, and it starts on a month's first day, so closed months are read
    /// whole.
    pub fn trailing_year(&self) -> Result<Period, FactError> {
        let last = self.last_day();
        let (year, month) = if last.month == 12 {
            (last.year, 1)
        } else {
            (last.year - 1, last.month + 1)
        };
        let from = CivilDate::new(year, month, 1).or_else(|_| CivilDate::new(1970, 1, 1))?;
        Period::range(from, self.to)
    }

    /// The last day of the period (inclusive).
    pub fn last_day(&self) -> CivilDate {
        CivilDate::from_days_since_epoch(self.to.days_since_epoch() - 1).unwrap_or(self.from)
    }

    /// True when `day` lies in the period.
    pub fn contains(&self, day: CivilDate) -> bool {
        self.from <= day && day < self.to
    }

    /// The UTC instants (Unix ms) `[start, end)` of the period in zone `tz`.
    pub fn instants(&self, tz: TimeZone) -> (i64, i64) {
        (self.from.start_instant(tz), self.to.start_instant(tz))
    }

    /// The `at` selector naming this period: `2026-11-23`, `2026-W48`, `2026-11`, `2026-Q4`,
    /// `2026`, or `from..last` for a range.
    pub fn label(&self) -> String {
        use core::fmt::Write;
        let mut s = String::new();
        let _ = match self.kind {
            PeriodKind::Day => write!(s, "{}", self.from),
            PeriodKind::Week => {
                let (y, w) = self.from.iso_week();
                write!(s, "{y:04}-W{w:02}")
            }
            PeriodKind::Month => write!(s, "{:04}-{:02}", self.from.year, self.from.month),
            PeriodKind::Quarter => {
                write!(
                    s,
                    "{:04}-Q{}",
                    self.from.year,
                    (self.from.month - 1) / 3 + 1
                )
            }
            PeriodKind::Year => write!(s, "{:04}", self.from.year),
            PeriodKind::Range => write!(s, "{}..{}", self.from, self.last_day()),
        };
        s
    }

    /// Number of days in the period.
    pub fn len_days(&self) -> i64 {
        self.to.days_since_epoch() - self.from.days_since_epoch()
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = CivilDate> + '_ {
        let start = self.from.days_since_epoch();
        (0..self.len_days()).filter_map(move |i| CivilDate::from_days_since_epoch(start + i).ok())
    }

    /// Sub-periods for a sparkline: days for a day, week, month or range; months for a
    /// quarter or year. Each is clipped to this period.
    pub fn series(&self) -> alloc::vec::Vec<Period> {
        let step = match self.kind {
            PeriodKind::Quarter | PeriodKind::Year => PeriodKind::Month,
            _ => PeriodKind::Day,
        };
        let mut out = alloc::vec::Vec::new();
        let mut cur = self.from;
        while cur < self.to {
            let Ok(p) = Period::containing(step, cur) else {
                break;
            };
            let to = if p.to < self.to { p.to } else { self.to };
            out.push(Period {
                kind: step,
                from: cur,
                to,
            });
            cur = to;
        }
        out
    }
}

fn next_month(year: i32, month: u8) -> Result<CivilDate, FactError> {
    if month == 12 {
        CivilDate::new(year + 1, 1, 1)
    } else {
        CivilDate::new(year, month + 1, 1)
    }
}

/// Formats an instant (Unix ms) as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339(unix_ms: i64) -> String {
    use core::fmt::Write;
    let days = unix_ms.div_euclid(86_400_000);
    let ms = unix_ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(24);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        y,
        m,
        d,
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
    s
}

/// Parses an RFC 3339 instant with any offset (`2026-11-23T10:00:00+07:00`,
/// `2026-11-23T03:00:00.5Z`) into Unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, FactError> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return Err(FactError::InvalidDate);
    }
    let date = CivilDate::parse(&s[0..10])?;
    if b[13] != b':' || b[16] != b':' {
        return Err(FactError::InvalidDate);
    }
    let hh = parse_digits(&s[11..13])? as i64;
    let mm = parse_digits(&s[14..16])? as i64;
    let ss = parse_digits(&s[17..19])? as i64;
    if hh > 23 || mm > 59 || ss > 60 {
        return Err(FactError::InvalidDate);
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(FactError::InvalidDate);
        }
        for (i, c) in frac.bytes().take(digits).enumerate() {
            if i < 3 {
                millis = millis * 10 + (c - b'0') as i64;
            }
        }
        for _ in digits..3 {
            millis *= 10;
        }
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let h = parse_digits(&rest[1..3])? as i64;
            let m = parse_digits(&rest[4..6])? as i64;
            if h > 23 || m > 59 {
                return Err(FactError::InvalidDate);
            }
            let v = h * 60 + m;
            if rest.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return Err(FactError::InvalidDate),
    };
    Ok(
        date.days_since_epoch() * 86_400_000 + ((hh * 60 + mm) * 60 + ss.min(59)) * 1000 + millis
            - offset_min * 60_000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (0..2_932_000).step_by(997) {
            let d = CivilDate::from_days_since_epoch(days).unwrap();
            assert_eq!(d.days_since_epoch(), days);
            assert_eq!(CivilDate::parse(&alloc::format!("{d}")).unwrap(), d);
        }
    }

    #[test]
    fn day_number_of_an_instant_is_its_civil_day() {
        let last = 2_932_897 * 86_400_000_i64;
        for tz in [TimeZone::DEFAULT, TimeZone::from_name("UTC").unwrap()] {
            let edges = [
                -25_200_001,
                -25_200_000,
                -1,
                0,
                last - 25_200_001,
                last - 1,
                last,
            ];
            let steps = (-86_400_000..last + 86_400_000).step_by(86_399_999 * 37);
            for ms in edges.into_iter().chain(steps) {
                assert_eq!(
                    CivilDate::day_number_of_instant(ms, tz),
                    CivilDate::of_instant(ms, tz).map(CivilDate::days_since_epoch),
                    "{ms} in {}",
                    tz.name
                );
            }
        }
        assert!(CivilDate::day_number_of_instant(-1, TimeZone::from_name("UTC").unwrap()).is_err());
        assert!(CivilDate::day_number_of_instant(i64::MAX, TimeZone::DEFAULT).is_err());
    }

    #[test]
    fn instant_lands_on_the_local_day_in_ho_chi_minh() {
        // 2026-11-22T18:30:00Z is 01:30 on the 23rd in UTC+7.
        let ms = parse_rfc3339("2026-11-22T18:30:00Z").unwrap();
        let d = CivilDate::of_instant(ms, TimeZone::DEFAULT).unwrap();
        assert_eq!(d, CivilDate::new(2026, 11, 23).unwrap());
    }

    #[test]
    fn rfc3339_offsets_agree() {
        let a = parse_rfc3339("2026-11-23T10:00:00+07:00").unwrap();
        let b = parse_rfc3339("2026-11-23T03:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_rfc3339(b), "2026-11-23T03:00:00.000Z");
        assert!(parse_rfc3339("2026-02-30T00:00:00Z").is_err());
        assert!(parse_rfc3339("nonsense").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}", n in proptest::num::i64::ANY) {
            let _ = parse_rfc3339(&s);
            let _ = CivilDate::parse(&s);
            for kind in ["day", "week", "month", "quarter", "year", "range"] {
                let _ = Period::parse_at(PeriodKind::parse(kind).unwrap(), &s);
            }
            let _ = CivilDate::from_days_since_epoch(n);
            let _ = CivilDate::new(2026, 1, 1).unwrap().add_days(n);
            let _ = CivilDate::of_instant(n, TimeZone::DEFAULT);
            let _ = format_rfc3339(n / 4);
        }
    }

    #[test]
    fn after_2038_is_fine() {
        let ms = parse_rfc3339("2040-01-01T00:00:00Z").unwrap();
        assert_eq!(format_rfc3339(ms), "2040-01-01T00:00:00.000Z");
    }

    #[test]
    fn periods_and_previous() {
        let d = CivilDate::new(2026, 11, 23).unwrap();
        let m = Period::containing(PeriodKind::Month, d).unwrap();
        assert_eq!(
            (m.from.to_string(), m.to.to_string()),
            ("2026-11-01".into(), "2026-12-01".into())
        );
        let p = m.previous().unwrap();
        assert_eq!(p.from.to_string(), "2026-10-01");
        let w = Period::containing(PeriodKind::Week, d).unwrap();
        assert_eq!(w.from.to_string(), "2026-11-23"); // a Monday
        let q = Period::parse_at(PeriodKind::Quarter, "2026-Q4").unwrap();
        assert_eq!(q.len_days(), 92);
        assert_eq!(q.series().len(), 3);
        let wk = Period::parse_at(PeriodKind::Week, "2026-W01").unwrap();
        assert_eq!(wk.from.to_string(), "2025-12-29");
        assert_eq!(m.series().len(), 30);
        assert_eq!(m.label(), "2026-11");
        assert_eq!(wk.label(), "2026-W01");
        assert_eq!(q.label(), "2026-Q4");
        assert_eq!(m.last_day().to_string(), "2026-11-30");
    }

    #[test]
    fn iso_weeks_and_week_53() {
        // 2026 starts on a Thursday: it has a week 53; 2025 does not.
        assert!(Period::parse_at(PeriodKind::Week, "2026-W53").is_ok());
        assert!(Period::parse_at(PeriodKind::Week, "2025-W53").is_err());
        let d = CivilDate::new(2027, 1, 1).unwrap();
        assert_eq!(d.iso_week(), (2026, 53));
        assert_eq!(CivilDate::new(2026, 11, 23).unwrap().iso_week(), (2026, 48));
        assert!(Period::parse_at(PeriodKind::Month, "2026/11").is_err());
        assert!(Period::parse_at(PeriodKind::Month, "2026-13").is_err());
    }

    #[test]
    fn ranges_previous_and_year_series() {
        let from = CivilDate::new(2026, 11, 1).unwrap();
        let last = CivilDate::new(2026, 11, 10).unwrap();
        let r = Period::inclusive(from, last).unwrap();
        assert_eq!(r.len_days(), 10);
        let p = r.previous().unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2026-10-22".into(), "2026-11-01".into())
        );
        assert!(Period::inclusive(last, from).is_err());
        let y = Period::parse_at(PeriodKind::Year, "2026").unwrap();
        assert_eq!(y.series().len(), 12);
        assert_eq!(y.previous().unwrap().label(), "2025");
        let (a, b) = Period::containing(PeriodKind::Day, from)
            .unwrap()
            .instants(TimeZone::DEFAULT);
        assert_eq!(b - a, 86_400_000);
        assert_eq!(format_rfc3339(a), "2026-10-31T17:00:00.000Z");
    }
}
