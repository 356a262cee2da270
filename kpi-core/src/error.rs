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
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FactError {}
