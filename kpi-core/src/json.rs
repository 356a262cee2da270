//! A small JSON writer and reader for the two documents kpi-core owns on the wire: a report
//! (`GET /v1/kpis`' `kpis[]`, [`crate::report::write_reports`]) and a span of day rollups
//! (`GET /v1/rollups`, [`crate::days::DayRollups::from_json`]). The widget's offline module
//! reads and writes them with these alone: a general-purpose JSON library would be most of
//! its size. Numbers are written to nine decimals at most, whole ones as integers.
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Appends the decimal digits of `u`. 64-bit division is one instruction in wasm; 128-bit
/// division is a library call per digit, which a report's numbers all paid.
fn push_digits(s: &mut String, mut u: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    s.push_str(core::str::from_utf8(&digits[at..]).unwrap_or("0"));
}

/// Fills `out` with the last `out.len()` decimal digits of `u`, zero-padded.
fn fixed_digits(mut u: u64, out: &mut [u8]) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (u % 10) as u8;
        u /= 10;
    }
}

/// Appends the decimal digits of `v` (the numbers of a report, without `core::fmt`'s
/// machinery on the hot path of every response).
fn push_int(s: &mut String, v: i128) {
    if v < 0 {
        s.push('-');
    }
    let u = v.unsigned_abs();
    match u64::try_from(u) {
        Ok(u) => push_digits(s, u),
        // Past 2^64 (a float past 1.8e19): the digits above the last 19, then those 19.
        Err(_) => {
            const E19: u128 = 10_000_000_000_000_000_000;
            push_digits(s, (u / E19) as u64);
            let mut low = [0u8; 19];
            fixed_digits((u % E19) as u64, &mut low);
            s.push_str(core::str::from_utf8(&low).unwrap_or(""));
        }
    }
}

/// Appends JSON text.
#[derive(Debug, Default)]
pub struct Out {
    /// The text so far.
    pub s: String,
    /// Whether the next value in the current object or array needs a comma first.
    comma: bool,
}

impl Out {
    /// An empty writer.
    pub fn new() -> Self {
        Out::default()
    }

    fn sep(&mut self) {
        if self.comma {
            self.s.push(',');
        }
        self.comma = true;
    }

    /// Opens an object (as a value).
    pub fn open(&mut self) {
        self.sep();
        self.s.push('{');
        self.comma = false;
    }

    /// Closes an object.
    pub fn close(&mut self) {
        self.s.push('}');
        self.comma = true;
    }

    /// Opens an array (as a value).
    pub fn open_array(&mut self) {
        self.sep();
        self.s.push('[');
        self.comma = false;
    }

    /// Closes an array.
    pub fn close_array(&mut self) {
        self.s.push(']');
        self.comma = true;
    }

    /// Writes a key; the next call writes its value.
    pub fn key(&mut self, k: &str) {
        self.sep();
        self.string_body(k);
        self.s.push(':');
        self.comma = false;
    }

    /// Writes `v` quoted: runs of bytes that need no escape are copied whole (every byte of a
    /// multi-byte character is ≥ 0x80, so a run never cuts one).
    fn string_body(&mut self, v: &str) {
        self.s.push('"');
        let mut run = 0;
        for (i, b) in v.bytes().enumerate() {
            if !(b == b'"' || b == b'\\' || b < 0x20) {
                continue;
            }
            self.s.push_str(v.get(run..i).unwrap_or(""));
            run = i + 1;
            match b {
                b'"' => self.s.push_str("\\\""),
                b'\\' => self.s.push_str("\\\\"),
                b'\n' => self.s.push_str("\\n"),
                b'\r' => self.s.push_str("\\r"),
                b'\t' => self.s.push_str("\\t"),
                _ => {
                    let _ = write!(self.s, "\\u{:04x}", b);
                }
            }
        }
        self.s.push_str(v.get(run..).unwrap_or(""));
        self.s.push('"');
    }

    /// Writes a string value.
    pub fn str(&mut self, v: &str) {
        self.sep();
        self.string_body(v);
    }

