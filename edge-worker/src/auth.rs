//! API keys: generation, hashing, and resolving a request's key to a tenant.
//! Keys are `sk_`/`pk_` + 10 lookup characters + 32 secret characters (≥ 200 random bits),
//! shown once and stored only as SHA-256 hashes. A short-TTL KV entry caches the resolution;
//! D1 stays the source of truth.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasm_bindgen::JsValue;
use worker::{Env, Request};

use crate::error::{ApiError, ApiResult};
use crate::http::{hex, query, random_bytes};
use crate::tenants::{self, TenantConfig};

const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const LOOKUP_LEN: usize = 10;
const SECRET_LEN: usize = 32;
const KEY_CACHE_TTL_S: u64 = 60;

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

fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Who is calling: the tenant and the kind of key it used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    /// The key's kind.
    pub kind: KeyKind,
    /// The tenant's configuration.
    pub tenant: TenantConfig,
}

/// The key a request carries: `Authorization: Bearer …`, or `key=` in the query.
pub fn presented_key(req: &Request, pairs: &[(String, String)]) -> Option<String> {
    if let Ok(Some(h)) = req.headers().get("authorization") {
        let h = h.trim();
        if let Some(k) = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
        {
            return Some(k.trim().to_string());
        }
    }
    query(pairs, "key").map(str::to_string)
}

#[derive(Deserialize)]
struct KeyRow {
    tenant_id: String,
    kind: String,
    hash: String,
}

/// Resolves a key to its tenant: KV cache, then D1. Unknown or malformed → 401.
pub async fn resolve(env: &Env, key: &str) -> ApiResult<Principal> {
    let kind = if key.starts_with("sk_") {
        KeyKind::Secret
    } else if key.starts_with("pk_") {
        KeyKind::Publishable
    } else {
        return Err(ApiError::Unauthorized("The key is not valid."));
    };
    let body = &key[3..];
    if body.len() != LOOKUP_LEN + SECRET_LEN || !body.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(ApiError::Unauthorized("The key is not valid."));
    }
    let digest = hash(key);
    let kv = env.kv("KV")?;
    // The cached resolution holds the tenant's configuration: one KV read per request.
    // Settings and targets writes delete it (`tenants::invalidate`), so a change applies at once.
    let cache_key = format!("key:{digest}");
    if let Ok(Some(cached)) = kv.get(&cache_key).json::<Principal>().await {
        if cached.kind == kind {
            crate::limits::api_key(env, &body[..LOOKUP_LEN]).await?;
            return Ok(cached);
        }
    }
    let db = env.d1("DB")?;
    let row: Option<KeyRow> = db
        .prepare("SELECT tenant_id, kind, hash FROM api_keys WHERE lookup = ?1")
        .bind(&[JsValue::from_str(&body[..LOOKUP_LEN])])?
        .first(None)
        .await?;
    let row = row.ok_or(ApiError::Unauthorized("The key is not valid."))?;
    let same = row.hash.as_bytes().ct_eq(digest.as_bytes());
    if !bool::from(same) || row.kind != kind.as_str() {
        return Err(ApiError::Unauthorized("The key is not valid."));
    }
    let tenant = tenants::config(env, &row.tenant_id).await?;
    let principal = Principal { kind, tenant };
    if let Ok(put) = kv.put(
        &cache_key,
        serde_json::to_string(&principal).unwrap_or_default(),
    ) {
        // A failed cache write only costs the next request a D1 read.
        let _ = put.expiration_ttl(KEY_CACHE_TTL_S).execute().await;
    }
    crate::limits::api_key(env, &body[..LOOKUP_LEN]).await?;
    Ok(principal)
}

/// The caller must hold the tenant's secret key.
pub async fn require_secret(
    env: &Env,
    req: &Request,
    pairs: &[(String, String)],
) -> ApiResult<Principal> {
    let key = presented_key(req, pairs).ok_or(ApiError::Unauthorized(
        "Send your secret key as `Authorization: Bearer sk_…`.",
    ))?;
    let p = resolve(env, &key).await?;
    if p.kind != KeyKind::Secret {
        return Err(ApiError::Forbidden(
            "This route needs the secret key, not the publishable one.",
        ));
    }
    Ok(p)
}

/// The caller must hold a key of the tenant; a publishable key only counts from one of the
/// tenant's allowed origins. Returns the principal and the origin to echo for CORS.
pub async fn require_reader(
    env: &Env,
    req: &Request,
    pairs: &[(String, String)],
) -> ApiResult<(Principal, Option<String>)> {
    let key = presented_key(req, pairs).ok_or(ApiError::Unauthorized(
        "Send a key as `Authorization: Bearer …` or `key=`.",
    ))?;
    let p = resolve(env, &key).await?;
    let origin = page_origin(req);
    if p.kind == KeyKind::Publishable {
        let allowed = origin
            .as_deref()
            .map(|o| p.tenant.allowed_origins.iter().any(|a| a == o))
            .unwrap_or(false);
        if !allowed {
            return Err(ApiError::Forbidden(
                "This page's origin is not allowed for this key.",
            ));
        }
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

/// The admin token (worker secret `ADMIN_TOKEN`) must be presented.
pub fn require_admin(env: &Env, req: &Request) -> ApiResult<()> {
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
    if expected.len() < 16 || !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(ApiError::Unauthorized("The admin token is not valid."));
    }
    Ok(())
}
