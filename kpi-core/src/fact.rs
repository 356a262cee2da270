//! Validated facts: what the outside world tells us, checked once at the door.
//! Each fact knows its contribution to a day's rollup; it does not know about storage.
//! This module owns survey responses and the pieces every fact shares (channels, instants on
//! the wire, text fields, the contribution builder); tickets live in [`crate::ticket`], CRM
//! events in [`crate::event`].
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::rollup::{Cell, CellKey, Dim, Family};
use crate::FactError;

/// The channel a survey link was sent through or a ticket came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Live chat.
    Chat,
    /// Phone call.
    Phone,
    /// Zalo, Vietnam's messaging app.
    Zalo,
    /// Text message.
    Sms,
    /// A web page or form.
    Web,
    /// Anything else.
    Other,
}

impl Channel {
    /// Every channel, in display order.
    pub const ALL: [Channel; 7] = [
        Channel::Email,
        Channel::Chat,
        Channel::Phone,
        Channel::Zalo,
        Channel::Sms,
        Channel::Web,
        Channel::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Phone => "phone",
            Channel::Zalo => "zalo",
            Channel::Sms => "sms",
            Channel::Web => "web",
            Channel::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<Channel, FactError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(FactError::UnknownChannel)
    }
}

/// A survey's kind and scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SurveyKind {
    /// Net Promoter Score, 0–10.
    Nps,
    /// Customer satisfaction on a 5- or 10-point scale.
    Csat {
        /// 5 or 10.
        scale: u8,
    },
    /// Customer effort score, 1–7.
    Ces,
}

impl SurveyKind {
    /// Builds a kind from its wire name and scale (`None` picks the default scale).
    pub fn parse(name: &str, scale: Option<u8>) -> Result<SurveyKind, FactError> {
        match (name, scale) {
            ("nps", None | Some(10) | Some(11)) => Ok(SurveyKind::Nps),
            ("csat", None) => Ok(SurveyKind::Csat { scale: 5 }),
            ("csat", Some(s @ (5 | 10))) => Ok(SurveyKind::Csat { scale: s }),
            ("ces", None | Some(7)) => Ok(SurveyKind::Ces),
            ("nps" | "csat" | "ces", Some(scale)) => Err(FactError::UnsupportedScale { scale }),
            _ => Err(FactError::UnknownSurvey),
        }
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat { .. } => "csat",
            SurveyKind::Ces => "ces",
        }
    }

    /// Lowest and highest valid score.
    pub fn range(self) -> (u8, u8) {
        match self {
            SurveyKind::Nps => (0, 10),
            SurveyKind::Csat { scale } => (1, scale),
            SurveyKind::Ces => (1, 7),
        }
    }

    /// The number of points, as printed on a link (`nps` is 10: 0–10).
    pub fn scale(self) -> u8 {
        self.range().1
    }

    /// The rollup family its answers count in.
    pub fn family(self) -> Family {
        match self {
            SurveyKind::Nps => Family::Nps,
            SurveyKind::Csat { scale: 10 } => Family::Csat10,
            SurveyKind::Csat { .. } => Family::Csat5,
            SurveyKind::Ces => Family::Ces,
        }
    }

    /// The highest score of the bottom box: NPS detractors (0–6), the two lowest points of a
    /// 5-point CSAT, the four lowest of a 10-point one. CES has none (a high score is bad).
    pub fn bottom_box(self) -> Option<u8> {
        match self {
            SurveyKind::Nps => Some(6),
            SurveyKind::Csat { scale: 10 } => Some(4),
            SurveyKind::Csat { .. } => Some(2),
            SurveyKind::Ces => None,
        }
    }

    /// Checks a score against the scale.
    pub fn check_score(self, score: i64) -> Result<u8, FactError> {
        let (min, max) = self.range();
        if score < min as i64 || score > max as i64 {
            return Err(FactError::ScoreOutOfRange { score, min, max });
        }
        Ok(score as u8)
    }
}

/// An answer a business wants to hear about at once (the tenant's webhook receives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// NPS 0–6.
    Detractor,
    /// CSAT in the bottom box.
    LowCsat,
}

impl Alert {
    /// The event type on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Alert::Detractor => "survey.detractor",
            Alert::LowCsat => "survey.low_csat",
        }
    }
}