    /// Writes a number: whole values as integers, others to nine decimals with the trailing
    /// zeros dropped (every figure of a report is rounded to at most three); a value that is
    /// not finite as `null` (JSON has no NaN). Integer arithmetic only: the float formatting
    /// of `core` would be a sixth of the offline widget's size.
    pub fn num(&mut self, v: f64) {
        self.sep();
        if !v.is_finite() {
            self.s.push_str("null");
            return;
        }
        // Past 2^53 every float is whole; past 9e15 a whole one is written as such too.
        let scaled = libm::round(v * 1e9);
        if libm::fabs(v) >= 9.0e15 || libm::fabs(scaled) >= 9.0e24 {
            push_int(&mut self.s, libm::round(v) as i128);
            return;
        }
        // |scaled| < 9e24, so its whole part in billionths fits 64 bits once divided.
        let a = libm::fabs(scaled);
        let (int, frac) = if a < 9.0e18 {
            let n = a as u64;
            (n / 1_000_000_000, (n % 1_000_000_000) as u32)
        } else {
            let n = a as u128;
            ((n / 1_000_000_000) as u64, (n % 1_000_000_000) as u32)
        };
        if scaled < 0.0 {
            self.s.push('-');
        }
        push_digits(&mut self.s, int);
        if frac != 0 {
            let mut digits = [0u8; 9];
            fixed_digits(u64::from(frac), &mut digits);
            let end = digits.iter().rposition(|d| *d != b'0').map_or(0, |i| i + 1);
            self.s.push('.');
            self.s
                .push_str(core::str::from_utf8(&digits[..end]).unwrap_or(""));
        }
    }

    /// Writes an integer.
    pub fn int(&mut self, v: u64) {
        self.sep();
        push_int(&mut self.s, i128::from(v));
    }

    /// Writes a boolean.
    pub fn bool(&mut self, v: bool) {
        self.sep();
        self.s.push_str(if v { "true" } else { "false" });
    }

    /// Writes `null`.
    pub fn null(&mut self) {
        self.sep();
        self.s.push_str("null");
    }

    /// Writes a number or `null`.
    pub fn opt_num(&mut self, v: Option<f64>) {
        match v {
            Some(v) => self.num(v),
            None => self.null(),
        }
    }

    /// The text.
    pub fn finish(self) -> String {
        self.s
    }
}

/// Why JSON text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub &'static str);

impl core::fmt::Display for JsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

/// A value read from JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, its members in the order written.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `k` of an object.
    pub fn get(&self, k: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }
}

