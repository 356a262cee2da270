//! Validated facts: what the outside world tells us, checked once at the door.
//! Each fact knows its contribution to a day's rollup; it does not know about storage.
//! This module owns survey responses and the pieces every fact shares (channels, instants on
//! the wire, text fields, the contribution builder); tickets live in [`crate::ticket`], CRM
//! events in [`crate::event`].
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::rollup::{Cell, CellKey, Collect, Dim, Family, SegId, Sink};
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
    open: bool,
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
            open: false,
        })
    }

    /// The same answer, given through an open link (one link, many answers: a QR code at the
    /// counter): it also counts in [`Family::OpenAnswers`], so the response rate — answers
    /// per link issued — can leave it out, as it leaves out the open link itself.
    pub fn through_open_link(mut self) -> Self {
        self.open = true;
        self
    }

    /// Whether the answer came through an open link.
    pub fn is_open(&self) -> bool {
        self.open
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

    /// What this answer adds to its day's rollup: one count at its score in the totals and
    /// in its channel; `sum` counts it as commented when it carries a comment (the comments
    /// KPI and its split by survey are the survey families' sums).
    pub fn contribute<S: Sink>(&self, sink: &mut S) {
        let family = self.kind.family();
        let cell = Cell {
            n: 1,
            sum: self.has_comment as i64,
        };
        let channel = sink.channel(self.channel);
        sink.put(family, Dim::All, SegId::NONE, self.score as i64, cell);
        sink.put(family, Dim::Channel, channel, self.score as i64, cell);
        if self.open {
            // Where `links_issued` counts a link: the totals, its survey and its channel.
            let one = Cell { n: 1, sum: 0 };
            let survey = sink.segment(self.kind.name());
            sink.put(Family::OpenAnswers, Dim::All, SegId::NONE, 0, one);
            sink.put(Family::OpenAnswers, Dim::Survey, survey, 0, one);
            sink.put(Family::OpenAnswers, Dim::Channel, channel, 0, one);
        }
    }

    /// [`SurveyResponse::contribute`] as a list.
    pub fn contributions(&self) -> Vec<(CellKey, Cell)> {
        let mut c = Collect::default();
        self.contribute(&mut c);
        c.out
    }
}

/// An instant as the API accepts it: RFC 3339 text with any offset, or Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum WireInstant {
    /// Unix milliseconds.
    Millis(i64),
    /// RFC 3339 text.
    Text(String),
}

impl<'de> Deserialize<'de> for WireInstant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        int_or_text(
            d,
            "integer milliseconds or RFC 3339 text",
            WireInstant::Millis,
            WireInstant::Text,
        )
    }
}

/// Reads a JSON integer (`int`) or string (`text`), anything else an error naming
/// `expecting`: what `#[serde(untagged)]` does for a two-variant enum, without buffering the
/// value into serde's `Content` first (most of the code of every type holding one, and of
/// the worker's).
pub(crate) fn int_or_text<'de, D, T>(
    d: D,
    expecting: &'static str,
    int: fn(i64) -> T,
    text: fn(String) -> T,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::{Error, Unexpected, Visitor};
    struct V<T> {
        expecting: &'static str,
        int: fn(i64) -> T,
        text: fn(String) -> T,
    }
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
            Ok((self.int)(v))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
            match i64::try_from(v) {
                Ok(v) => Ok((self.int)(v)),
                Err(_) => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
            Ok((self.text)(v.to_string()))
        }
        fn visit_string<E: Error>(self, v: String) -> Result<T, E> {
            Ok((self.text)(v))
        }
    }
    d.deserialize_any(V {
        expecting,
        int,
        text,
    })
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

/// Hands a fact's counters to a [`Sink`]: each counter goes to the totals and to every
/// segment the fact carries, unless it says otherwise.
pub struct Contributions<'s, S: Sink> {
    sink: &'s mut S,
    segments: [(Dim, SegId); MAX_SEGMENTS],
    len: usize,
}

/// The most segments one fact carries (channel, campaign, source, stage, agent).
pub const MAX_SEGMENTS: usize = 5;

impl<'s, S: Sink> Contributions<'s, S> {
    /// A builder for a fact carrying `segments` (dimension, value); `Dim::All` is implied.
    /// Segments past [`MAX_SEGMENTS`] are ignored (a fact has at most one per dimension).
    pub fn new(sink: &'s mut S, segments: &[(Dim, &str)]) -> Self {
        let mut c = Contributions {
            sink,
            segments: [(Dim::All, SegId::NONE); MAX_SEGMENTS],
            len: 0,
        };
        for (dim, name) in segments.iter().take(MAX_SEGMENTS) {
            let seg = c.sink.segment(name);
            c.push(*dim, seg);
        }
        c
    }

    /// [`Contributions::new`] for a fact of `channel` carrying `segments` besides.
    pub fn of_channel(sink: &'s mut S, channel: Channel, segments: &[(Dim, &str)]) -> Self {
        let seg = sink.channel(channel);
        let mut c = Contributions::new(sink, &[]);
        c.push(Dim::Channel, seg);
        for (dim, name) in segments.iter().take(MAX_SEGMENTS - 1) {
            let seg = c.sink.segment(name);
            c.push(*dim, seg);
        }
        c
    }

    fn push(&mut self, dim: Dim, seg: SegId) {
        if let Some(s) = self.segments.get_mut(self.len) {
            *s = (dim, seg);
            self.len += 1;
        }
    }

    fn segs(&self) -> [(Dim, SegId); MAX_SEGMENTS] {
        self.segments
    }

    /// Adds `cell` at `key` of `family`, in the totals and in every segment.
    pub fn add(&mut self, family: Family, key: i64, cell: Cell) {
        self.total(family, key, cell);
        for &(dim, seg) in &self.segs()[..self.len] {
            self.sink.put(family, dim, seg, key, cell);
        }
    }

