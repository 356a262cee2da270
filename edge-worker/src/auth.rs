//! API keys: generation, hashing, and resolving a request's key to a tenant; the admin token.
//! Keys are `sk_`/`pk_` + 10 lookup characters (the key's public id) + 32 secret characters
//! (≥ 200 random bits), shown once and stored only as SHA-256 hashes, with an optional expiry
//! and a revocation time. A short-TTL KV entry caches the resolution; D1 stays the source of
//! truth, and revoking a key deletes its cache entry ([`forget_key`]). Minting, rotating and
//! revoking are `routes::keys`' job.
use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Env, Request};

use crate::error::{ApiError, ApiResult};
use crate::http::{hex, now_ms, query, random_bytes};
use crate::memo::Memo;
use crate::tenant::{self, TenantConfig};

const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const LOOKUP_LEN: usize = 10;
const SECRET_LEN: usize = 32;
const KEY_CACHE_TTL_S: u64 = 60;
const INVALID: ApiError = ApiError::Unauthorized("The key is not valid.");

/// Which kind of key a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `sk_…`: server to server, everything.
    Secret,
    /// `pk_…`: reads KPIs from an allowed origin.
    Publishable,
}

impl KeyKind {
    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk_",
            KeyKind::Publishable => "pk_",
        }
    }

    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
        }
    }

    /// The kind a storage name names.
    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "secret" => Some(KeyKind::Secret),
            "publishable" => Some(KeyKind::Publishable),
            _ => None,
        }
    }
}

/// A freshly generated key: the plaintext (shown once) and what is stored.
pub struct NewKey {
    /// The key as the client will send it.
    pub plaintext: String,
    /// Public lookup part.
    pub lookup: String,
    /// Hex SHA-256 of the plaintext.
    pub hash: String,
}

/// Generates a key of `kind`.
pub fn generate(kind: KeyKind) -> ApiResult<NewKey> {
    let raw = random_bytes::<{ LOOKUP_LEN + SECRET_LEN }>()?;
    let body: String = raw
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect();
    let plaintext = format!("{}{body}", kind.prefix());
    Ok(NewKey {
        lookup: body[..LOOKUP_LEN].to_string(),
        hash: hash(&plaintext),
        plaintext,
    })
}

/// Hex SHA-256 of a key: what D1 stores, and the name of its KV cache entry.
pub fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// The KV entry caching the resolution of the key whose hash is `digest`.
pub fn cache_key(digest: &str) -> String {
    format!("key:{digest}")
}

/// Who is calling: the tenant and the key it used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    /// The key's kind.
    pub kind: KeyKind,
    /// The key's id (its public lookup characters).
    #[serde(default)]
    pub key_id: String,
    /// When the key stops working (Unix ms), if it expires: checked on cached entries too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<f64>,
    /// The tenant's configuration, shared with this isolate's copy of it: a request takes
    /// it from the memo without copying its strings, targets and settings.
    pub tenant: Rc<TenantConfig>,
}

/// The key a request carries: `Authorization: Bearer …`, or a publishable key as `key=` in
/// the query (a plain GET from the widget). A secret key in a URL is refused: URLs end up in
/// browser histories, proxies and request logs.
pub fn presented_key(req: &Request, pairs: &[(String, String)]) -> ApiResult<Option<String>> {
    let from_query = query(pairs, "key");
    if from_query.is_some_and(|k| !k.starts_with("pk_")) {
        return Err(ApiError::Unauthorized(
            "Only a publishable key may be sent as `key=`; send a secret key as \
             `Authorization: Bearer sk_…`, never in a URL.",
        ));
    }
    if let Ok(Some(h)) = req.headers().get("authorization") {
        let h = h.trim();
        if let Some(k) = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
        {
            return Ok(Some(k.trim().to_string()));
        }
    }
    Ok(from_query.map(str::to_string))
}

thread_local! {
    static MEMO: RefCell<Memo<Principal>> = RefCell::new(Memo::new());
}

/// Resolves a key to its tenant: KV cache, then D1. Unknown, malformed, revoked or expired
/// → 401. Rate limits are the caller's: a publishable key counts only once its origin is
/// allowed ([`require_reader`]).
pub async fn resolve(env: &Env, key: &str) -> ApiResult<Principal> {
    let kind = if key.starts_with("sk_") {
        KeyKind::Secret
    } else if key.starts_with("pk_") {
        KeyKind::Publishable
    } else {
        return Err(INVALID);
    };
    let body = &key[3..];
    if body.len() != LOOKUP_LEN + SECRET_LEN || !body.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(INVALID);
    }
    let now = now_ms() as f64;
    let digest = hash(key);
    let fresh = |p: Principal| match p.expires_at {
        Some(at) if at <= now => Err(INVALID),
        _ => Ok(p),
    };
    if let Some(p) = MEMO
        .with(|m| m.borrow().get(&digest))
        .filter(|p| p.kind == kind)
    {
        return fresh(p);
    }
    let kv = env.kv("KV")?;
    // The cached resolution holds the tenant's configuration: one KV read per request.
    // Settings and targets writes delete it ([`invalidate`]), so a change applies at once;
    // so does revoking or rotating the key ([`forget_key`]).
    let cache_key = cache_key(&digest);
    if let Some(cached) = crate::kv::get::<Principal>(&kv, &cache_key).await {
        if cached.kind == kind && !cached.key_id.is_empty() {
            MEMO.with(|m| m.borrow_mut().put(&digest, cached.clone()));
            return fresh(cached);
        }
    }
    let row = crate::db::keys::by_lookup(&crate::db::open(env)?, &body[..LOOKUP_LEN])
        .await?
        .ok_or(INVALID)?;
    let same = row.hash.as_bytes().ct_eq(digest.as_bytes());
    if !bool::from(same)
        || row.kind != kind.as_str()
        || row.revoked_at.is_some()
        || row.expires_at.is_some_and(|at| at <= now)
    {
        return Err(INVALID);
    }
    let tenant = tenant::config(env, &row.tenant_id).await?;
    let principal = Principal {
        kind,
        key_id: body[..LOOKUP_LEN].to_string(),
        expires_at: row.expires_at,
        tenant,
    };
    // A failed cache write only costs the next request a D1 read.
    let _ = crate::kv::put(&kv, &cache_key, &principal, Some(KEY_CACHE_TTL_S)).await;
    MEMO.with(|m| m.borrow_mut().put(&digest, principal.clone()));
    Ok(principal)
}