/// Depth beyond which a document is refused (no recursion without bound on input).
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.at < self.b.len() && matches!(self.b[self.at], b' ' | b'\n' | b'\r' | b'\t') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), JsonError> {
        self.ws();
        if self.b.get(self.at) == Some(&c) {
            self.at += 1;
            Ok(())
        } else {
            Err(JsonError("unexpected character"))
        }
    }

    fn lit(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.b[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(JsonError("unexpected word"))
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self
            .b
            .get(self.at..self.at + 4)
            .and_then(|h| core::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or(JsonError("bad escape"))?;
        self.at += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.at;
            while self.at < self.b.len() && !matches!(self.b[self.at], b'"' | b'\\') {
                if self.b[self.at] < 0x20 {
                    return Err(JsonError("control character in a string"));
                }
                self.at += 1;
            }
            out.push_str(
                core::str::from_utf8(&self.b[start..self.at])
                    .map_err(|_| JsonError("not UTF-8"))?,
            );
            match self.b.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let e = *self.b.get(self.at).ok_or(JsonError("bad escape"))?;
                    self.at += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xd800..0xdc00).contains(&c) {
                                // A surrogate pair: the low half follows as `\uXXXX`.
                                if self.b.get(self.at..self.at + 2) != Some(b"\\u") {
                                    return Err(JsonError("lone surrogate"));
                                }
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(JsonError("lone surrogate"));
                                }
                                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            out.push(char::from_u32(c).ok_or(JsonError("bad escape"))?);
                        }
                        _ => return Err(JsonError("bad escape")),
                    }
                }
                _ => return Err(JsonError("unterminated string")),
            }
        }
    }

    /// The digits at the cursor (`0`–`9`), each handed to `f`; how many there were.
    fn digits(&mut self, mut f: impl FnMut(u8)) -> usize {
        let start = self.at;
        while let Some(d @ b'0'..=b'9') = self.b.get(self.at) {
            f(d - b'0');
            self.at += 1;
        }
        self.at - start
    }

    /// A number in JSON's grammar, as the nearest `f64` (see [`decimal_to_f64`]).
    fn number(&mut self) -> Result<f64, JsonError> {
        const BAD: JsonError = JsonError("bad number");
        let neg = self.b.get(self.at) == Some(&b'-');
        self.at += usize::from(neg);
        // The significant digits, trailing zeros held apart (`zeros`) so that `100…0`
        // stays `1` times a power of ten: `m · 10^(zeros + exp)`.
        let (mut m, mut zeros, mut exp, mut overflow) = (0u64, 0i32, 0i32, false);
        let mut digit = |d: u8, zeros: &mut i32| {
            if d == 0 {
                *zeros += 1;
                return;
            }
            let scaled = (0..=*zeros).try_fold(m, |m, _| m.checked_mul(10));
            match scaled.and_then(|m| m.checked_add(u64::from(d))) {
                Some(v) => m = v,
                None => overflow = true,
            }
            *zeros = 0;
        };
        let leading_zero = self.b.get(self.at) == Some(&b'0');
        let int_digits = self.digits(|d| digit(d, &mut zeros));
        if int_digits == 0 || (leading_zero && int_digits > 1) {
            return Err(BAD);
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            let frac = self.digits(|d| digit(d, &mut zeros));
            if frac == 0 {
                return Err(BAD);
            }
            exp -= i32::try_from(frac).map_err(|_| BAD)?;
        }
        if matches!(self.b.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            let sign = match self.b.get(self.at) {
                Some(b'-') => -1,
                Some(b'+') => 1,
                _ => 0,
            };
            self.at += usize::from(sign != 0);
            let mut e = 0i32;
            let n = self.digits(|d| e = e.saturating_mul(10).saturating_add(i32::from(d)));
            if n == 0 {
                return Err(BAD);
            }
            exp = exp.saturating_add(if sign < 0 { -e } else { e });
        }
        if overflow {
            return Err(JsonError("a number has too many significant digits"));
        }
        let v = decimal_to_f64(m, exp.saturating_add(zeros))
            .ok_or(JsonError("a number is out of range (about 1e-37 to 1e46)"))?;
        Ok(if neg { -v } else { v })
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError("nested too deep"));
        }
        self.ws();
        match self.b.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    m.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return Err(JsonError("expected , or }")),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::Array(a));
                        }
                        _ => return Err(JsonError("expected , or ]")),
                    }
                }
            }
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.lit("true", Value::Bool(true)),
            Some(b'f') => self.lit("false", Value::Bool(false)),
            Some(b'n') => self.lit("null", Value::Null),
            Some(_) => self.number().map(Value::Num),
            None => Err(JsonError("unexpected end")),
        }
    }
}

