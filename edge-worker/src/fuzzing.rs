//! The harnesses of the parser fuzz targets in `fuzz/`: each takes arbitrary bytes, runs on
//! them the pure code a route runs (no D1, no runtime, so natively), and asserts what must hold
//! for every input. Built with the `fuzzing` feature, and by the unit test below that replays
//! the committed corpus, so a crash once found stays a regression test. Changes no behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::collections::BTreeMap;

use kpi_core::codec;
use kpi_core::fact::{Channel, SurveyKind};
use kpi_core::period::TimeZone;
use kpi_core::rollup::{Dim, Family};
use serde_json::Value;

use crate::error::ApiError;
use crate::events;
use crate::http::{b64url, b64url_decode};
use crate::ticket_merge as tickets;
use crate::{secrets, token};

/// The signing secret the token harness signs and verifies with.
pub const MASTER: &[u8] = b"fuzz-master-link-signing-secret-0123456789";
/// "Now" for the token harness (2026-09-21, Unix seconds).
pub const NOW_S: i64 = 1_790_000_000;

/// A parser's error must be the caller's fault (4xx), never a 5xx.
fn client_error(e: &ApiError, what: &str) {
    let (status, _, msg) = e.parts();
    assert!(
        (400..500).contains(&status),
        "{what}: input gave {status}: {msg}"
    );
}

/// A `contrib` column must be what the counters' triggers read: `[[family, dim, segment, key,
/// n, sum], …]` with known family and dimension ids and integer counters.
fn check_contrib(contrib: &str) {
    let v: Value = serde_json::from_str(contrib).expect("contrib is JSON");
    for cell in v.as_array().expect("contrib is an array") {
        let c = cell.as_array().expect("a contrib cell is an array");
        assert_eq!(c.len(), 6, "contrib cell {cell}");
        let id = |v: &Value| v.as_u64().and_then(|x| u8::try_from(x).ok());
        assert!(id(&c[0]).and_then(Family::from_id).is_some(), "{cell}");
        assert!(id(&c[1]).and_then(Dim::from_id).is_some(), "{cell}");
        assert!(c[2].is_string(), "{cell}");
        for x in &c[3..] {
            assert!(x.is_i64(), "contrib counters are integers: {cell}");
        }
    }
}

/// Link tokens. The first byte picks how the rest is used:
/// - even: the rest is a token as it arrives in a URL (`payload.mac`), almost always forged;
/// - odd: the rest is a claims payload, signed here with the right key, so that what comes
///   after the MAC check (claims parsing, version, expiry, the survey kind) is reached too.
///
/// Verification never panics, rejects what it must, and what it accepts re-signs to the
/// same claims and is a survey a page can be drawn for.
pub fn token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tok = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // The harness derives the key from the tenant the payload names, as the worker does.
        let tenant = serde_json::from_slice::<Value>(rest)
            .ok()
            .and_then(|v| v.get("t").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        let payload = b64url(rest);
        let key = secrets::link_key(MASTER, &tenant).expect("an HMAC key of any length");
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("an HMAC key of any length");
        mac.update(payload.as_bytes());
        format!("{payload}.{}", b64url(&mac.finalize().into_bytes()))
    };
    match token::verify(MASTER, &tok, NOW_S) {
        Ok(claims) => {
            assert_eq!(claims.version, 1);
            assert!(claims.expires > NOW_S);
            let again = token::sign(MASTER, &claims).expect("sign");
            assert_eq!(
                token::verify(MASTER, &again, NOW_S).ok(),
                Some(claims.clone())
            );
            // What the page and the answer routes do next with a verified link.
            if let Ok(kind) = SurveyKind::parse(&claims.survey, Some(claims.scale)) {
                let (min, max) = kind.range();
                assert!(min < max && kind.check_score(max as i64).is_ok());
            }
            let _ = Channel::parse(&claims.channel);
        }
        Err(e) => {
            client_error(&e, "token");
            assert!(matches!(e, ApiError::BadToken | ApiError::Expired), "{e:?}");
            // A forged token never verifies: the odd mode signs correctly, so only there a
            // payload can pass, and then it must have been a valid claims object.
            if mode & 1 == 1 && tok.len() <= 2048 {
                let parsed = serde_json::from_slice::<token::LinkClaims>(rest);
                if let Ok(c) = parsed {
                    assert!(
                        c.version != 1 || c.expires <= NOW_S,
                        "valid claims rejected: {c:?}"
                    );
                }
            }
        }
    }
    // Tampering with the last character of the MAC always fails.
    if let Some((payload, sig)) = tok.split_once('.') {
        if let Some(bytes) = b64url_decode(sig) {
            if !bytes.is_empty() {
                let mut b = bytes;
                b[0] ^= 1;
                let forged = format!("{payload}.{}", b64url(&b));
                assert!(token::verify(MASTER, &forged, NOW_S).is_err());
            }
        }
    }
}

