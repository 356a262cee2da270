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

impl FactError {
    /// Every code [`FactError::code`] gives, for documents and tests that list them.
    pub const CODES: &'static [&'static str] = &[
        "score_out_of_range",
        "unsupported_scale",
        "unknown_channel",
        "unknown_survey",
        "invalid_date",
        "unknown_currency",
        "amount_out_of_range",
        "count_out_of_range",
        "first_response_before_opening",
        "resolved_before_opening",
        "missing_field",
        "invalid_text",
        "unknown_event_type",
        "unknown_stage",
        "invalid_hours",
    ];

    /// A stable machine code for this error: what an API client branches on, never the
    /// English message.
    pub fn code(&self) -> &'static str {
        match self {
            FactError::ScoreOutOfRange { .. } => "score_out_of_range",
            FactError::UnsupportedScale { .. } => "unsupported_scale",
            FactError::UnknownChannel => "unknown_channel",
            FactError::UnknownSurvey => "unknown_survey",
            FactError::InvalidDate => "invalid_date",
            FactError::UnknownCurrency => "unknown_currency",
            FactError::AmountOutOfRange { .. } => "amount_out_of_range",
            FactError::CountOutOfRange { .. } => "count_out_of_range",
            FactError::FirstResponseBeforeOpening => "first_response_before_opening",
            FactError::ResolvedBeforeOpening => "resolved_before_opening",
            FactError::MissingField { .. } => "missing_field",
            FactError::InvalidText { .. } => "invalid_text",
            FactError::UnknownEventType => "unknown_event_type",
            FactError::UnknownStage => "unknown_stage",
            FactError::InvalidHours => "invalid_hours",
        }
    }
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

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn every_error_has_a_listed_code_of_its_own() {
        let all = [
            FactError::ScoreOutOfRange {
                score: 11,
                min: 0,
                max: 10,
            },
            FactError::UnsupportedScale { scale: 3 },
            FactError::UnknownChannel,
            FactError::UnknownSurvey,
            FactError::InvalidDate,
            FactError::UnknownCurrency,
            FactError::AmountOutOfRange { amount: -1 },
            FactError::CountOutOfRange { count: 0 },
            FactError::FirstResponseBeforeOpening,
            FactError::ResolvedBeforeOpening,
            FactError::MissingField { field: "id" },
            FactError::InvalidText { field: "id" },
            FactError::UnknownEventType,
            FactError::UnknownStage,
            FactError::InvalidHours,
        ];
        let codes: alloc::vec::Vec<&str> = all.iter().map(FactError::code).collect();
        assert_eq!(codes, FactError::CODES);
    }
}