/// `m · 10^e` rounded to the nearest `f64` (ties to even), exactly as `str::parse` would,
/// without `core`'s float parser: its tables alone are a sixth of the offline widget module
/// (gzip). Covers every value whose shortest form (at most 17 significant digits) lies between
/// 1e-37 and 1e46 in magnitude, and more; `None` when `e < -54` or `m · 5^e` passes 2^128.
///
/// `10^e = 5^e · 2^e`, and a power of two scales a float exactly. So a non-negative power
/// multiplies by `5^e` in `u128`, whose conversion rounds once. A negative one divides
/// `m · 2^s` by `5^k` bit by bit until the quotient has 64 bits: 11 more than `f64` keeps,
/// so the remainder folded into its last bit (sticky) rounds the conversion as the exact
/// quotient would.
pub fn decimal_to_f64(m: u64, e: i32) -> Option<f64> {
    let pow2 = |p: i32| f64::from_bits(((1023 + p) as u64) << 52);
    if m == 0 {
        return Some(0.0);
    }
    if e >= 0 {
        let p = 5u128.checked_pow(u32::try_from(e).ok()?)?;
        // e ≤ 55 here (5^56 passes 2^128): 2^e is a normal float.
        return Some(u128::from(m).checked_mul(p)? as f64 * pow2(e));
    }
    let k = e.unsigned_abs();
    // d < 2^127, so the remainder's 2r + 1 fits in u128.
    let d = 5u128.checked_pow(k).filter(|d| *d < 1 << 127)?;
    let (mut q, mut r, mut s) = (0u128, 0u128, 0i32);
    let mut step = |bit: u64, q: &mut u128| {
        r = 2 * r + u128::from(bit);
        *q = 2 * *q + u128::from(r >= d);
        r -= if r >= d { d } else { 0 };
    };
    for i in (0..64).rev() {
        step((m >> i) & 1, &mut q);
    }
    while q < 1 << 63 {
        step(0, &mut q);
        s += 1;
    }
    let sticky = u128::from(r != 0);
    // s + k < 64 + 54 · log2(10): 2^-(s + k) is a normal float, and so is the result.
    Some((q | sticky) as f64 * pow2(-(s + k as i32)))
}