/// One answer to a survey link, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResponse {
    kind: SurveyKind,
    score: u8,
    channel: Channel,
    has_comment: bool,
}

impl SurveyResponse {
    /// Validates an answer: the score must lie on the survey's scale.
    pub fn new(
        kind: SurveyKind,
        score: i64,
        channel: Channel,
        has_comment: bool,
    ) -> Result<Self, FactError> {
        let score = kind.check_score(score)?;
        Ok(SurveyResponse {
            kind,
            score,
            channel,
            has_comment,
        })
    }

    /// The survey kind.
    pub fn kind(&self) -> SurveyKind {
        self.kind
    }

    /// The validated score.
    pub fn score(&self) -> u8 {
        self.score
    }

    /// The follow-up this answer calls for: a detractor, or a CSAT in the bottom box.
    pub fn alert(&self) -> Option<Alert> {
        let bottom = self.kind.bottom_box()?;
        (self.score <= bottom).then_some(match self.kind {
            SurveyKind::Nps => Alert::Detractor,
            _ => Alert::LowCsat,
        })
    }

    /// What this answer adds to its day's rollup: one count at its score, in total, by
    /// channel and by survey; plus one comment count when it carries a comment.
    pub fn contributions(&self) -> Vec<(CellKey, Cell)> {
        let family = self.kind.family();
        let one = Cell {
            n: 1,
            sum: self.score as i64,
        };
        let mut out = Vec::with_capacity(4);
        let mut push = |family: Family, dim: Dim, segment: &str, key: i64, cell: Cell| {
            out.push((
                CellKey {
                    family,
                    dim,
                    segment: segment.to_string(),
                    key,
                },
                cell,
            ))
        };
        push(family, Dim::All, "", self.score as i64, one);
        push(
            family,
            Dim::Channel,
            self.channel.as_str(),
            self.score as i64,
            one,
        );
        if self.has_comment {
            push(Family::Comments, Dim::All, "", 0, Cell { n: 1, sum: 0 });
            push(
                Family::Comments,
                Dim::Survey,
                self.kind.name(),
                0,
                Cell { n: 1, sum: 0 },
            );
        }
        out
    }
}

/// An instant as the API accepts it: RFC 3339 text with any offset, or Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WireInstant {
    /// Unix milliseconds.
    Millis(i64),
    /// RFC 3339 text.
    Text(String),
}

impl WireInstant {
    /// The instant in Unix ms, validated to lie in 1970..=9999.
    pub fn to_ms(&self) -> Result<i64, FactError> {
        let ms = match self {
            WireInstant::Millis(ms) => *ms,
            WireInstant::Text(s) => crate::period::parse_rfc3339(s)?,
        };
        check_instant(ms)
    }
}

/// Latest instant accepted: the end of year 9999 (Unix ms).
const MAX_INSTANT_MS: i64 = 253_402_300_799_999;

/// Checks that an instant (Unix ms) lies in 1970..=9999.
pub fn check_instant(ms: i64) -> Result<i64, FactError> {
    if (0..=MAX_INSTANT_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(FactError::InvalidDate)
    }
}

/// Longest text field accepted (ids, campaigns, stages, users), in bytes.
pub const MAX_TEXT: usize = 128;

/// Validates a text field that becomes a segment value: 1..=[`MAX_TEXT`] bytes, no control
/// characters.
pub fn check_text(field: &'static str, s: &str) -> Result<String, FactError> {
    if s.is_empty() || s.len() > MAX_TEXT || s.chars().any(char::is_control) {
        return Err(FactError::InvalidText { field });
    }
    Ok(s.to_string())
}

/// Validates an optional text field.
pub fn check_opt_text(field: &'static str, s: Option<&str>) -> Result<Option<String>, FactError> {
    s.map(|s| check_text(field, s)).transpose()
}

/// Collects a fact's contributions: each counter goes to the totals and to every segment the
/// fact carries.
#[derive(Debug, Default)]
pub struct Contributions {
    segments: Vec<(Dim, String)>,
    out: Vec<(CellKey, Cell)>,
}

impl Contributions {
    /// A builder for a fact carrying `segments` (dimension, value); `Dim::All` is implied.
    pub fn new(segments: Vec<(Dim, String)>) -> Self {
        // A ticket adds ~8 counters to the totals and as many per segment.
        let cap = 8 * (1 + segments.len());
        Contributions {
            segments,
            out: Vec::with_capacity(cap),
        }
    }

