//! A compact, versioned binary encoding of a [`Rollup`], for storing one in a single D1 or KV
//! value. Owns the byte format; not where the bytes are kept.
//!
//! Layout: the magic byte `b'K'`, a version byte, then the body.
//! - **v1**: cell count, then per cell: family id, dim, segment (length + UTF-8), key, n, sum.
//! - **v2** (written now): a table of the distinct segment strings, then runs of cells sharing
//!   (family, dim, segment): the run's family, dim, segment index and length once, then per
//!   cell the key as a delta from the previous one, n and sum. Scores and sketch buckets are
//!   runs of small deltas, so a day of answers takes about 3 bytes a cell.
//!
//! Integers are LEB128 varints, signed ones zigzag-encoded. Readers accept every version ever
//! written; a version this build does not know is an error, never a guess.
use alloc::string::String;
use alloc::vec::Vec;

use crate::rollup::{Acc, Cell, Dim, Entry, Family, Rollup, Segments, Slot};

/// The first byte of every encoded rollup.
pub const MAGIC: u8 = b'K';
/// The version [`encode`] writes.
pub const VERSION: u8 = 2;

/// Why bytes could not be read as a rollup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not start with [`MAGIC`]: not an encoded rollup.
    NotARollup,
    /// Written by a newer build: deploy it before reading these bytes.
    UnknownVersion(u8),
    /// The bytes end too early or hold an out-of-range value: the value is corrupt.
    Corrupt,
    /// A family or dimension id this build does not know (written by a newer build).
    UnknownFamily(u8),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::NotARollup => f.write_str("not an encoded rollup"),
            DecodeError::UnknownVersion(v) => write!(f, "unknown rollup encoding version {v}"),
            DecodeError::Corrupt => f.write_str("corrupt rollup encoding"),
            DecodeError::UnknownFamily(id) => write!(f, "unknown family or dimension id {id}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

fn put_u(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let v = *self.b.get(self.at).ok_or(DecodeError::Corrupt)?;
        self.at += 1;
        Ok(v)
    }

    fn u(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Corrupt)
    }

    fn i(&mut self) -> Result<i64, DecodeError> {
        let u = self.u()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.u()?;
        // No count can exceed the bytes left: refuse before allocating.
        if n > (self.b.len() - self.at) as u64 {
            return Err(DecodeError::Corrupt);
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len()?;
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(DecodeError::Corrupt)?;
        self.at += n;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError::Corrupt)
    }

    /// A family id: `None` for the retired comments family, an error for an unknown id.
    fn family(&mut self) -> Result<Option<Family>, DecodeError> {
        let id = self.byte()?;
        if id == RETIRED_COMMENTS {
            return Ok(None);
        }
        Family::from_id(id)
            .map(Some)
            .ok_or(DecodeError::UnknownFamily(id))
    }

    fn dim(&mut self) -> Result<Dim, DecodeError> {
        let id = self.byte()?;
        Dim::ALL
            .get(id as usize)
            .copied()
            .ok_or(DecodeError::UnknownFamily(id))
    }
}

/// The id family `Comments` had until migration 0005 (comments are now the survey families'
/// `sum`): its cells in old encodings are skipped, so an old inlined value still decodes.
const RETIRED_COMMENTS: u8 = 4;

/// Encodes a rollup in the current version.
pub fn encode(r: &Rollup) -> Vec<u8> {
    let runs: Vec<(Slot, &[Entry])> = r.cells().runs().collect();
    // The segment names the runs use, in name order.
    let mut names: Vec<&str> = runs
        .iter()
        .map(|(slot, _)| r.segs().name(slot.seg()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::with_capacity(8 + r.len() * 4);
    out.push(MAGIC);
    out.push(VERSION);
    put_u(&mut out, names.len() as u64);
    for s in &names {
        put_u(&mut out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    put_u(&mut out, runs.len() as u64);
    for &(slot, run) in &runs {
        out.push(slot.family().id());
        out.push(slot.dim().id());
        let name = r.segs().name(slot.seg());
        put_u(&mut out, names.binary_search(&name).unwrap_or(0) as u64);
        put_u(&mut out, run.len() as u64);
        let mut last = 0i64;
        for e in run {
            put_i(&mut out, e.key.wrapping_sub(last));
            last = e.key;
            put_i(&mut out, e.cell.n);
            put_i(&mut out, e.cell.sum);
        }
    }
    out
}

/// Encodes a rollup in version 1 (kept so that old values can be produced in tests).
pub fn encode_v1(r: &Rollup) -> Vec<u8> {
    let mut out = alloc::vec![MAGIC, 1];
    put_u(&mut out, r.len() as u64);
    for (k, c) in r.iter() {
        out.push(k.family.id());
        out.push(k.dim.id());
        put_u(&mut out, k.segment.len() as u64);
        out.extend_from_slice(k.segment.as_bytes());
        put_i(&mut out, k.key);
        put_i(&mut out, c.n);
        put_i(&mut out, c.sum);
    }
    out
}

/// Decodes bytes of any known version.
pub fn decode(bytes: &[u8]) -> Result<Rollup, DecodeError> {
    let mut rd = Reader { b: bytes, at: 0 };
    if rd.byte().map_err(|_| DecodeError::NotARollup)? != MAGIC {
        return Err(DecodeError::NotARollup);
    }
    let mut segs = Segments::new();
    let mut acc = Acc::new();
    match rd.byte()? {
        1 => {
            let n = rd.len()?;
            for _ in 0..n {
                let family = rd.family()?;
                let dim = rd.dim()?;
                let segment = rd.string()?;
                let key = rd.i()?;
                let cell = Cell {
                    n: rd.i()?,
                    sum: rd.i()?,
                };
                if let Some(family) = family {
                    acc.add(Slot::new(family, dim, segs.intern(&segment)), key, cell);
                }
            }
        }
        2 => {
            let nsegs = rd.len()?;
            let mut ids = Vec::with_capacity(nsegs);
            for _ in 0..nsegs {
                ids.push(segs.intern(&rd.string()?));
            }
            let runs = rd.len()?;
            for _ in 0..runs {
                let family = rd.family()?;
                let dim = rd.dim()?;
                // Not `as usize`: in wasm that keeps the low 32 bits of a corrupt index.
                let seg = usize::try_from(rd.u()?)
                    .ok()
                    .and_then(|i| ids.get(i).copied())
                    .ok_or(DecodeError::Corrupt)?;
                let slot = family.map(|f| Slot::new(f, dim, seg));
                let cells = rd.len()?;
                let mut key = 0i64;
                for _ in 0..cells {
                    key = key.wrapping_add(rd.i()?);
                    let cell = Cell {
                        n: rd.i()?,
                        sum: rd.i()?,
                    };
                    if let Some(slot) = slot {
                        acc.add(slot, key, cell);
                    }
                }
            }
        }
        v => return Err(DecodeError::UnknownVersion(v)),
    }
    if rd.at != bytes.len() {
        return Err(DecodeError::Corrupt);
    }
    Ok(Rollup::from_parts(segs, acc.finish()))
}
