//! Voice of the customer: the survey KPIs (NPS, CSAT, CES, response rate, feedback balance,
//! comments), read from the per-score counters of the survey families.
use alloc::string::ToString;

use super::measure::{count, mean_score, pos, proportion, round, Measure, Sample};
use super::meta::{Direction, Group, Indicator, Unit};
use super::view::{sum, View};
use super::{Kpi, Needs};
use crate::fact::SurveyKind;
use crate::nps::NpsTally;
use crate::rollup::Dim;
use crate::rollup::Family::{self, Ces, Csat10, Csat5, LinksIssued, Nps, OpenAnswers};
use crate::stats;
use crate::target::Scaling;
use crate::target::Target;

fn nps(v: &View) -> Measure {
    let t = NpsTally::from_run(v.run(Nps));
    let n = t.n();
    let b = t.breakdown();
    let mut m = Measure {
        value: t.score().and_then(|s| round(s, 1)),
        n: Some(n),
        interval: stats::nps_adjusted_wald(b.promoters, b.detractors, n)
            .map(|(lo, hi)| [stats::round_to(lo, 1), stats::round_to(hi, 1)]),
        insufficient_sample: n < v.opts.min_sample,
        margin: t.margin().and_then(|m| round(m, 1)),
        sample: Some(Sample::Nps {
            promoters: b.promoters,
            detractors: b.detractors,
            n,
        }),
        ..Measure::default()
    };
    m.breakdown.insert("promoters".to_string(), b.promoters);
    m.breakdown.insert("passives".to_string(), b.passives);
    m.breakdown.insert("detractors".to_string(), b.detractors);
    m
}

/// Positive (top box), negative (bottom box) and all CSAT answers on both scales.
pub(crate) fn csat_counts(v: &View) -> (i64, i64, i64) {
    let (mut good, mut bad, mut n) = (0i64, 0i64, 0i64);
    for (f, t, scale) in [
        (Csat5, v.opts.csat_positive_5, 5),
        (Csat10, v.opts.csat_positive_10, 10),
    ] {
        let bottom = SurveyKind::Csat { scale }.bottom_box().unwrap_or(0) as i64;
        for e in v.run(f) {
            n = n.saturating_add(e.cell.n);
            if e.key >= t as i64 {
                good = good.saturating_add(e.cell.n);
            }
            if e.key <= bottom {
                bad = bad.saturating_add(e.cell.n);
            }
        }
    }
    (good, bad, n)
}

fn csat(v: &View) -> Measure {
    let (p, _, n) = csat_counts(v);
    proportion(p, n, v)
}

fn csat_mean(v: &View) -> Measure {
    // 10-point answers are put on the 5-point scale: 1 → 1, 10 → 5.
    let five = v.run(Csat5).iter().map(|e| (e.key, e.cell));
    let ten = v
        .run(Csat10)
        .iter()
        .map(|e| (e.key.saturating_add(1000), e.cell));
    mean_score(
        five.chain(ten),
        |k| {
            if k >= 1000 {
                1.0 + k.saturating_sub(1001) as f64 * 4.0 / 9.0
            } else {
                k as f64
            }
        },
        v,
    )
}

fn ces(v: &View) -> Measure {
    let run = v.run(Ces);
    let mut m = mean_score(run.iter().map(|e| (e.key, e.cell)), |k| k as f64, v);
    let part = |lo: i64, hi: i64| -> u64 {
        run.iter()
            .filter(|e| (lo..=hi).contains(&e.key))
            .map(|e| pos(e.cell.n))
            .fold(0, |a, x| a.saturating_add(x))
    };
    let (easy, n) = (part(5, 7), part(1, 7));
    m.breakdown.insert("easy".into(), easy);
    m.breakdown.insert("neutral".into(), part(4, 4));
    m.breakdown.insert("hard".into(), part(1, 3));
    m.share = (n > 0).then(|| stats::round_to(easy as f64 * 100.0 / n as f64, 1));
    m
}

/// The survey families of a survey kind's name, as `Dim::Survey` segments name them.
fn kind_families(name: &str) -> &'static [Family] {
    match name {
        "nps" => &[Nps],
        "csat" => &[Csat5, Csat10],
        "ces" => &[Ces],
        _ => &[],
    }
}

/// The counters of the survey families answering the viewed segment: by survey kind, the
/// kind's families in the totals; otherwise every family in the segment.
fn answers<'a>(v: &'a View<'a>) -> impl Iterator<Item = crate::rollup::Cell> + 'a {
    let (families, by_kind): (&[Family], bool) = match v.dim {
        Dim::Survey => (kind_families(v.seg_name()), true),
        _ => (&[Nps, Csat5, Csat10, Ces], false),
    };
    families.iter().map(move |f| {
        if by_kind {
            sum(v.totals(*f))
        } else {
            v.total(*f)
        }
    })
}

/// Answers to the links issued. Open links (one link, many answers) are not issued links,
/// so their answers are left out here and shown apart (`open_link_answers`).
fn survey_response_rate(v: &View) -> Measure {
    let open = v.total(OpenAnswers).n;
    let responses = answers(v).fold(0i64, |a, c| a.saturating_add(c.n));
    let mut m = proportion(responses.saturating_sub(open), v.total(LinksIssued).n, v);
    if open > 0 {
        m.breakdown.insert("open_link_answers".into(), pos(open));
    }
    m
}