/// `POST /v1/events` bodies, as JSON (`ndjson` false) or NDJSON: every item is either a row
/// whose `contrib` the rollup SQL can read, or a rejection; never a panic or a 5xx.
pub fn events(data: &[u8], ndjson: bool) {
    let tz = TimeZone::DEFAULT;
    let items = match events::parse_body(data, ndjson) {
        Ok(items) => items,
        Err(e) => return client_error(&e, "events body"),
    };
    let n = items.len();
    let (mut rows, mut rejected) = (0, 0);
    for item in items {
        match item.and_then(|v| {
            events::validate(v, tz).map(|(id, raw, ev)| events::row(&raw, &id, &ev, None, false))
        }) {
            Ok(row) => {
                rows += 1;
                assert!(row["id"].is_string() && row["day"].is_string());
                assert!(row["at"].is_i64(), "{row}");
                check_contrib(row["contrib"].as_str().expect("contrib"));
                // The stored body is what was validated of the event, and validates again.
                let body = row["body"].as_str().expect("body");
                assert!(events::validate(body, tz).is_ok(), "{body}");
            }
            Err(e) => {
                rejected += 1;
                client_error(&e, "event");
            }
        }
    }
    assert_eq!(rows + rejected, n);
}

/// `POST /v1/tickets` bodies, upserted over an in-memory store twice: each ticket is stored
/// with a readable `contrib` or rejected with a message; never a panic or a 5xx. When the
/// body's ids are distinct, sending it again changes nothing (the replay guarantee).
pub fn tickets(data: &[u8]) {
    let tz = TimeZone::DEFAULT;
    let mut stored = BTreeMap::new();
    let first = match tickets::upsert_offline(data, tz, &mut stored) {
        Ok(out) => out,
        Err(e) => return client_error(&e, "tickets body"),
    };
    for o in &first {
        match o {
            Ok(contrib) => check_contrib(contrib),
            Err(msg) => assert!(!msg.is_empty()),
        }
    }
    let (_, values) = tickets::parse_body(data).expect("parsed once already");
    let mut ids: Vec<Option<String>> = values.iter().map(|v| crate::http::item_id(v)).collect();
    ids.sort_unstable();
    let distinct = ids.windows(2).all(|w| w[0] != w[1]);
    let snapshot = format!("{stored:?}");
    let second = tickets::upsert_offline(data, tz, &mut stored).expect("parsed once already");
    if distinct {
        assert_eq!(
            format!("{stored:?}"),
            snapshot,
            "a replay changed stored tickets"
        );
        for (a, b) in first.iter().zip(&second) {
            if let Ok(a) = a {
                assert_eq!(Some(a), b.as_ref().ok(), "a replay changed a contribution");
            }
        }
    }
}

/// Stored rollup bytes: decoding never panics, and whatever decodes re-encodes (in the
/// current and in the first version) to bytes that decode to the same rollup.
pub fn rollup(data: &[u8]) {
    let Ok(r) = codec::decode(data) else {
        return;
    };
    assert_eq!(codec::decode(&codec::encode(&r)).as_ref(), Ok(&r));
    assert_eq!(codec::decode(&codec::encode_v1(&r)).as_ref(), Ok(&r));
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Runs `harness` on every file of `fuzz/corpus/<target>`: the seeds, what the fuzzer
    /// kept, and the inputs of crashes once found (regression tests).
    fn replay(target: &str, harness: fn(&[u8])) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus")
            .join(target);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).expect("corpus file");
            harness(&bytes);
            n += 1;
        }
        assert!(n > 0, "no corpus in {}", dir.display());
    }

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus")
            .join(target)
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// The seeds reach the accepting paths, not only the rejections.
    #[test]
    fn seeds_reach_the_accepting_paths() {
        use super::*;
        let tok = seed("token", "signed_valid");
        let tok = std::str::from_utf8(&tok[1..]).expect("utf-8");
        let claims = token::verify(MASTER, tok, NOW_S).expect("the valid seed verifies");
        assert_eq!(claims.tenant, "hoa-sen-spa");
        let body = seed("events_ndjson", "mixed");
        let items = events::parse_body(&body, true).expect("body");
        let ok = items
            .into_iter()
            .filter(|i| {
                i.as_ref()
                    .ok()
                    .and_then(|v| events::validate(v, TimeZone::DEFAULT).ok())
                    .is_some()
            })
            .count();
        assert_eq!(
            ok, 8,
            "eight valid events, one unknown type, one without id, one bad line"
        );
        let mut stored = BTreeMap::new();
        let out = tickets::upsert_offline(
            &seed("tickets", "batch_fill_in"),
            TimeZone::DEFAULT,
            &mut stored,
        )
        .expect("body");
        let accepted: Vec<bool> = out.iter().map(Result::is_ok).collect();
        // T-2 answers before it opened; T-3 is new without channel and opened_at.
        assert_eq!(accepted, [true, true, false, false]);
        assert_eq!(stored["T-1001"].agent.as_deref(), Some("an"));
        let r = codec::decode(&seed("rollup_decode", "v2_two_cells")).expect("decodes");
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn token_corpus_replays() {
        replay("token", super::token);
    }

    #[test]
    fn events_json_corpus_replays() {
        replay("events_json", |b| super::events(b, false));
    }

    #[test]
    fn events_ndjson_corpus_replays() {
        replay("events_ndjson", |b| super::events(b, true));
    }

    #[test]
    fn tickets_corpus_replays() {
        replay("tickets", super::tickets);
    }

    #[test]
    fn rollup_corpus_replays() {
        replay("rollup_decode", super::rollup);
    }
}