/// Drops every cached resolution of the key whose hash is `digest` (revoked, rotated).
pub async fn forget_key(env: &Env, digest: &str) -> ApiResult<()> {
    MEMO.with(|m| m.borrow_mut().forget(digest));
    env.kv("KV")?.delete(&cache_key(digest)).await?;
    Ok(())
}

/// Drops every cached copy of tenant `id`'s configuration, its own and those inside the
/// resolutions of its keys: the next request reads D1.
pub async fn invalidate(env: &Env, id: &str) -> ApiResult<()> {
    tenant::forget(env, id).await?;
    MEMO.with(|m| m.borrow_mut().retain(|p| p.tenant.id != id));
    let kv = env.kv("KV")?;
    for hash in crate::db::keys::hashes(&crate::db::open(env)?, id).await? {
        kv.delete(&cache_key(&hash)).await?;
    }
    Ok(())
}

/// The caller must hold the tenant's secret key.
pub async fn require_secret(
    env: &Env,
    req: &Request,
    pairs: &[(String, String)],
) -> ApiResult<Principal> {
    let key = presented_key(req, pairs)?.ok_or(ApiError::Unauthorized(
        "Send your secret key as `Authorization: Bearer sk_…`.",
    ))?;
    let p = resolve(env, &key).await?;
    if p.kind != KeyKind::Secret {
        return Err(ApiError::Forbidden(
            "This route needs the secret key, not the publishable one.",
        ));
    }
    crate::limits::api_key(env, &p.key_id).await?;
    Ok(p)
}

/// The caller must hold a key of the tenant; a publishable key only counts from one of the
/// tenant's allowed origins. Returns the principal and the origin to echo for CORS.
pub async fn require_reader(
    env: &Env,
    req: &Request,
    pairs: &[(String, String)],
) -> ApiResult<(Principal, Option<String>)> {
    let key = presented_key(req, pairs)?.ok_or(ApiError::Unauthorized(
        "Send a key as `Authorization: Bearer …` or `key=`.",
    ))?;
    let p = resolve(env, &key).await?;
    let origin = page_origin(req);
    match p.kind {
        KeyKind::Publishable => {
            let allowed = origin
                .as_deref()
                .map(|o| p.tenant.allowed_origins.iter().any(|a| a == o))
                .unwrap_or(false);
            if !allowed {
                return Err(ApiError::Forbidden(
                    "This page's origin is not allowed for this key.",
                ));
            }
            crate::limits::publishable_key(env, &p.key_id, req).await?;
        }
        KeyKind::Secret => crate::limits::api_key(env, &p.key_id).await?,
    }
    Ok((p, origin))
}

/// The origin of the page that made a request: the `Origin` header, or else the origin of
/// the `Referer` (browsers omit `Origin` on same-origin GETs, such as a widget on the
/// worker's own demo page).
pub fn page_origin(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Ok(Some(o)) = headers.get("origin") {
        if o != "null" {
            return Some(o);
        }
    }
    let referer = headers.get("referer").ok().flatten()?;
    let scheme_end = referer.find("://")? + 3;
    let end = referer[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(referer.len());
    Some(referer[..end].to_string())
}

/// The admin token (worker secret `ADMIN_TOKEN`) must be presented. The client address is
/// rate limited first, so guessing stops at the limit.
pub async fn require_admin(env: &Env, req: &Request) -> ApiResult<()> {
    crate::limits::admin_client(env, req).await?;
    let expected = env
        .secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .map_err(|_| ApiError::Forbidden("Administration is disabled: ADMIN_TOKEN is not set."))?;
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or("");
    if expected.len() < 16 || !admin_token_matches(given, &expected) {
        return Err(ApiError::Unauthorized("The admin token is not valid."));
    }
    Ok(())
}

/// Compares the digests of the two tokens in constant time. Comparing the tokens themselves
/// would answer a wrong length at once (`ct_eq` on slices of different lengths), telling a
/// prober the token's length; digests always have 32 bytes.
fn admin_token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_compare_by_digest() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(admin_token_matches(token, token));
        // Shorter, longer, a prefix, one byte off: all simply false, through the same
        // 32-byte comparison.
        for other in [
            "",
            "0123456789abcdef",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdeF",
        ] {
            assert!(!admin_token_matches(other, token), "{other}");
        }
    }

    #[test]
    fn generated_keys_have_their_kind_prefix_lookup_and_hash() {
        let k = generate(KeyKind::Secret).unwrap();
        assert!(k.plaintext.starts_with("sk_"));
        assert_eq!(k.plaintext.len(), 3 + LOOKUP_LEN + SECRET_LEN);
        assert_eq!(&k.plaintext[3..3 + LOOKUP_LEN], k.lookup);
        assert_eq!(k.hash, hash(&k.plaintext));
        assert_eq!(KeyKind::parse("publishable"), Some(KeyKind::Publishable));
        assert_eq!(KeyKind::parse("root"), None);
    }
}