    /// Adds `cell` at `key` of `family` in the totals only.
    pub fn total(&mut self, family: Family, key: i64, cell: Cell) {
        self.sink.put(family, Dim::All, SegId::NONE, key, cell);
    }

    /// Adds `cell` in the fact's segments of dimension `dim` only.
    pub fn only(&mut self, dim: Dim, family: Family, key: i64, cell: Cell) {
        for &(d, seg) in &self.segs()[..self.len] {
            if d == dim {
                self.sink.put(family, d, seg, key, cell);
            }
        }
    }

    /// Adds `cell` in every segment of the fact except those of dimension `dim`.
    pub fn except(&mut self, dim: Dim, family: Family, key: i64, cell: Cell) {
        for &(d, seg) in &self.segs()[..self.len] {
            if d != dim {
                self.sink.put(family, d, seg, key, cell);
            }
        }
    }

    /// Adds `cell` in one named segment only.
    pub fn segment(&mut self, family: Family, dim: Dim, name: &str, key: i64, cell: Cell) {
        let seg = self.sink.segment(name);
        self.sink.put(family, dim, seg, key, cell);
    }

    /// True when the fact carries a segment of `dim`.
    pub fn has(&self, dim: Dim) -> bool {
        self.segments[..self.len].iter().any(|(d, _)| *d == dim)
    }
}

/// A batch of survey links issued: counted for the response rate, in the totals, by survey
/// and by channel.
pub fn links_issued(kind: SurveyKind, channel: Channel, count: i64) -> Vec<(CellKey, Cell)> {
    let mut out = Collect::default();
    let mut c = Contributions::new(
        &mut out,
        &[(Dim::Survey, kind.name()), (Dim::Channel, channel.as_str())],
    );
    c.add(Family::LinksIssued, 0, Cell { n: count, sum: 0 });
    out.out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant or an order reads as `#[serde(untagged)]` read it: an integer (`i64`,
    /// whatever its JSON sign) or a string; anything else, and integers past `i64`, refused;
    /// `null` in an optional field is absence. Written back, each is the bare value.
    #[test]
    fn int_or_text_reads_as_untagged_did() {
        use crate::event::{OrderField, RawEvent};
        let instant = |t: &str| serde_json::from_str::<WireInstant>(t).ok();
        assert_eq!(
            instant("1790000000000"),
            Some(WireInstant::Millis(1_790_000_000_000))
        );
        assert_eq!(instant("-5"), Some(WireInstant::Millis(-5)));
        assert_eq!(
            instant(&i64::MAX.to_string()),
            Some(WireInstant::Millis(i64::MAX))
        );
        assert_eq!(
            instant("\"2026-11-20T09:00:00+07:00\""),
            Some(WireInstant::Text("2026-11-20T09:00:00+07:00".into()))
        );
        assert_eq!(
            instant("\"a\\\"b\""),
            Some(WireInstant::Text("a\"b".into()))
        );
        for bad in [
            "1.5",
            "true",
            "null",
            "18446744073709551615",
            "{}",
            "[1]",
            "1e3",
        ] {
            assert_eq!(instant(bad), None, "{bad}");
        }
        let order = |t: &str| serde_json::from_str::<OrderField>(t).ok();
        assert_eq!(order("1042"), Some(OrderField::Number(1042)));
        assert_eq!(order("\"O-1\""), Some(OrderField::Text("O-1".into())));
        assert_eq!(order("2.5"), None);
        let raw: RawEvent = serde_json::from_str(
            r#"{"type": "x", "at": null, "order": 7, "previous_order_at": 5}"#,
        )
        .unwrap();
        assert_eq!(raw.at, None);
        assert_eq!(raw.order, Some(OrderField::Number(7)));
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            r#"{"type":"x","order":7,"previous_order_at":5}"#
        );
    }

    /// Issue 15: 10 links e-mailed and 4 answered is 40 %, however many walk-in customers
    /// answer an open link beside them; their answers count in NPS and are shown apart.
    #[test]
    fn open_link_answers_leave_the_response_rate_alone() {
        use crate::kpi::{find, Lang, ReportOptions};
        use crate::report::report;
        use crate::rollup::Rollup;
        let answer = |score, channel| SurveyResponse::new(SurveyKind::Nps, score, channel, false);
        let mut r = Rollup::new();
        r.extend(links_issued(SurveyKind::Nps, Channel::Email, 10));
        for s in [10, 9, 8, 3] {
            r.extend(answer(s, Channel::Email).unwrap().contributions());
        }
        for s in [10, 10, 9, 2, 9, 7] {
            let open = answer(s, Channel::Zalo).unwrap().through_open_link();
            assert!(open.is_open());
            r.extend(open.contributions());
        }
        let opts = ReportOptions {
            lang: Lang::En,
            segment: Some(Dim::Channel),
            ..ReportOptions::default()
        };
        let rate = report(find("survey_response_rate").unwrap(), &r, None, &[], &opts);
        assert_eq!(rate.measure.value, Some(40.0));
        assert_eq!(rate.measure.n, Some(10));
        assert_eq!(rate.measure.breakdown.get("open_link_answers"), Some(&6));
        // By channel: the e-mailed links keep their rate; the open link's channel issued no
        // link, so it has no rate to list.
        assert_eq!(rate.segments["email"].value, Some(40.0));
        assert!(!rate.segments.contains_key("zalo"));
        // NPS counts every answer: 6 promoters, 2 detractors of 10.
        let nps = report(find("nps").unwrap(), &r, None, &[], &opts);
        assert_eq!((nps.measure.n, nps.measure.value), (Some(10), Some(40.0)));
    }

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
