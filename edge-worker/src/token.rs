//! Signed survey links: the token carries everything a submission needs (tenant, survey kind
//! and scale, link id, respondent reference, ticket, channel, language, expiry, the tenant's
//! link generation) and is verified with HMAC-SHA-256 alone — no database read. Each
//! tenant's signing key is derived from the worker secret `LINK_SIGNING_SECRET`, so keys
//! never sit in D1.
//!
//! The payload is signed, not encrypted: whoever holds a link can read it. So it never
//! carries the CRM's respondent id, only the opaque reference `respondents` derives from it.
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{ApiError, ApiResult};
use crate::http::{b64url, b64url_decode};

type HmacSha256 = Hmac<Sha256>;

/// What a survey link says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Format version.
    pub v: u8,
    /// Tenant id.
    pub t: String,
    /// Survey kind: `nps`, `csat`, `ces`.
    pub k: String,
    /// Scale (points).
    pub s: u8,
    /// Link id, unique per tenant.
    pub l: String,
    /// Respondent id in clear: only in links signed before respondent references existed
    /// (read, never written; see `respondents::legacy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<String>,
    /// Opaque respondent reference (`respondents::reference`), never the CRM id itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// Ticket id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Channel.
    pub c: String,
    /// Language of the page: `vi` or `en`.
    pub g: String,
    /// Expiry, Unix seconds.
    pub e: i64,
    /// The tenant's link generation when the link was minted: `POST /v1/survey-links/revoke`
    /// bumps the tenant's, which voids every link of an older one. Absent in older links: 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

thread_local! {
    /// Each tenant's keyed MAC state, for the master it was derived from: a link's check
    /// then hashes only its payload. Bounded: a full table starts afresh.
    static MACS: std::cell::RefCell<Vec<(Vec<u8>, String, HmacSha256)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A MAC keyed with `tenant`'s link key.
fn tenant_mac(master: &[u8], tenant: &str) -> ApiResult<HmacSha256> {
    if let Some(m) = MACS.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, t, _)| k == master && t == tenant)
            .map(|(_, _, m)| m.clone())
    }) {
        return Ok(m);
    }
    let key = crate::secrets::link_key(master, tenant)?;
    let mac = HmacSha256::new_from_slice(&key).map_err(|_| ApiError::Internal("key".into()))?;
    MACS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.push((master.to_vec(), tenant.to_string(), mac.clone()));
    });
    Ok(mac)
}

/// Signs claims into `payload.mac`, both URL-safe base64.
pub fn sign(master: &[u8], claims: &LinkClaims) -> ApiResult<String> {
    let payload = serde_json::to_vec(claims).map_err(|e| ApiError::Internal(e.to_string()))?;
    let payload = b64url(&payload);
    let mut mac = tenant_mac(master, &claims.t)?;
    mac.update(payload.as_bytes());
    Ok(format!(
        "{payload}.{}",
        b64url(&mac.finalize().into_bytes())
    ))
}

/// Verifies a token's signature (constant time) and expiry at `now_s`.
/// Forged or altered → [`ApiError::BadToken`]; valid but expired → [`ApiError::Expired`].
pub fn verify(master: &[u8], token: &str, now_s: i64) -> ApiResult<LinkClaims> {
    if token.len() > 2048 {
        return Err(ApiError::BadToken);
    }
    let (payload, sig) = token.split_once('.').ok_or(ApiError::BadToken)?;
    let bytes = b64url_decode(payload).ok_or(ApiError::BadToken)?;
    let sig = b64url_decode(sig).ok_or(ApiError::BadToken)?;
    // The tenant named inside picks the key; a payload naming another tenant fails the MAC.
    let claims: LinkClaims = serde_json::from_slice(&bytes).map_err(|_| ApiError::BadToken)?;
    let mut mac = tenant_mac(master, &claims.t)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig).map_err(|_| ApiError::BadToken)?;
    if claims.v != 1 {
        return Err(ApiError::BadToken);
    }
    if claims.e <= now_s {
        return Err(ApiError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            v: 1,
            t: "hoa-sen-spa".into(),
            k: "nps".into(),
            s: 10,
            l: "abc".into(),
            r: None,
            p: Some("Zm9vYmFyYmF6cXV4MTIzNA".into()),
            x: None,
            c: "email".into(),
            g: "vi".into(),
            e: 2_000_000_000,
            n: 3,
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let tok = sign(b"secret", &claims()).unwrap();
        assert_eq!(verify(b"secret", &tok, 1_000).unwrap(), claims());
        assert!(matches!(
            verify(b"secret", &tok, 2_000_000_000),
            Err(ApiError::Expired)
        ));
    }

    #[test]
    fn links_signed_before_references_and_generations_still_verify() {
        // A payload as the previous version wrote it: respondent in clear, no generation.
        let old: LinkClaims = serde_json::from_str(
            r#"{"v":1,"t":"hoa-sen-spa","k":"nps","s":10,"l":"abc","r":"C-1","c":"email","g":"vi","e":2000000000}"#,
        )
        .unwrap();
        let tok = sign(b"secret", &old).unwrap();
        let back = verify(b"secret", &tok, 1_000).unwrap();
        assert_eq!(back.r.as_deref(), Some("C-1"));
        assert_eq!((back.p, back.n), (None, 0));
    }

    #[test]
    fn forged_altered_and_cross_tenant_tokens_fail() {
        let tok = sign(b"secret", &claims()).unwrap();
        assert!(matches!(verify(b"other", &tok, 0), Err(ApiError::BadToken)));
        let mut other = claims();
        other.t = "evil".into();
        let (_, sig) = tok.split_once('.').unwrap();
        let forged = format!("{}.{sig}", b64url(&serde_json::to_vec(&other).unwrap()));
        assert!(matches!(
            verify(b"secret", &forged, 0),
            Err(ApiError::BadToken)
        ));
        assert!(matches!(
            verify(b"secret", "garbage", 0),
            Err(ApiError::BadToken)
        ));
        assert!(matches!(
            verify(b"secret", "a.b.c", 0),
            Err(ApiError::BadToken)
        ));
    }
}
