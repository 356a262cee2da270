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

/// What a survey link says about itself. Each field keeps a one-letter name on the wire, so
/// a link stays short enough for an SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Format version.
    #[serde(rename = "v")]
    pub version: u8,
    /// Tenant id.
    #[serde(rename = "t")]
    pub tenant: String,
    /// Survey kind: `nps`, `csat`, `ces`.
    #[serde(rename = "k")]
    pub survey: String,
    /// Scale (points).
    #[serde(rename = "s")]
    pub scale: u8,
    /// Link id, unique per tenant.
    #[serde(rename = "l")]
    pub link: String,
    /// Respondent id in clear: only in links signed before respondent references existed
    /// (read, never written; see `respondents::legacy`).
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub legacy_respondent: Option<String>,
    /// Opaque respondent reference (`respondents::reference`), never the CRM id itself.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub respondent: Option<String>,
    /// Ticket id.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Channel.
    #[serde(rename = "c")]
    pub channel: String,
    /// Language of the page: `vi` or `en`.
    #[serde(rename = "g")]
    pub lang: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
    /// The tenant's link generation when the link was minted: `POST /v1/survey-links/revoke`
    /// bumps the tenant's, which voids every link of an older one. Absent in older links: 0.
    #[serde(rename = "n", default, skip_serializing_if = "is_zero")]
    pub generation: u32,
    /// An open link (a QR code at the counter, a post): many answers, one per browser, at
    /// most this many. Absent on a link for one person.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub open: Option<u32>,
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
    let mut mac = tenant_mac(master, &claims.tenant)?;
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
    let claims: LinkClaims = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or(ApiError::BadToken)?;
    let mut mac = tenant_mac(master, &claims.tenant)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig).map_err(|_| ApiError::BadToken)?;
    if claims.version != 1 {
        return Err(ApiError::BadToken);
    }
    if claims.expires <= now_s {
        return Err(ApiError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            version: 1,
            tenant: "hoa-sen-spa".into(),
            survey: "nps".into(),
            scale: 10,
            link: "abc".into(),
            legacy_respondent: None,
            respondent: Some("Zm9vYmFyYmF6cXV4MTIzNA".into()),
            ticket: None,
            channel: "email".into(),
            lang: "vi".into(),
            expires: 2_000_000_000,
            generation: 3,
            open: None,
        }
    }

    #[test]
    fn the_wire_keeps_one_letter_names() {
        let json = serde_json::to_string(&claims()).unwrap();
        assert_eq!(
            json,
            r#"{"v":1,"t":"hoa-sen-spa","k":"nps","s":10,"l":"abc","p":"Zm9vYmFyYmF6cXV4MTIzNA","c":"email","g":"vi","e":2000000000,"n":3}"#
        );
    }

    #[test]
    fn an_open_link_says_so_with_its_cap() {
        let open = LinkClaims {
            open: Some(500),
            respondent: None,
            ..claims()
        };
        let json = serde_json::to_string(&open).unwrap();
        assert!(json.ends_with(r#""e":2000000000,"n":3,"o":500}"#), "{json}");
        let tok = sign(b"secret", &open).unwrap();
        assert_eq!(verify(b"secret", &tok, 1_000).unwrap().open, Some(500));
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
        assert_eq!(back.legacy_respondent.as_deref(), Some("C-1"));
        assert_eq!((back.respondent, back.generation), (None, 0));
    }

    #[test]
    fn forged_altered_and_cross_tenant_tokens_fail() {
        let tok = sign(b"secret", &claims()).unwrap();
        assert!(matches!(verify(b"other", &tok, 0), Err(ApiError::BadToken)));
        let mut other = claims();
        other.tenant = "evil".into();
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
