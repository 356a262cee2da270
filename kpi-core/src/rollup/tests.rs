//! The monoid laws of rollups, retract-and-add, and the codec, over random facts of every kind.
use super::*;
use crate::codec;
use crate::event::{Event, RawEvent, EVENT_TYPES};
use crate::fact::{Channel, SurveyKind, SurveyResponse, WireInstant};
use crate::period::TimeZone;
use crate::ticket::Ticket;
use alloc::vec::Vec;
use proptest::prelude::*;

type Contribs = Vec<(CellKey, Cell)>;

fn response() -> impl Strategy<Value = Contribs> {
    (0usize..4, 0i64..=10, 0usize..7, any::<bool>()).prop_map(|(kind, score, ch, comment)| {
        let kind = [
            SurveyKind::Nps,
            SurveyKind::Csat { scale: 5 },
            SurveyKind::Csat { scale: 10 },
            SurveyKind::Ces,
        ][kind];
        let (lo, hi) = kind.range();
        let score = lo as i64 + score % (hi - lo + 1) as i64;
        SurveyResponse::new(kind, score, Channel::ALL[ch], comment)
            .map(|r| r.contributions())
            .unwrap_or_default()
    })
}

fn ticket() -> impl Strategy<Value = Contribs> {
    (
        0usize..7,
        1_700_000_000_000i64..1_800_000_000_000,
        proptest::option::of(0i64..10 * 86_400_000),
        proptest::option::of(0i64..40 * 86_400_000),
        1i64..4,
        proptest::option::of("[a-c]"),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(|(ch, opened, first, resolved, contacts, agent, flags)| {
            Ticket::new(
                Channel::ALL[ch],
                opened,
                first.map(|f| opened + f),
                resolved.map(|r| opened + r),
                TimeZone::DEFAULT,
            )
            .and_then(|t| t.with_contacts(contacts))
            .and_then(|t| t.with_agent(agent.as_deref()))
            .map(|t| t.with_flags(flags.0, flags.1, flags.2).contributions())
            .unwrap_or_default()
        })
}

fn event() -> impl Strategy<Value = Contribs> {
    (
        0usize..EVENT_TYPES.len(),
        1i64..1000,
        0i64..10_000_000,
        proptest::option::of(0i64..10_000_000),
        proptest::option::of("[a-c]"),
        0usize..4,
        1_700_000_000_000i64..1_800_000_000_000,
    )
        .prop_map(|(t, count, amount, prev, seg, cur, at)| {
            let raw = RawEvent {
                kind: EVENT_TYPES[t].into(),
                at: Some(WireInstant::Millis(at)),
                count: Some(count),
                amount: Some(amount),
                previous_amount: prev,
                mrr: Some(amount),
                previous_mrr: prev,
                currency: Some(["VND", "USD", "EUR", "vnd"][cur].into()),
                campaign: seg.clone(),
                stage: Some(["interested", "demo", "won"][cur % 3].into()),
                previous_stage: seg.clone(),
                user: seg.clone().or(Some("u".into())),
                activity: Some("call".into()),
                pages: Some(1 + cur as i64),
                previous_order_at: prev.map(|p| WireInstant::Millis(at - p * 1000)),
                second_previous_order_at: prev.map(|p| WireInstant::Millis(at - p * 2000)),
                first_contact_at: Some(WireInstant::Millis(at + amount)),
                first_touch_at: Some(WireInstant::Millis(at - amount)),
                channel: Some("zalo".into()),
                ..RawEvent::default()
            };
            Event::from_wire(&raw, TimeZone::DEFAULT)
                .map(|e| e.contributions())
                .unwrap_or_default()
        })
}

fn fact() -> impl Strategy<Value = Contribs> {
    prop_oneof![response(), ticket(), event()]
}

fn agg(facts: &[Contribs]) -> Rollup {
    let mut r = Rollup::new();
    for f in facts {
        r.extend(f.iter().cloned());
    }
    r
}

fn merged(a: &Rollup, b: &Rollup) -> Rollup {
    let mut m = a.clone();
    m.merge(b);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn empty_rollup_is_the_identity(a in prop::collection::vec(fact(), 0..30)) {
        let a = agg(&a);
        prop_assert_eq!(merged(&a, &Rollup::new()), a.clone());
        prop_assert_eq!(merged(&Rollup::new(), &a), a);
    }

    #[test]
    fn merge_is_associative_and_commutative(a in prop::collection::vec(fact(), 0..20),
                                            b in prop::collection::vec(fact(), 0..20),
                                            c in prop::collection::vec(fact(), 0..20)) {
        let (a, b, c) = (agg(&a), agg(&b), agg(&c));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn merge_of_aggregates_is_aggregate_of_concatenation(a in prop::collection::vec(fact(), 0..30),
                                                          b in prop::collection::vec(fact(), 0..30)) {
        let all: Vec<Contribs> = a.iter().chain(&b).cloned().collect();
        prop_assert_eq!(merged(&agg(&a), &agg(&b)), agg(&all));
    }

    /// The same link answered again: retract the old answer's contributions, add the new
    /// one's — the result equals aggregating the final state.
    #[test]
    fn retract_and_add_equals_the_final_state(before in prop::collection::vec(fact(), 0..20),
                                              old in fact(), new in fact(),
                                              after in prop::collection::vec(fact(), 0..20)) {
        let mut incremental = agg(&before);
        incremental.extend(old.iter().cloned());
        incremental.extend(after.iter().flatten().cloned());
        incremental.extend(old.iter().map(|(k, c)| (k.clone(), c.negate())));
        incremental.extend(new.iter().cloned());
        let final_state: Vec<Contribs> =
            before.iter().chain(core::iter::once(&new)).chain(&after).cloned().collect();
        prop_assert_eq!(incremental, agg(&final_state));
    }

    #[test]
    fn subtract_undoes_merge(a in prop::collection::vec(fact(), 0..20),
                             b in prop::collection::vec(fact(), 0..20)) {
        let (a, b) = (agg(&a), agg(&b));
        let mut m = merged(&a, &b);
        m.subtract(&b);
        prop_assert_eq!(m, a);
    }

    #[test]
    fn codec_round_trips_every_version(a in prop::collection::vec(fact(), 0..40)) {
        let r = agg(&a);
        prop_assert_eq!(codec::decode(&codec::encode(&r)).unwrap(), r.clone());
        prop_assert_eq!(codec::decode(&codec::encode_v1(&r)).unwrap(), r.clone());
    }

    #[test]
    fn decoding_garbage_is_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = codec::decode(&bytes);
        let mut framed = alloc::vec![codec::MAGIC, codec::VERSION];
        framed.extend(&bytes);
        let _ = codec::decode(&framed);
    }
}

#[test]
fn codec_rejects_unknown_versions_and_trailing_bytes() {
    assert_eq!(codec::decode(&[]), Err(codec::DecodeError::NotARollup));
    assert_eq!(codec::decode(b"X\x02"), Err(codec::DecodeError::NotARollup));
    assert_eq!(
        codec::decode(&[codec::MAGIC, 9]),
        Err(codec::DecodeError::UnknownVersion(9))
    );
    let mut bytes = codec::encode(&Rollup::new());
    assert_eq!(codec::decode(&bytes), Ok(Rollup::new()));
    bytes.push(0);
    assert_eq!(codec::decode(&bytes), Err(codec::DecodeError::Corrupt));
}

#[test]
fn a_day_of_answers_encodes_small() {
    let mut r = Rollup::new();
    for s in 0..=10 {
        for ch in Channel::ALL {
            r.extend(
                SurveyResponse::new(SurveyKind::Nps, s, ch, s % 3 == 0)
                    .unwrap()
                    .contributions(),
            );
        }
    }
    let bytes = codec::encode(&r);
    assert!(
        bytes.len() <= r.len() * 4,
        "{} bytes for {} cells",
        bytes.len(),
        r.len()
    );
    assert!(bytes.len() * 2 < codec::encode_v1(&r).len());
}

#[test]
fn family_codes_and_ids_are_stable_and_round_trip() {
    for &f in Family::ALL {
        assert_eq!(Family::parse(f.as_str()), Some(f));
        assert_eq!(Family::from_id(f.id()), Some(f));
    }
    // The comments family's id is retired, never reused.
    assert_eq!(Family::from_id(4), None);
    assert_eq!(Family::ALL.len(), 40);
    assert_eq!(Family::OrderRecency.id(), 39);
    assert_eq!(Family::OpenAnswers.id(), 40);
    // Stored in D1 since the first slice: never change.
    assert_eq!(Family::Nps.as_str(), "nps");
    assert_eq!(Family::LinksIssued.as_str(), "links_issued");
    assert_eq!(Family::LinksIssued.id(), 5);
    assert_eq!(Family::parse("nope"), None);
}

#[test]
fn repeat_keys_round_trip() {
    assert_eq!(key::repeat_parts(key::repeat(None, Some(5))), (None, None));
    assert_eq!(
        key::repeat_parts(key::repeat(Some(20_000), None)),
        (Some(20_000), None)
    );
    assert_eq!(
        key::repeat_parts(key::repeat(Some(20_000), Some(19_000))),
        (Some(20_000), Some(19_000))
    );
}

#[test]
fn contrib_json_is_what_serde_json_writes_for_any_segment() {
    let segments = [
        "",
        "zalo",
        "Chiến dịch \"Tết\" 2027",
        "a\\b/c",
        "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}\u{7f}",
        "😀 khách hàng",
    ];
    let cells: Vec<(CellKey, Cell)> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                CellKey::new(Family::CampaignRevenue, Dim::Campaign, s, -(i as i64) * 7),
                Cell {
                    n: i as i64 - 2,
                    sum: i64::MAX - i as i64,
                },
            )
        })
        .collect();
    let expected: Vec<serde_json::Value> = cells
        .iter()
        .map(|(k, c)| serde_json::json!([k.family.id(), k.dim.id(), k.segment, k.key, c.n, c.sum]))
        .collect();
    assert_eq!(
        contrib_json(&cells),
        serde_json::Value::Array(expected).to_string()
    );
    assert_eq!(contrib_json(&[]), "[]");
}