fn feedback_balance(v: &View) -> Measure {
    let (p, neg, _) = csat_counts(v);
    let b = NpsTally::from_run(v.run(Nps)).breakdown();
    let good = p.saturating_add(b.promoters as i64);
    let bad = neg.saturating_add(b.detractors as i64);
    let mut m = Measure {
        value: (bad > 0).then(|| stats::round_to(good as f64 / bad as f64, 2)),
        n: Some(pos(good.saturating_add(bad))),
        ..Measure::default()
    };
    m.breakdown.insert("positive".into(), pos(good));
    m.breakdown.insert("negative".into(), pos(bad));
    m
}

/// Answers carrying a comment: the `sum` of the survey families (0 with answers and no
/// comment; no value without answers).
fn comments(v: &View) -> Measure {
    let (n, commented) = answers(v).fold((0i64, 0i64), |(n, s), c| {
        (n.saturating_add(c.n), s.saturating_add(c.sum))
    });
    count(commented, n > 0)
}

/// `nps`.
pub const NPS: Kpi = Kpi {
    id: "nps",
    label_en: "Net Promoter Score",
    label_vi: "Chỉ số khuyến nghị",
    unit: Unit::Score,
    direction: Direction::Up,
    default_target: Some(Target::new(0.0, 50.0)),
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Voice,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel],
    reads: &[Nps],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "NPS survey answers (0–10)",
        "null without answers; flagged insufficient_sample under the minimum sample",
    ),
    fallback: None,
    trailing_year: false,
    formula: nps,
};

/// `csat`.
pub const CSAT: Kpi = Kpi {
    id: "csat",
    label_en: "Customer Satisfaction",
    label_vi: "Mức độ hài lòng",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: Some(Target::new(85.0, 85.0)),
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Voice,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel],
    reads: &[Csat5, Csat10],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "CSAT survey answers (5- or 10-point scale); setting csat_positive_5/10",
        "null without answers",
    ),
    fallback: None,
    trailing_year: false,
    formula: csat,
};

/// `csat_mean`.
pub const CSAT_MEAN: Kpi = Kpi {
    id: "csat_mean",
    label_en: "Mean satisfaction score",
    label_vi: "Điểm hài lòng trung bình",
    unit: Unit::Score,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "000_0c99e78863d5dcfa",
    group: Group::Voice,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel],
    reads: &[Csat5, Csat10],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("CSAT survey answers", "null without answers"),
    fallback: None,
    trailing_year: false,
    formula: csat_mean,
};

/// `ces`.
pub const CES: Kpi = Kpi {
    id: "ces",
    label_en: "Customer Effort Score",
    label_vi: "Chỉ số nỗ lực khách hàng",
    unit: Unit::Score,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Voice,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel],
    reads: &[Ces],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("CES survey answers (1–7)", "null without answers"),
    fallback: None,
    trailing_year: false,
    formula: ces,
};

/// `survey_response_rate`.
pub const SURVEY_RESPONSE_RATE: Kpi = Kpi {
    id: "survey_response_rate",
    label_en: "Survey response rate",
    label_vi: "Tỷ lệ phản hồi khảo sát",
    unit: Unit::Percent,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "001_52ae2a46d99de276",
    group: Group::Voice,
    indicator: Indicator::Leading,
    segments: &[Dim::Channel, Dim::Survey],
    reads: &[LinksIssued, Nps, Csat5, Csat10, Ces, OpenAnswers],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "survey links minted; survey answers",
        "null when no link was issued in the period",
    ),
    fallback: None,
    trailing_year: false,
    formula: survey_response_rate,
};

/// `feedback_balance`.
pub const FEEDBACK_BALANCE: Kpi = Kpi {
    id: "feedback_balance",
    label_en: "Positive : negative feedback",
    label_vi: "Tỷ lệ phản hồi tích cực – tiêu cực",
    unit: Unit::Ratio,
    direction: Direction::Up,
    default_target: None,
    target_scaling: Scaling::AsIs,
    source: "002_8183e6a055baabc9",
    group: Group::Voice,
    indicator: Indicator::Lagging,
    segments: &[Dim::Channel],
    reads: &[Nps, Csat5, Csat10],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new(
        "NPS or CSAT survey answers",
        "null without a negative answer (nothing to divide by)",
    ),
    fallback: None,
    trailing_year: false,
    formula: feedback_balance,
};

/// `comments`.
pub const COMMENTS: Kpi = Kpi {
    id: "comments",
    label_en: "Qualitative feedback",
    label_vi: "Phản hồi định tính",
    unit: Unit::Count,
    direction: Direction::None,
    default_target: None,
    target_scaling: Scaling::Days,
    source: "003_7e7bb242a4f31d67",
    group: Group::Voice,
    indicator: Indicator::Lagging,
    segments: &[Dim::Survey],
    reads: &[Nps, Csat5, Csat10, Ces],
    stocks: &[],
    breakdowns: &[],
    needs: Needs::new("survey answers with a comment", "null without answers"),
    fallback: None,
    trailing_year: false,
    formula: comments,
};

/// The voice KPIs, in catalog order.
pub const KPIS: &[Kpi] = &[
    NPS,
    CSAT,
    CSAT_MEAN,
    CES,
    SURVEY_RESPONSE_RATE,
    FEEDBACK_BALANCE,
    COMMENTS,
];
