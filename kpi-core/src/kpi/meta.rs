//! What describes a KPI besides its formula: the language of its labels, its unit, which
//! way is better (defined with targets, [`crate::target`], which need it), its catalog group
//! and whether it leads or lags. Plain enums, shared by the definitions ([`super`]) and the
//! widget.
use serde::{Deserialize, Serialize};

pub use crate::target::Direction;

/// Label language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Parses `vi` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The unit a KPI's value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A percentage, 0–100.
    Percent,
    /// A score on the KPI's own scale (NPS −100..100).
    Score,
    /// Seconds.
    Duration,
    /// Major units of a currency.
    Money,
    /// A whole number.
    Count,
    /// A ratio of two counts.
    Ratio,
}

impl Unit {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::Score => "score",
            Unit::Duration => "duration",
            Unit::Money => "money",
            Unit::Count => "count",
            Unit::Ratio => "ratio",
        }
    }
}

/// The six KPI groups of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Voice of the customer (surveys).
    Voice,
    /// Service desk (tickets).
    Service,
    /// Sales.
    Sales,
    /// Marketing.
    Marketing,
    /// Customer value and retention.
    Value,
    /// Team.
    Team,
}

/// Whether a KPI predicts (leading) or records (lagging) an outcome (step 7 of seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Moves before the outcome.
    Leading,
    /// Records the outcome.
    Lagging,
}
