//! Standard base64 (RFC 4648 §4: `+/`, `=` padding), strictly: the form rollups travel in
//! (`GET /v1/rollups`, [`crate::days`]). Only canonical text decodes: a length that is a
//! multiple of 4, `=` only at the end and only as many as the length needs, and no bits set
//! past the last byte; anything else is `None`, as with the `base64` crate's `STANDARD`
//! engine (the tests compare the two).
//!
//! Written here rather than taken from that crate: its general-purpose decoder was 3.7 KB of
//! the widget's offline module, whose size is budgeted (issue 10: ≤ 60 KB gzip); these two
//! functions are a tenth of that.
use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The base64 text of `bytes`, padded.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = byte(0) << 16 | byte(1) << 8 | byte(2);
        for i in 0..4 {
            // A chunk of k bytes fills k + 1 sextets; the rest of its four are padding.
            let c = if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63]
            } else {
                b'='
            };
            out.push(char::from(c));
        }
    }
    out
}

/// The value of one base64 character, `None` for a character outside the alphabet.
fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// The bytes of canonical base64 text; `None` for anything else (see the module).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let quads = text.len() / 4;
    let mut out = Vec::with_capacity(quads * 3);
    for (i, quad) in text.chunks_exact(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in quad.get(..4 - pad)? {
            n = n << 6 | sextet(c)?;
        }
        n <<= 6 * pad;
        // The sextets carry 2 (one `=`) or 4 (two) bits past the last byte: they must be 0.
        if n & ((1 << (8 * pad)) - 1) != 0 {
            return None;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(bytes.get(..3 - pad)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::base64::Engine as _;
    use proptest::prelude::*;

    const STANDARD: ::base64::engine::GeneralPurpose = ::base64::engine::general_purpose::STANDARD;

    #[test]
    fn rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn only_canonical_text_decodes() {
        // Unpadded, a set bit past the last byte, padding inside or beyond what is needed,
        // a character outside the alphabet (URL-safe, whitespace).
        for bad in [
            "Zg", "Zm8", "Zh==", "Zm9=", "Zg=a", "Zg==Zg==", "Z===", "====", "Zm9v====", "Zm-v",
            "Zm_v", "Zm9v\n", " Zm9v", "Zg=", "=Zg=",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
            assert!(STANDARD.decode(bad).is_err(), "the crate accepts {bad:?}");
        }
    }

    proptest! {
        #[test]
        fn encodes_as_the_crate_and_decodes_back(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = encode(&bytes);
            prop_assert_eq!(&text, &STANDARD.encode(&bytes));
            prop_assert_eq!(decode(&text), Some(bytes));
        }

        /// Any text from the alphabet, `=` and a few others: the same verdict and bytes as
        /// the crate's strict engine.
        #[test]
        fn decodes_as_the_crate(text in "[A-Za-z0-9+/=_ -]{0,16}") {
            prop_assert_eq!(decode(&text), STANDARD.decode(&text).ok());
        }

        /// Valid text with one character changed anywhere.
        #[test]
        fn a_changed_character_gets_the_crates_verdict(
            bytes in proptest::collection::vec(any::<u8>(), 1..24),
            at in any::<prop::sample::Index>(),
            c in "[A-Za-z0-9+/=.]",
        ) {
            let mut text = encode(&bytes).into_bytes();
            let i = at.index(text.len());
            text[i] = c.as_bytes()[0];
            let text = String::from_utf8(text).unwrap_or_default();
            prop_assert_eq!(decode(&text), STANDARD.decode(&text).ok());
        }
    }
}
