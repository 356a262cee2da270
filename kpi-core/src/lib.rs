//! `kpi-core`: the domain of CRM KPIs at the edge.
//!
//! Facts come in (survey responses, ticket timestamps, CRM events), are validated into typed
//! values, and fold into per-day [`rollup::Rollup`]s: sparse maps of integer counters that merge
//! by pointwise addition. KPIs for any period are computed from merged rollups.
//!
//! Code map, in the direction data flows:
//! - [`fact`] (survey responses), [`ticket`], [`event`] (CRM events): wire shapes validated
//!   into typed facts, each handing its counters to a [`rollup::Sink`];
//!   [`money`] and [`calendar`] (business hours) support them.
//! - [`rollup`]: the counters, addressed by small integers and merged through one
//!   accumulator; [`sketch`]: durations as counters; [`codec`]: a rollup in bytes.
//! - [`period`]: days, weeks, months… in the tenant's zone.
//! - [`kpi`]: the catalog, one definition per KPI (id, labels, unit, direction, target, what
//!   it reads, formula) in one file per department, with [`stats`] (intervals), [`nps`] and
//!   [`target`] (achievement, status, scorecard, health score).
//! - [`report`]: the period, previous period and series of any KPIs in one pass over a span
//!   of buckets; [`days`]: the offline widget's span of day rollups; [`format`](mod@format)
//!   (vi/en text).
//!
//! *Architecture invariant*: this crate never reads the clock, never does I/O, never touches
//! JavaScript; time arrives as an argument. It builds without `std` for both wasm targets.
//! *Architecture invariant*: no input makes it panic; invalid facts are [`FactError`]s.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
// Tests may unwrap: a failing unwrap is a failing test. Library code may not (workspace lints).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

extern crate alloc;
// Lets the shared benchmark facts (`benches/support`) name this crate from inside it.
#[cfg(feature = "bench")]
extern crate self as kpi_core;

mod base64;
pub mod calendar;
pub mod codec;
pub mod days;
pub mod error;
pub mod event;
pub mod fact;
pub mod format;
pub mod json;
pub mod kpi;
pub mod money;
pub mod nps;
pub mod opening;
pub mod period;
pub mod report;
pub mod rollup;
pub mod sketch;
pub mod stats;
pub mod target;
pub mod ticket;
#[cfg(feature = "bench")]
pub mod wasm_bench;

pub use error::FactError;
pub use event::{Event, RawEvent};
pub use fact::{Channel, SurveyKind, SurveyResponse};
pub use money::{Currency, Money};
pub use rollup::{Cell, CellKey, Family, Rollup};
pub use ticket::{RawTicket, Ticket};
