//! Short-lived copies, in this isolate's memory, of what nearly every request reads: a key's
//! resolution and a tenant's configuration. They spare a KV read (and its parse) per request.
//! A change made through this isolate drops the tenant's entries at once
//! ([`forget_tenant`]); other isolates see it within [`TTL_MS`], well inside the minute KV's
//! own copies may lag across locations. Bounded: a full table starts afresh.
use std::cell::RefCell;
use std::collections::HashMap;

use crate::auth::Principal;
use crate::http::now_ms;
use crate::tenants::TenantConfig;

/// How long an entry is used, in milliseconds.
pub const TTL_MS: i64 = 15_000;
/// Entries per table.
const CAP: usize = 512;

struct Memo<T> {
    map: HashMap<String, (i64, T)>,
}

impl<T: Clone> Memo<T> {
    fn get(&self, k: &str, now: i64) -> Option<T> {
        self.map
            .get(k)
            .filter(|(exp, _)| *exp > now)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, k: &str, v: T, now: i64) {
        if self.map.len() >= CAP {
            self.map.clear();
        }
        self.map.insert(k.to_string(), (now + TTL_MS, v));
    }
}

thread_local! {
    static KEYS: RefCell<Memo<Principal>> = RefCell::new(Memo { map: HashMap::new() });
    static TENANTS: RefCell<Memo<TenantConfig>> = RefCell::new(Memo { map: HashMap::new() });
}

/// The resolution of the key whose digest is `digest`, if fresh.
pub fn key(digest: &str) -> Option<Principal> {
    KEYS.with(|m| m.borrow().get(digest, now_ms()))
}

/// Keeps a key's resolution.
pub fn put_key(digest: &str, p: &Principal) {
    KEYS.with(|m| m.borrow_mut().put(digest, p.clone(), now_ms()));
}

/// Drops the resolution of the key whose digest is `digest` (revoked, rotated, expired).
pub fn forget_key(digest: &str) {
    KEYS.with(|m| {
        m.borrow_mut().map.remove(digest);
    });
}

/// The configuration of tenant `id`, if fresh.
pub fn tenant(id: &str) -> Option<TenantConfig> {
    TENANTS.with(|m| m.borrow().get(id, now_ms()))
}

/// Keeps a tenant's configuration.
pub fn put_tenant(cfg: &TenantConfig) {
    TENANTS.with(|m| m.borrow_mut().put(&cfg.id, cfg.clone(), now_ms()));
}

/// Drops tenant `id`'s configuration and every key resolution that carries it.
pub fn forget_tenant(id: &str) {
    TENANTS.with(|m| {
        m.borrow_mut().map.remove(id);
    });
    KEYS.with(|m| m.borrow_mut().map.retain(|_, (_, p)| p.tenant.id != id));
}