/// Reads one JSON document.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader {
        b: text.as_bytes(),
        at: 0,
    };
    let v = r.value(0)?;
    r.ws();
    if r.at != r.b.len() {
        return Err(JsonError("trailing characters"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_writes() {
        let v = serde_json::json!({"a": [1, 2.5, -3e-7, true, null], "b": "Tết \"quoted\" \\ \n\t\u{1}😀",
            "c": {}, "d": []});
        let text = v.to_string();
        let got = parse(&text).unwrap();
        assert_eq!(got.get("b").and_then(Value::as_str), v["b"].as_str());
        assert_eq!(
            got.get("a"),
            Some(&Value::Array(alloc::vec![
                Value::Num(1.0),
                Value::Num(2.5),
                Value::Num(-3e-7),
                Value::Bool(true),
                Value::Null
            ]))
        );
        assert_eq!(parse(r#""\ud83d\ude00""#), Ok(Value::Str("😀".into())));
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "\"\\ud83d\"",
            "01x",
            "nul",
            "[1] 2",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(100);
        assert!(parse(&deep).is_err());
    }

    /// The number reader against `str::parse` (core's correctly rounded parser): the same
    /// bits for every form a writer gives (`Display`, `{:e}`, serde_json's shortest form), for
    /// halfway cases, and an error, not a wrong value, outside its range.
    #[test]
    fn numbers_read_exactly_as_str_parse() {
        let num = |t: &str| match parse(t) {
            Ok(Value::Num(v)) => Ok(v),
            other => Err(alloc::format!("{t}: {other:?}")),
        };
        let same = |t: &str| {
            let want: f64 = t.parse().unwrap();
            assert_eq!(num(t).map(f64::to_bits), Ok(want.to_bits()), "{t}");
        };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut checked = 0;
        while checked < 100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if !(v.is_finite() && (1e-37..1e46).contains(&v.abs())) {
                continue;
            }
            for t in [
                alloc::format!("{v}"),
                alloc::format!("{v:e}"),
                serde_json::to_string(&v).unwrap(),
            ] {
                same(&t);
            }
            // Fewer digits than the shortest form: a decimal between two floats.
            same(&alloc::format!("{v:.6e}"));
            checked += 1;
        }
        for t in [
            "0",
            "-0",
            "0.0",
            "1",
            "-1",
            "0.1",
            "0.30000000000000004",
            "56.2",
            "-0.05",
            "1e20",
            "1E+2",
            "3e-7",
            "1e-38",
            "9.999999999999999e-38",
            "1e-54",
            "1e55",
            "9007199254740993",
            "9007199254740995",
            "4503599627370496.5",
            "4503599627370497.5",
            "1.2345678901234567e-25",
            "0.000000000000000000001",
            "123456789012345678e-20",
            "100000000000000000000000000000",
            "2.9802322387695312e-8",
            "0e999999999999",
            "1.0000000000000000000000000000",
            "18446744073709551615",
        ] {
            same(t);
        }
        for bad in [
            "1e-55",
            "1e56",
            "1.7976931348623157e308",
            "5e-324",
            "18446744073709551616",
            "123456789012345678901",
            "340282366920938463463374607431768211455",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "- 1",
            "0x1",
        ] {
            assert!(num(bad).is_err(), "{bad}");
        }
    }

    /// The writer before it took 64-bit paths: every number in 128 bits.
    fn num_in_128_bits(v: f64) -> String {
        let mut s = String::new();
        if !v.is_finite() {
            return "null".into();
        }
        let scaled = libm::round(v * 1e9);
        if libm::fabs(v) >= 9.0e15 || libm::fabs(scaled) >= 9.0e24 {
            let r = libm::round(v) as i128;
            return alloc::format!("{r}");
        }
        let n = scaled as i128;
        let (int, frac) = (n / 1_000_000_000, (n % 1_000_000_000).unsigned_abs());
        if n < 0 && int == 0 {
            s.push('-');
        }
        let _ = write!(s, "{int}");
        if frac != 0 {
            let f = alloc::format!("{frac:09}");
            let _ = write!(s, ".{}", f.trim_end_matches('0'));
        }
        s
    }

    proptest::proptest! {
        #[test]
        fn numbers_write_as_in_128_bits(bits in proptest::prelude::any::<u64>(),
                                        small in -1e12f64..1e12, int in proptest::prelude::any::<i64>()) {
            for v in [f64::from_bits(bits), small, int as f64, small / 1e9, -small * 1e7] {
                let mut o = Out::new();
                o.num(v);
                proptest::prop_assert_eq!(o.finish(), num_in_128_bits(v), "{:e}", v);
            }
        }
    }

    #[test]
    fn writes_what_serde_json_reads() {
        let mut o = Out::new();
        o.open();
        o.key("s");
        o.str("Tết \"x\" \\ \n\u{1}");
        o.key("n");
        o.num(56.0);
        o.key("f");
        o.num(56.2);
        o.key("neg");
        o.num(-0.05);
        o.key("big");
        o.num(1e20);
        o.key("x");
        o.num(f64::NAN);
        o.key("a");
        o.open_array();
        o.int(1);
        o.bool(false);
        o.null();
        o.close_array();
        o.close();
        let text = o.finish();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["s"], "Tết \"x\" \\ \n\u{1}");
        assert_eq!(v["n"], 56);
        assert_eq!(v["f"].as_f64(), Some(56.2));
        assert_eq!(v["neg"].as_f64(), Some(-0.05));
        assert_eq!(v["big"].as_f64(), Some(1e20));
        let mut o = Out::new();
        for x in [0.1 + 0.2, -12.25, 3.0, -7.0, 123456.789, 1.5e-10] {
            o.num(x);
        }
        assert_eq!(o.finish(), "0.3,-12.25,3,-7,123456.789,0");
        let mut o = Out::new();
        for x in [0.0, -0.5, -1e16, 9.0e15, 1e30] {
            o.num(x);
        }
        for i in [0, 7, u64::MAX] {
            o.int(i);
        }
        let want = "0,-0.5,-10000000000000000,9000000000000000,1000000000000000019884624838656,\
                    0,7,18446744073709551615";
        assert_eq!(o.finish(), want);
        assert!(v["x"].is_null());
        assert_eq!(v["a"], serde_json::json!([1, false, null]));
        // Escapes at the ends, side by side and between multi-byte characters: the same text
        // as serde_json writes.
        for s in [
            "",
            "\"Tết\"",
            "\n\r\t\u{1f}\\",
            "ả\u{0}ở 😀",
            "plain ASCII",
            "\u{7f}é",
        ] {
            let mut o = Out::new();
            o.str(s);
            assert_eq!(o.finish(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }
}
