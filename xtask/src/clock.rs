//! A wall clock moved to a chosen day for workerd (and for the test binaries that must agree
//! with it), by an `LD_PRELOAD` shim (`xtask/scripts/clockshift.c`, built with the system's
//! C compiler; monotonic clocks untouched). Two uses:
//! - KPI reads cost most on a month's last day: the open month then holds a whole month of
//!   days that no month line summarises yet, and a year read holds them beside its closed
//!   months. `bench reads` measures on the last day of the previous month, whatever today is,
//!   with the seeded history ending there.
//! - The open month's prefix (its days before today, summed and kept) only exists after its
//!   first day: `cargo xtask test` runs the reads' end-to-end tests once more on the 20th of
//!   the previous month, so they check it on any day, the 1st too.
//!
//! Never before the previous month: workerd refuses a compatibility date later than its
//! today, and the worker's is recent.
use std::path::{Path, PathBuf};
use std::process::Command;

use kpi_core::period::{CivilDate, TimeZone};

use crate::sh::{self, Result};

const DAY_MS: i64 = 86_400_000;

/// A wall clock moved to a chosen instant.
#[derive(Clone)]
pub struct Clock {
    shim: PathBuf,
    shift_s: i64,
    /// The day it shows, in the tenants' zone.
    pub day: CivilDate,
}

impl Clock {
    /// Noon of day `day_of_month` of the previous month (its last day when it has fewer),
    /// in the tenants' zone, with the shim built in `dir`.
    pub fn previous_month(dir: &Path, day_of_month: u8) -> Result<Clock> {
        let real = crate::demo::now_ms();
        let tz = TimeZone::DEFAULT;
        let today = CivilDate::of_instant(real, tz).map_err(|e| e.to_string())?;
        let last = today
            .add_days(-(today.day as i64))
            .map_err(|e| e.to_string())?;
        let day = CivilDate::new(last.year, last.month, day_of_month.min(last.day))
            .map_err(|e| e.to_string())?;
        let noon =
            day.days_since_epoch() * DAY_MS + 12 * 3_600_000 - tz.offset_minutes as i64 * 60_000;
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let shim = dir.join("clockshift.so");
        let src = dir.join("clockshift.c");
        std::fs::write(&src, include_str!("../scripts/clockshift.c"))
            .map_err(|e| format!("writing {}: {e}", src.display()))?;
        sh::run(
            "building the clock shim (cc)",
            Command::new("cc")
                .args(["-shared", "-fPIC", "-O2", "-o"])
                .arg(&shim)
                .arg(&src)
                .arg("-ldl"),
        )?;
        Ok(Clock {
            shim,
            shift_s: (noon - real).div_euclid(1000),
            day,
        })
    }

    /// The dearest day for a read: the last day of the previous month.
    pub fn dearest(dir: &Path) -> Result<Clock> {
        Clock::previous_month(dir, 31)
    }

    /// Milliseconds since the Unix epoch on this clock.
    pub fn now_ms(&self) -> i64 {
        crate::demo::now_ms() + self.shift_s * 1000
    }

    /// The environment that puts workerd, and the processes whose names start with one of
    /// `procs`, on this clock when given to a process that starts them.
    pub fn env(&self, procs: &[&str]) -> Vec<(String, String)> {
        vec![
            ("LD_PRELOAD".into(), self.shim.display().to_string()),
            ("KPI_CLOCK_SHIFT_S".into(), self.shift_s.to_string()),
            ("KPI_CLOCK_SHIFT_PROCS".into(), procs.join(",")),
        ]
    }
}
