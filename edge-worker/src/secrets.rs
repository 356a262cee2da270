//! Every secret the worker derives, in one place. Three worker secrets are masters:
//! `LINK_SIGNING_SECRET` (survey links and respondent references), `WEBHOOK_SIGNING_SECRET`
//! (each tenant's webhook secret) and `ADMIN_TOKEN` (`auth`). Everything else is an HMAC of
//! a master under a label, so D1 and KV never hold a secret, and each label keeps its
//! derivations apart: knowing one says nothing of another.
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use worker::Env;

use crate::error::{ApiError, ApiResult};
use crate::http::b64url;

type HmacSha256 = Hmac<Sha256>;

/// A worker secret used as an HMAC master: at least 32 characters, else a 500 (the deployment
/// is misconfigured; the log names the secret, the response does not).
fn master(env: &Env, name: &'static str) -> ApiResult<Vec<u8>> {
    thread_local! {
        /// Secrets read once per isolate: a changed secret is a new deployment.
        static SECRETS: std::cell::RefCell<Vec<(&'static str, Vec<u8>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    if let Some(v) = SECRETS.with(|m| {
        m.borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }) {
        return Ok(v);
    }
    let s = env
        .secret(name)
        .map_err(|_| ApiError::Internal(format!("{name} is not set")))?
        .to_string();
    if s.len() < 32 {
        return Err(ApiError::Internal(format!(
            "{name} must have at least 32 characters"
        )));
    }
    let v = s.into_bytes();
    SECRETS.with(|m| m.borrow_mut().push((name, v.clone())));
    Ok(v)
}

/// The link-signing master, `LINK_SIGNING_SECRET`.
pub fn link_master(env: &Env) -> ApiResult<Vec<u8>> {
    master(env, "LINK_SIGNING_SECRET")
}

/// The per-tenant HMAC key: HMAC(master, "kpi-link-v1:" + tenant).
pub fn link_key(master: &[u8], tenant: &str) -> ApiResult<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(master)
        .map_err(|_| ApiError::Internal("bad signing secret".into()))?;
    mac.update(b"kpi-link-v1:");
    mac.update(tenant.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

/// The webhook master secret, `WEBHOOK_SIGNING_SECRET` (at least 32 characters): its own, so
/// rotating the link-signing secret leaves every receiver's secret alone, and a tenant's
/// webhook secret (which the tenant sees) says nothing about how links are signed.
pub fn webhook_master(env: &Env) -> ApiResult<Vec<u8>> {
    master(env, "WEBHOOK_SIGNING_SECRET")
}

/// The signing secret of a tenant's webhook, `whsec_` + base64 of 32 bytes. Derived from
/// the webhook master ([`webhook_master`]), the tenant and the generation, so D1 never holds it.
pub fn webhook_secret(master: &[u8], tenant: &str, generation: i64) -> ApiResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(master)
        .map_err(|_| ApiError::Internal("bad signing secret".into()))?;
    mac.update(format!("kpi-webhook-v1:{tenant}:{generation}").as_bytes());
    let key = mac.finalize().into_bytes();
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

/// The secret of tenant `tenant`'s webhook at generation `generation`, from the worker's
/// secrets.
pub fn webhook(env: &Env, tenant: &str, generation: i64) -> ApiResult<String> {
    webhook_secret(&webhook_master(env)?, tenant, generation)
}

/// HMAC-SHA-256 of `parts` (joined by NUL) under the key `HMAC(master, label ‖ tenant)`.
fn keyed(master: &[u8], label: &str, tenant: &str, parts: &[&[u8]]) -> ApiResult<[u8; 32]> {
    let mut k = HmacSha256::new_from_slice(master)
        .map_err(|_| ApiError::Internal("bad signing secret".into()))?;
    k.update(label.as_bytes());
    k.update(tenant.as_bytes());
    let key = k.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(&key)
        .map_err(|_| ApiError::Internal("bad respondent key".into()))?;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(&[0]);
        }
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The reference of respondent `id` of `tenant` after `erasures` erasures: 128 bits,
/// base64url. Deterministic, so every link minted for one person between two erasures
/// carries the same reference (one mapping row, however many links).
pub fn reference_of(master: &[u8], tenant: &str, id: &str, erasures: i64) -> ApiResult<String> {
    let n = erasures.to_string();
    let mac = keyed(
        master,
        "kpi-respondent-v1:",
        tenant,
        &[id.as_bytes(), n.as_bytes()],
    )?;
    Ok(b64url(&mac[..16]))
}

/// The keyed hash an erased respondent is remembered by: no id, and no way to test a guess
/// without the worker's secret.
pub fn erased_hash(master: &[u8], tenant: &str, id: &str) -> ApiResult<String> {
    Ok(b64url(&keyed(
        master,
        "kpi-erased-v1:",
        tenant,
        &[id.as_bytes()],
    )?))
}

/// The key an order remembers its customer by: 128 bits, base64url, keyed per tenant, so
/// the CRM's customer id never reaches D1 and a guess cannot be tested without the worker's
/// secret. The same customer always has the same key, which finds their previous orders.
pub fn customer_key(master: &[u8], tenant: &str, customer: &str) -> ApiResult<String> {
    let mac = keyed(master, "kpi-customer-v1:", tenant, &[customer.as_bytes()])?;
    Ok(b64url(&mac[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"test-master-link-signing-secret-0123456789";

    #[test]
    fn references_are_opaque_stable_and_change_with_each_erasure() {
        let a = reference_of(MASTER, "spa", "C-1042", 0).unwrap();
        assert_eq!(a, reference_of(MASTER, "spa", "C-1042", 0).unwrap());
        assert_eq!(a.len(), 22);
        assert!(!a.contains("1042"));
        assert_ne!(a, reference_of(MASTER, "spa", "C-1042", 1).unwrap());
        assert_ne!(a, reference_of(MASTER, "clinic", "C-1042", 0).unwrap());
        assert_ne!(a, reference_of(MASTER, "spa", "C-1043", 0).unwrap());
        // An id ending in a digit cannot pose as another id's later erasure count.
        assert_ne!(
            reference_of(MASTER, "spa", "C-1", 10).unwrap(),
            reference_of(MASTER, "spa", "C-11", 0).unwrap()
        );
    }

    #[test]
    fn erased_hashes_are_keyed_and_unlike_references() {
        let h = erased_hash(MASTER, "spa", "C-1042").unwrap();
        assert_ne!(
            h,
            erased_hash(b"another-master-secret-0123456789abcdef", "spa", "C-1042").unwrap()
        );
        assert_ne!(h, erased_hash(MASTER, "clinic", "C-1042").unwrap());
        assert_ne!(h[..22], reference_of(MASTER, "spa", "C-1042", 0).unwrap());
    }
}