    /// Adds `cell` at `key` of `family`, in the totals and in every segment.
    pub fn add(&mut self, family: Family, key: i64, cell: Cell) {
        self.total(family, key, cell);
        for (dim, seg) in &self.segments {
            self.out.push((CellKey::new(family, *dim, seg, key), cell));
        }
    }

    /// Adds `cell` at `key` of `family` in the totals only.
    pub fn total(&mut self, family: Family, key: i64, cell: Cell) {
        self.out.push((CellKey::total(family, key), cell));
    }

    /// Adds `cell` in the fact's segments of dimension `dim` only.
    pub fn only(&mut self, dim: Dim, family: Family, key: i64, cell: Cell) {
        for (d, seg) in &self.segments {
            if *d == dim {
                self.out.push((CellKey::new(family, *d, seg, key), cell));
            }
        }
    }

    /// Adds `cell` in every segment of the fact except those of dimension `dim`.
    pub fn except(&mut self, dim: Dim, family: Family, key: i64, cell: Cell) {
        for (d, seg) in &self.segments {
            if *d != dim {
                self.out.push((CellKey::new(family, *d, seg, key), cell));
            }
        }
    }

    /// Adds `cell` in one segment only.
    pub fn segment(&mut self, family: Family, dim: Dim, seg: &str, key: i64, cell: Cell) {
        self.out.push((CellKey::new(family, dim, seg, key), cell));
    }

    /// The collected contributions.
    pub fn finish(self) -> Vec<(CellKey, Cell)> {
        self.out
    }
}

/// A batch of survey links issued: counted for the response rate.
pub fn links_issued(kind: SurveyKind, channel: Channel, count: i64) -> Vec<(CellKey, Cell)> {
    let cell = Cell { n: count, sum: 0 };
    alloc::vec![
        (
            CellKey {
                family: Family::LinksIssued,
                dim: Dim::All,
                segment: String::new(),
                key: 0
            },
            cell
        ),
        (
            CellKey {
                family: Family::LinksIssued,
                dim: Dim::Survey,
                segment: kind.name().to_string(),
                key: 0
            },
            cell
        ),
        (
            CellKey {
                family: Family::LinksIssued,
                dim: Dim::Channel,
                segment: channel.as_str().to_string(),
                key: 0
            },
            cell
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detractors_and_bottom_box_csat_raise_alerts() {
        let alert = |kind, score| {
            SurveyResponse::new(kind, score, Channel::Zalo, false)
                .unwrap()
                .alert()
        };
        assert_eq!(alert(SurveyKind::Nps, 6), Some(Alert::Detractor));
        assert_eq!(alert(SurveyKind::Nps, 7), None);
        assert_eq!(
            alert(SurveyKind::Csat { scale: 5 }, 2),
            Some(Alert::LowCsat)
        );
        assert_eq!(alert(SurveyKind::Csat { scale: 5 }, 3), None);
        assert_eq!(
            alert(SurveyKind::Csat { scale: 10 }, 4),
            Some(Alert::LowCsat)
        );
        assert_eq!(alert(SurveyKind::Csat { scale: 10 }, 5), None);
        assert_eq!(alert(SurveyKind::Ces, 7), None);
    }

    #[test]
    fn score_zero_is_a_valid_nps_answer() {
        assert!(SurveyResponse::new(SurveyKind::Nps, 0, Channel::Email, false).is_ok());
    }

    #[test]
    fn scores_outside_the_scale_are_typed_errors() {
        assert_eq!(
            SurveyResponse::new(SurveyKind::Nps, 11, Channel::Email, false),
            Err(FactError::ScoreOutOfRange {
                score: 11,
                min: 0,
                max: 10
            })
        );
        assert!(
            SurveyResponse::new(SurveyKind::Csat { scale: 5 }, 0, Channel::Chat, false).is_err()
        );
        assert!(SurveyResponse::new(SurveyKind::Ces, 8, Channel::Chat, false).is_err());
        assert!(SurveyResponse::new(SurveyKind::Nps, i64::MIN, Channel::Chat, false).is_err());
        assert_eq!(
            SurveyKind::parse("csat", Some(7)),
            Err(FactError::UnsupportedScale { scale: 7 })
        );
    }
}
