//! Typed errors of the domain: every way a fact can be invalid. The domain never panics on
//! input; callers map these to their own layer (the worker maps them to HTTP 422).
use core::fmt;

/// Why a fact was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FactError {
    /// The score is outside the survey's scale (NPS 0–10, CSAT 1–5 or 1–10, CES 1–7).
    /// The caller should ask the respondent again; the value cannot be clamped.
    ScoreOutOfRange {
        /// The score given.
        score: i64,
        /// Lowest valid score.
        min: u8,
        /// Highest valid score.
        max: u8,
    },
    /// The survey's scale is not one the kind supports (CSAT is 5 or 10 points, CES 7).
    UnsupportedScale {
        /// The scale asked for.
        scale: u8,
    },
    /// A channel name that is not one of the known channels.
    UnknownChannel,
    /// A survey kind that is not `nps`, `csat` or `ces`.
    UnknownSurvey,
    /// A calendar date that does not exist, or an instant outside the supported range.
    InvalidDate,
    /// A currency that is not three ASCII letters. The caller sends an ISO 4217 code.
    UnknownCurrency,
    /// A money amount that is negative or above [`crate::money::Money::MAX`] minor units.
    AmountOutOfRange {
        /// The amount given, in minor units.
        amount: i64,
    },
    /// An aggregated `count` (or a ticket's `contacts`, a session's `pages`) outside
    /// 1..=[`crate::event::MAX_COUNT`]. Larger aggregates are split over several facts.
    CountOutOfRange {
        /// The count given.
        count: i64,
    },
    /// A ticket's first response is earlier than its opening. The caller corrects the
    /// timestamps; they are never swapped or clamped.
    FirstResponseBeforeOpening,
    /// A ticket's resolution is earlier than its opening.
    ResolvedBeforeOpening,
    /// A field the fact's type needs is missing.
    MissingField {
        /// The field's wire name.
        field: &'static str,
    },
    /// A text field (id, campaign, stage, user…) that is empty, longer than
    /// [`crate::event::MAX_TEXT`] bytes or holds control characters.
    InvalidText {
        /// The field's wire name.
        field: &'static str,
    },
    /// An event `type` that is not one of the CRM event types.
    UnknownEventType,
    /// A pipeline stage outside the default pipeline given without its `order`.
    UnknownStage,
    /// A business-hours calendar whose intervals are out of the day, empty or overlapping.
    InvalidHours,
}

impl fmt::Display for FactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactError::ScoreOutOfRange { score, min, max } => {
                write!(f, "score {score} is outside the survey's scale {min}–{max}")
            }
            FactError::UnsupportedScale { scale } => {
                write!(f, "a {scale}-point scale is not supported for this survey")
            }
            FactError::UnknownChannel => f.write_str("unknown channel"),
            FactError::UnknownSurvey => f.write_str("unknown survey kind"),
            FactError::InvalidDate => f.write_str("invalid or out-of-range date"),
            FactError::UnknownCurrency => f.write_str("currency must be an ISO 4217 code"),
            FactError::AmountOutOfRange { amount } => {
                write!(f, "amount {amount} is negative or too large")
            }
            FactError::CountOutOfRange { count } => write!(f, "count {count} is out of range"),
            FactError::FirstResponseBeforeOpening => {
                f.write_str("first response is earlier than opening")
            }
            FactError::ResolvedBeforeOpening => f.write_str("resolution is earlier than opening"),
            FactError::MissingField { field } => write!(f, "missing field `{field}`"),
            FactError::InvalidText { field } => {
                write!(
                    f,
                    "field `{field}` is empty, too long or has control characters"
                )
            }
            FactError::UnknownEventType => f.write_str("unknown event type"),
            FactError::UnknownStage => {
                f.write_str("a stage outside the default pipeline needs its `order`")
            }
            FactError::InvalidHours => f.write_str("invalid business hours"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FactError {}