/// The values migration 0012 writes for orders stored before it (checked against the same
/// cases in SQLite).
#[test]
fn recency_keys_name_the_previous_month_within_twelve() {
    let d = |s: &str| {
        crate::period::CivilDate::parse(s)
            .unwrap()
            .days_since_epoch()
    };
    let cases = [
        ("2026-11-15", None, 0),
        ("2026-11-15", Some("2026-11-01"), 683),
        ("2026-01-05", Some("2025-12-31"), 672),
        ("2026-11-15", Some("2025-11-30"), 671),
        ("2026-11-15", Some("2025-10-31"), 0),
        ("2026-03-01", Some("2025-03-01"), 663),
        ("2026-03-01", Some("2025-02-28"), 0),
    ];
    for (day, prev, want) in cases {
        assert_eq!(key::recency(d(day), prev.map(d)), want, "{day} {prev:?}");
        assert_eq!(
            key::recency_month(want),
            prev.filter(|_| want > 0).map(|_| want - 1)
        );
    }
}

#[test]
fn a_builder_folds_facts_as_their_contributions_say() {
    // Answers and tickets of every channel in a mixed order, tickets with agents (one named
    // like a channel): the builder, which keeps each channel's segment id, holds what the
    // facts' contributions hold, looked up by name. Enough facts that the builder adds its
    // waiting puts to its accumulator several times, the last time when it finishes.
    let mut b = Builder::new();
    let mut contributions = Vec::new();
    let mut x: u64 = 0x9e37_79b9;
    for i in 0..6000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ch = Channel::ALL[(x % 7) as usize];
        if i % 3 == 0 {
            let opened = 1_790_000_000_000 + (x % 1_000_000_000) as i64;
            let agent = ["lan", "email", "minh"][(x >> 8) as usize % 3];
            let t = Ticket::new(
                ch,
                opened,
                Some(opened + (x >> 20) as i64 % 7_200_000),
                Some(opened + (x >> 24) as i64 % 259_200_000),
                TimeZone::DEFAULT,
            )
            .and_then(|t| t.with_agent(Some(agent)))
            .unwrap();
            t.contribute(&mut b);
            contributions.extend(t.contributions());
        } else {
            let r = SurveyResponse::new(SurveyKind::Nps, (x >> 16) as i64 % 11, ch, i % 7 == 0)
                .unwrap();
            r.contribute(&mut b);
            contributions.extend(r.contributions());
        }
    }
    assert!(contributions.len() > 2 * super::PENDING);
    assert_ne!(
        contributions.len() % super::PENDING,
        0,
        "a partial batch at the end"
    );
    let mut by_name = Rollup::new();
    by_name.extend(contributions);
    assert_eq!(b.finish().canonical(), by_name.canonical());
}

#[test]
fn a_builder_saturates_as_its_puts_came_across_batches() {
    // Counters pushed against both ends of `i64` over more than two batches: the builder's
    // counters are those of an accumulator given the same puts in the same order (another
    // order saturates elsewhere).
    let mut b = Builder::new();
    let mut acc = Acc::new();
    for i in 0..(2 * super::PENDING as i64 + 100) {
        let n = match i % 7 {
            0 => i64::MAX,
            3 => i64::MIN,
            _ => 1 - (i % 5),
        };
        let cell = Cell {
            n,
            sum: n.saturating_neg(),
        };
        b.put(Family::Nps, Dim::All, SegId::NONE, i % 11, cell);
        acc.add(Slot::new(Family::Nps, Dim::All, SegId::NONE), i % 11, cell);
    }
    assert_eq!(b.finish().cells(), &acc.finish());
}
