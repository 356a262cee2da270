//! Short-lived copies, in this isolate's memory, of what nearly every request reads: a key's
//! resolution (`auth`) and a tenant's configuration (`tenant`). They spare a KV read (and its
//! parse) per request. A change made through this isolate drops the tenant's entries at once
//! (`auth::invalidate`); other isolates see it within [`TTL_MS`], well inside the minute
//! KV's own copies may lag across locations. Bounded: a full table starts afresh.
use std::collections::HashMap;

use crate::http::now_ms;

/// How long an entry is used, in milliseconds.
pub const TTL_MS: i64 = 15_000;
/// Entries per table.
const CAP: usize = 512;

/// One table of copies, by name; the owner keeps it in a `thread_local!`.
pub struct Memo<T> {
    map: HashMap<String, (i64, T)>,
}

impl<T: Clone> Memo<T> {
    /// An empty table.
    pub fn new() -> Self {
        Memo {
            map: HashMap::new(),
        }
    }

    /// The copy named `k`, if fresh.
    pub fn get(&self, k: &str) -> Option<T> {
        let now = now_ms();
        self.map
            .get(k)
            .filter(|(exp, _)| *exp > now)
            .map(|(_, v)| v.clone())
    }

    /// Keeps a copy for [`TTL_MS`].
    pub fn put(&mut self, k: &str, v: T) {
        if self.map.len() >= CAP {
            self.map.clear();
        }
        self.map.insert(k.to_string(), (now_ms() + TTL_MS, v));
    }

    /// Drops the copy named `k`.
    pub fn forget(&mut self, k: &str) {
        self.map.remove(k);
    }

    /// Keeps only the copies `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        self.map.retain(|_, (_, v)| keep(v));
    }
}

impl<T: Clone> Default for Memo<T> {
    fn default() -> Self {
        Self::new()
    }
}
