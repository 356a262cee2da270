//! Closed months' and years' lines (`lines_month`, `lines_year`, migration 0015) kept in this
//! isolate's memory once read, so that a dashboard read again asks D1 only for its open
//! days. A kept copy is used only while the tenant's snapshot generation (`snapshot_gens`,
//! migration 0016) is the one it was read at: every batch that rebuilds a snapshot moves it
//! (`cells::rebuild`), and a read's own statement compares it before skipping the lines
//! (`cells::span`), so a copy is never used after its snapshot changed. A month marked stale
//! since is read from its days like any stale month: the marks come with every read.
//! Bounded: past [`CAP_BYTES`] of lines, the cache starts afresh.
use std::cell::RefCell;
use std::collections::HashMap;

/// Bytes of lines kept, over every tenant.
const CAP_BYTES: usize = 8 << 20;

/// The SQL value of tenant `?1`'s snapshot generation (0 before its first rebuild).
pub const GEN_SQL: &str = "(SELECT coalesce(max(gen), 0) FROM snapshot_gens WHERE tenant_id = ?1)";

/// What one part of a read asks for: the lines of `families` × `dims` × `periods` in
/// `table`. A period is its digits: `202610` for `2026-10`, `2026` for `2026`.
#[derive(Debug, Clone)]
pub struct Key {
    /// `lines_month` or `lines_year`.
    pub table: &'static str,
    /// Family ids.
    pub families: Vec<u8>,
    /// Dimension ids.
    pub dims: Vec<u8>,
    /// Periods, as [`period_id`] writes them.
    pub periods: Vec<u32>,
}

impl Key {
    fn each(&self) -> impl Iterator<Item = (&'static str, u8, u8, u32)> + '_ {
        self.families.iter().flat_map(move |f| {
            self.dims
                .iter()
                .flat_map(move |d| self.periods.iter().map(move |p| (self.table, *f, *d, *p)))
        })
    }
}

/// A period (`YYYY-MM` or `YYYY`) as its digits.
pub fn period_id(s: &str) -> Option<u32> {
    let mut v: u32 = 0;
    for c in s.bytes().filter(|c| *c != b'-') {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

#[derive(Default)]
struct TenantLines {
    gen: i64,
    bytes: usize,
    lines: HashMap<(&'static str, u8, u8, u32), String>,
}

#[derive(Default)]
struct Cache {
    tenants: HashMap<String, TenantLines>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The kept lines of every (family, dimension, period) of `key` and the generation they
/// were read at; `None` unless every one is kept.
pub fn get(tenant: &str, key: &Key) -> Option<(i64, String)> {
    CACHE.with(|c| {
        let c = c.borrow();
        let t = c.tenants.get(tenant)?;
        let mut text = String::new();
        for k in key.each() {
            text.push_str(t.lines.get(&k)?);
        }
        Some((t.gen, text))
    })
}

/// Keeps `text`, what a read of `key` returned at generation `gen`: each line under its
/// (family, dimension, period), and every other one of `key` as read empty. A generation
/// other than the kept one drops the tenant's copies first.
pub fn put(tenant: &str, gen: i64, key: &Key, text: &str) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.bytes + text.len() > CAP_BYTES {
            *c = Cache::default();
        }
        let Cache { tenants, bytes } = &mut *c;
        let t = tenants.entry(tenant.to_string()).or_default();
        if t.gen != gen {
            *bytes -= t.bytes;
            *t = TenantLines {
                gen,
                ..TenantLines::default()
            };
        }
        for k in key.each() {
            if let Some(old) = t.lines.insert(k, String::new()) {
                t.bytes -= old.len();
                *bytes -= old.len();
            }
        }
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            let mut head = line.splitn(4, ',');
            let (Some(f), Some(d), Some(p)) = (head.next(), head.next(), head.next()) else {
                continue;
            };
            let (Ok(f), Ok(d), Some(p)) = (f.parse(), d.parse(), period_id(p)) else {
                continue;
            };
            if let Some(kept) = t.lines.get_mut(&(key.table, f, d, p)) {
                kept.push_str(line);
                kept.push('\n');
                t.bytes += line.len() + 1;
                *bytes += line.len() + 1;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(periods: &[u32]) -> Key {
        Key {
            table: "lines_month",
            families: vec![0, 7],
            dims: vec![0, 1],
            periods: periods.to_vec(),
        }
    }

    #[test]
    fn lines_are_kept_per_period_and_used_only_when_all_are_there() {
        assert_eq!(period_id("2026-10"), Some(202610));
        assert_eq!(period_id("2026"), Some(2026));
        assert_eq!(period_id("20x6"), None);
        let tenant = "lines-cache-test";
        assert!(get(tenant, &key(&[202609])).is_none());
        let text = "0,0,2026-09,\t9,10\t3,1\t0,0\n7,1,2026-10,chat\t4\t2\t=900\n";
        put(tenant, 3, &key(&[202609, 202610]), text);
        // Every (family, dim, period) asked for is kept, the empty ones too.
        let (gen, got) = get(tenant, &key(&[202609])).unwrap();
        assert_eq!((gen, got.as_str()), (3, "0,0,2026-09,\t9,10\t3,1\t0,0\n"));
        let (_, both) = get(tenant, &key(&[202609, 202610])).unwrap();
        assert_eq!(both.len(), text.len());
        // A period never read is not there, so the read asks D1.
        assert!(get(tenant, &key(&[202608, 202609])).is_none());
        // Another generation drops what was read at the old one.
        put(tenant, 4, &key(&[202608]), "");
        assert!(get(tenant, &key(&[202609])).is_none());
        assert_eq!(get(tenant, &key(&[202608])).unwrap(), (4, String::new()));
    }
}
