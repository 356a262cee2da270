//! The day KPI reads are measured on. A read costs most on a month's last day: the open
//! month then holds a full month of days that no month line summarises yet, and a year read
//! holds them beside its closed months. So the reads section measures on the last day of the
//! previous month, at noon in the tenants' zone, whatever today is: workerd's clock is moved
//! there by an `LD_PRELOAD` shim (`xtask/scripts/clockshift.c`, built with the system's C
//! compiler), and the seeded history ends there too. (Not further back: workerd refuses a
//! compatibility date later than its today, and the worker's is recent.)
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
    /// The dearest day of the month cycle (see the module), with the shim built in `dir`.
    pub fn dearest(dir: &Path) -> Result<Clock> {
        let real = super::now_ms()?;
        let tz = TimeZone::DEFAULT;
        let today = CivilDate::of_instant(real, tz).map_err(|e| e.to_string())?;
        // The last day of the month before today's.
        let day = today
            .add_days(-(today.day as i64))
            .map_err(|e| e.to_string())?;
        let noon =
            day.days_since_epoch() * DAY_MS + 12 * 3_600_000 - tz.offset_minutes as i64 * 60_000;
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let shim = dir.join("clockshift.so");
        let src = dir.join("clockshift.c");
        std::fs::write(&src, include_str!("../../scripts/clockshift.c"))
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

    /// Milliseconds since the Unix epoch on this clock.
    pub fn now_ms(&self) -> Result<i64> {
        Ok(super::now_ms()? + self.shift_s * 1000)
    }

    /// The environment that puts a process (and what it starts) on this clock.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("LD_PRELOAD".into(), self.shim.display().to_string()),
            ("KPI_CLOCK_SHIFT_S".into(), self.shift_s.to_string()),
        ]
    }
}
