//! Money: ISO 4217 currencies and amounts in minor units. Owns the currency table (exponent
//! and symbol) and the packing of a currency into a rollup key, so that amounts in different
//! currencies sit in different counters and never add.
use serde::{Deserialize, Serialize};

use crate::FactError;

/// An ISO 4217 currency code (three upper-case ASCII letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

/// Currencies whose minor unit is not the cent: (code, decimals). Everything else has 2.
const EXPONENTS: &[(&[u8; 3], u8)] = &[
    (b"VND", 0),
    (b"JPY", 0),
    (b"KRW", 0),
    (b"CLP", 0),
    (b"ISK", 0),
    (b"PYG", 0),
    (b"UGX", 0),
    (b"XAF", 0),
    (b"XOF", 0),
    (b"LAK", 2),
    (b"BHD", 3),
    (b"KWD", 3),
    (b"OMR", 3),
    (b"JOD", 3),
    (b"TND", 3),
    (b"IQD", 3),
    (b"LYD", 3),
];

impl Currency {
    /// Vietnamese đồng, the product's default.
    pub const VND: Currency = Currency(*b"VND");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a code; lower case is accepted and upper-cased.
    pub fn parse(s: &str) -> Result<Currency, FactError> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(FactError::UnknownCurrency);
        }
        Ok(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    /// The code, e.g. `VND`.
    pub fn code(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimals of the minor unit (VND 0, USD 2, KWD 3).
    pub fn exponent(self) -> u8 {
        EXPONENTS
            .iter()
            .find(|(c, _)| **c == self.0)
            .map_or(2, |(_, e)| *e)
    }

    /// The symbol used when formatting, where one is common; else the code.
    pub fn symbol(&self) -> &str {
        match &self.0 {
            b"VND" => "₫",
            b"USD" => "$",
            b"EUR" => "€",
            b"GBP" => "£",
            b"JPY" => "¥",
            _ => self.code(),
        }
    }

    /// The rollup key of this currency: its three letters packed into an integer.
    pub fn key(self) -> i64 {
        (self.0[0] as i64) << 16 | (self.0[1] as i64) << 8 | self.0[2] as i64
    }

    /// The currency of a rollup key, if the key is one.
    pub fn from_key(key: i64) -> Option<Currency> {
        if !(0..1 << 24).contains(&key) {
            return None;
        }
        let b = [(key >> 16) as u8, (key >> 8) as u8, key as u8];
        b.iter().all(u8::is_ascii_uppercase).then_some(Currency(b))
    }

    /// A minor-unit amount in major units (`12345` USD cents → 123.45).
    pub fn to_major(self, minor: f64) -> f64 {
        minor / crate::stats::pow10(self.exponent() as i32)
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::VND
    }
}

impl core::fmt::Display for Currency {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <alloc::string::String as Deserialize>::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount in a currency's minor units (VND has none: `120000` is 120.000 ₫).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units.
    pub minor: i64,
    /// Currency.
    pub currency: Currency,
}

impl Money {
    /// Largest amount accepted on input, in minor units (10^15): far above any real order,
    /// and low enough that ten million of them still add without overflow.
    pub const MAX: i64 = 1_000_000_000_000_000;

    /// A validated amount: `0..=MAX` minor units.
    pub fn new(minor: i64, currency: Currency) -> Result<Money, FactError> {
        if !(0..=Money::MAX).contains(&minor) {
            return Err(FactError::AmountOutOfRange { amount: minor });
        }
        Ok(Money { minor, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_keys_round_trip_and_differ() {
        let v = Currency::parse("vnd").unwrap();
        assert_eq!(v, Currency::VND);
        assert_eq!(Currency::from_key(v.key()), Some(v));
        assert_ne!(Currency::VND.key(), Currency::USD.key());
        assert_eq!(Currency::from_key(0), None);
        assert!(Currency::parse("VN").is_err());
        assert!(Currency::parse("V1D").is_err());
    }

    #[test]
    fn vnd_has_no_minor_unit() {
        assert_eq!(Currency::VND.exponent(), 0);
        assert_eq!(Currency::VND.to_major(120_000.0), 120_000.0);
        assert_eq!(Currency::USD.to_major(12_345.0), 123.45);
        assert!(Money::new(-1, Currency::VND).is_err());
        assert!(Money::new(Money::MAX + 1, Currency::VND).is_err());
    }
}
