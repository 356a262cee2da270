//! Per-day rollups: sparse maps of integer counters keyed by (family, segment, key).
//!
//! A rollup is a commutative monoid under pointwise addition, so the rollup of any period is the
//! merge of its days, and a storage layer can keep each counter as one row updated atomically
//! (`n = n + ?`). Integers only: merging is exact and identical on every target.
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// What kind of fact a counter counts; each KPI reads the families it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Family {
    /// NPS answers; key = score 0–10.
    Nps,
    /// CSAT answers on a 5-point scale; key = score 1–5.
    Csat5,
    /// CSAT answers on a 10-point scale; key = score 1–10.
    Csat10,
    /// CES answers on a 7-point scale; key = score 1–7.
    Ces,
    /// Survey answers carrying a comment; key = 0.
    Comments,
    /// Survey links issued; key = 0.
    LinksIssued,
}

impl Family {
    /// The storage code of the family.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Nps => "nps",
            Family::Csat5 => "csat5",
            Family::Csat10 => "csat10",
            Family::Ces => "ces",
            Family::Comments => "comments",
            Family::LinksIssued => "links_issued",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Family> {
        Some(match s {
            "nps" => Family::Nps,
            "csat5" => Family::Csat5,
            "csat10" => Family::Csat10,
            "ces" => Family::Ces,
            "comments" => Family::Comments,
            "links_issued" => Family::LinksIssued,
            _ => return None,
        })
    }
}

/// The dimension a counter is broken down by; `All` holds the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// No breakdown: the total over every segment.
    All,
    /// By contact channel (email, chat, zalo, …).
    Channel,
    /// By survey kind.
    Survey,
    /// By marketing campaign.
    Campaign,
    /// By lead source.
    Source,
    /// By pipeline stage.
    Stage,
    /// By agent or sales rep.
    Agent,
}

impl Dim {
    /// The wire and storage name (`""` for `All`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::All => "",
            Dim::Channel => "channel",
            Dim::Survey => "survey",
            Dim::Campaign => "campaign",
            Dim::Source => "source",
            Dim::Stage => "stage",
            Dim::Agent => "agent",
        }
    }

    /// Parses a name (`""` is `All`).
    pub fn parse(s: &str) -> Option<Dim> {
        Some(match s {
            "" => Dim::All,
            "channel" => Dim::Channel,
            "survey" => Dim::Survey,
            "campaign" => Dim::Campaign,
            "source" => Dim::Source,
            "stage" => Dim::Stage,
            "agent" => Dim::Agent,
            _ => return None,
        })
    }
}

/// Where a counter sits: family, segment dimension and value, and a family-specific key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    /// What is counted.
    pub family: Family,
    /// Breakdown dimension.
    pub dim: Dim,
    /// Segment value within the dimension (`""` for `Dim::All`).
    pub segment: String,
    /// Family-specific key (a score, a sketch bucket, an event type…).
    pub key: i64,
}

/// A counter: how many facts, and the sum of an integer quantity they carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Number of facts.
    pub n: i64,
    /// Sum of the facts' quantity (milliseconds, minor currency units…), 0 when none.
    pub sum: i64,
}

impl Cell {
    /// Pointwise addition, saturating rather than wrapping on absurd input.
    pub fn add(self, other: Cell) -> Cell {
        Cell {
            n: self.n.saturating_add(other.n),
            sum: self.sum.saturating_add(other.sum),
        }
    }

    /// The inverse, for retracting a fact.
    pub fn negate(self) -> Cell {
        Cell {
            n: -self.n,
            sum: -self.sum,
        }
    }

    fn is_zero(self) -> bool {
        self.n == 0 && self.sum == 0
    }
}

/// A sparse map of counters; the empty rollup is the identity of [`Rollup::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(CellKey, Cell)>", into = "Vec<(CellKey, Cell)>")]
pub struct Rollup {
    cells: BTreeMap<CellKey, Cell>,
}

impl From<Vec<(CellKey, Cell)>> for Rollup {
    fn from(cells: Vec<(CellKey, Cell)>) -> Self {
        let mut r = Rollup::default();
        for (k, c) in cells {
            r.add(k, c);
        }
        r
    }
}

impl From<Rollup> for Vec<(CellKey, Cell)> {
    fn from(r: Rollup) -> Self {
        r.cells.into_iter().collect()
    }
}

impl Rollup {
    /// The empty rollup.
    pub fn new() -> Self {
        Rollup::default()
    }

    /// Adds `cell` to the counter at `key`; counters that reach zero disappear so that equal
    /// totals compare equal however they were reached.
    pub fn add(&mut self, key: CellKey, cell: Cell) {
        let entry = self.cells.entry(key);
        match entry {
            alloc::collections::btree_map::Entry::Occupied(mut o) => {
                let v = o.get().add(cell);
                if v.is_zero() {
                    o.remove();
                } else {
                    *o.get_mut() = v;
                }
            }
            alloc::collections::btree_map::Entry::Vacant(v) => {
                if !cell.is_zero() {
                    v.insert(cell);
                }
            }
        }
    }

    /// Adds every counter of `other` (the monoid operation).
    pub fn merge(&mut self, other: &Rollup) {
        for (k, c) in &other.cells {
            self.add(k.clone(), *c);
        }
    }

    /// Adds a list of contributions, as produced by a fact.
    pub fn extend(&mut self, contributions: impl IntoIterator<Item = (CellKey, Cell)>) {
        for (k, c) in contributions {
            self.add(k, c);
        }
    }

    /// The counter at `key` (zero when absent).
    pub fn get(&self, key: &CellKey) -> Cell {
        self.cells.get(key).copied().unwrap_or_default()
    }

    /// Every counter of one family and dimension, in key order.
    pub fn cells_of(&self, family: Family, dim: Dim) -> impl Iterator<Item = (&CellKey, &Cell)> {
        self.cells
            .iter()
            .filter(move |(k, _)| k.family == family && k.dim == dim)
    }

    /// The distinct segment values present for a family and dimension.
    pub fn segments(&self, family: Family, dim: Dim) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (k, _) in self.cells_of(family, dim) {
            if out.last() != Some(&k.segment) && !out.contains(&k.segment) {
                out.push(k.segment.clone());
            }
        }
        out
    }

    /// All counters.
    pub fn iter(&self) -> impl Iterator<Item = (&CellKey, &Cell)> {
        self.cells.iter()
    }

    /// True when no counter is non-zero.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}
