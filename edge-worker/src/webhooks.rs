//! Webhooks: a tenant's URL hears about detractors and bottom-box CSAT answers at once,
//! signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
//!
//! *Nothing lost, nothing delayed*: the message goes into `webhook_outbox` in the same D1
//! batch as the answer that raised it; delivery runs after the response is sent
//! (`wait_until`), and a cron trigger retries what failed with exponential backoff. A webhook
//! never fails or delays a submission. Delivery is at least once: receivers dedupe on the id.
//!
//! *A URL cannot be turned against us*: it is parsed when set (https on 443; plain http and
//! loopback only with the local switch), IP literals in private, loopback or link-local
//! ranges and the worker's own host are refused, and it is checked again before each attempt.
//! Every failure of an attempt — a URL that no longer passes, a runtime error, a timeout, a
//! non-2xx — is a recorded failed attempt with a fixed reason; one message never stops the
//! others. Logs and stored errors never carry the URL or the runtime's error text.
use std::time::Duration;

use base64::Engine;
use futures_util::future::{select, Either};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use wasm_bindgen::JsValue;
use worker::url::Host;
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit, Url};

use crate::db::{self, outbox};
use crate::error::{ApiError, ApiResult};
use crate::http::{b64url, now_ms, random_bytes};
use crate::secrets;
use crate::tenant::{self, TenantConfig};

/// Attempts before a message is given up (the last one about 45 hours after the first).
pub const MAX_ATTEMPTS: i64 = 8;
/// Attempts made right after the answer, before the cron takes over.
const QUICK_ATTEMPTS: i64 = 3;
/// A receiver that has not answered in this time counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long an attempt in progress keeps the cron off its message.
const LEASE_MS: f64 = 120_000.0;
/// Messages one cron run delivers.
const CRON_BATCH: u32 = 25;
/// Delivered or abandoned messages are kept this long for the counts, then deleted.
const KEEP_MS: f64 = 30.0 * 86_400_000.0;

/// The `webhook-signature` value: `v1,` + base64 HMAC-SHA-256 of `id.timestamp.body` under
/// the secret's decoded bytes.
pub fn signature(secret: &str, id: &str, timestamp_s: i64, body: &str) -> ApiResult<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.trim_start_matches("whsec_"))
        .map_err(|_| ApiError::Internal("bad webhook secret".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| ApiError::Internal("bad webhook secret".into()))?;
    mac.update(format!("{id}.{timestamp_s}.{body}").as_bytes());
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// Whether plain http and loopback receivers are allowed (`WEBHOOK_ALLOW_HTTP = "on"`: local
/// runs, whose receivers listen on 127.0.0.1; never in production).
fn allow_local(env: &Env) -> bool {
    env.var("WEBHOOK_ALLOW_HTTP")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

/// A host and port a webhook must not point at: the worker's own.
pub type Origin = (String, u16);

/// The worker's own origins: `PUBLIC_URL` if set, and the URL a request came to.
pub fn own_origins(env: &Env, request_url: Option<&Url>) -> Vec<Origin> {
    let public = env
        .var("PUBLIC_URL")
        .ok()
        .and_then(|v| Url::parse(&v.to_string()).ok());
    public
        .iter()
        .chain(request_url)
        .filter_map(|u| {
            let host = u.host_str()?.trim_end_matches('.').to_ascii_lowercase();
            Some((host, u.port_or_known_default()?))
        })
        .collect()
}

/// Checks a webhook URL for the tenant's settings: its normalised form, or why not (a 422).
pub fn check_url(env: &Env, url: &str, own: &[Origin]) -> ApiResult<String> {
    vet(url, allow_local(env), own)
        .map_err(|why| ApiError::Invalid(format!("`webhook.url` {why}.")))
}

/// The rules, pure: `url` parsed as a browser would; https on the default port (plain http
/// on any port, and loopback hosts, only when `local`); no credentials; no IP literal in a
/// private, loopback, link-local or otherwise non-public range; not the worker itself.
/// Names that resolve to private addresses cannot be seen from here: Cloudflare's fetch does
/// not reach private networks.
pub fn vet(url: &str, local: bool, own: &[Origin]) -> Result<String, &'static str> {
    if url.len() > 500 {
        return Err("must have at most 500 characters");
    }
    let u = Url::parse(url).map_err(|_| {
        // The worker carries no Unicode tables (Cargo.toml pins `idna_adapter` to its stub),
        // so a domain in Vietnamese letters is refused rather than converted: its ASCII
        // (`xn--`) form, which the tenant's registrar shows, passes.
        if url.split('/').nth(2).is_some_and(|host| !host.is_ascii()) {
            "must write a non-ASCII domain in its xn-- (punycode) form"
        } else {
            "must be an absolute https:// URL"
        }
    })?;
    match u.scheme() {
        "https" if u.port().is_none() => {}
        "https" => return Err("must use the https port, 443"),
        "http" if local => {}
        _ => return Err("must be an https:// URL"),
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials");
    }
    let public = match u.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let localhost = d == "localhost" || d.ends_with(".localhost");
            !localhost || local
        }
        Some(Host::Ipv4(ip)) => public_v4(ip) || (local && ip.is_loopback()),
        Some(Host::Ipv6(ip)) => public_v6(ip) || (local && ip.is_loopback()),
        None => return Err("must name a host"),
    };
    if !public {
        return Err("must not point at a private, loopback or link-local address");
    }
    let host = u
        .host_str()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let port = u.port_or_known_default().unwrap_or(0);
    if own.iter().any(|(h, p)| *h == host && *p == port) {
        return Err("must not point at this service");
    }
    Ok(u.into())
}

/// An IPv4 address on the public internet: not private (RFC 1918), loopback, link-local,
/// shared (100.64/10), "this network" (0/8), documentation, benchmarking, multicast,
/// reserved or broadcast.
fn public_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// An IPv6 address on the public internet; addresses carrying an IPv4 one (mapped,
/// compatible, NAT64) are judged by it.
fn public_v6(ip: std::net::Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = std::net::Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
        return !ip.is_unspecified() && !ip.is_loopback() && public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

/// One alert on its way to the tenant's URL.
#[derive(Debug, Clone)]
pub struct Message {
    /// `msg_…`: the webhook-id.
    pub id: String,
    /// Tenant id.
    pub tenant: String,
    /// Event type.
    pub kind: String,
    /// The JSON body, exactly as signed.
    pub body: String,
}

impl Message {
    /// A new message of `kind` for `tenant`'s webhook, with a fresh id.
    pub fn new(tenant: &str, kind: &str, body: String) -> ApiResult<Message> {
        Ok(Message {
            id: format!("msg_{}", b64url(&random_bytes::<16>()?)),
            tenant: tenant.to_string(),
            kind: kind.to_string(),
            body,
        })
    }

    /// The outbox row of this message, for the batch of the write that raised it. Leased
    /// for the quick attempts. `while_status`: see [`outbox::insert`].
    pub fn outbox_statement(
        &self,
        db: &worker::D1Database,
        while_status: Option<(&str, &str)>,
    ) -> ApiResult<worker::D1PreparedStatement> {
        let now = now_ms() as f64;
        outbox::insert(
            db,
            &self.id,
            &self.tenant,
            &self.kind,
            &self.body,
            now,
            now + LEASE_MS,
            while_status,
        )
    }
}

/// What one attempt came to. A failure's reason is one of a few fixed texts: never the URL,
/// never the runtime's error message (which may quote it).
enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

fn failed(reason: &str) -> Outcome {
    Outcome::Failed(None, reason.to_string())
}

/// One attempt. Never an error: whatever goes wrong is the attempt's failure.
async fn attempt(env: &Env, tenant: &TenantConfig, m: &Message) -> Outcome {
    let Some(url) = tenant.webhook_url.as_deref() else {
        return failed("the tenant removed its webhook");
    };
    // Checked again: a URL stored before these rules, or the rules of another deployment.
    let Ok(url) = vet(url, allow_local(env), &own_origins(env, None)) else {
        return failed("the webhook URL is not allowed");
    };
    let request = match signed_request(env, tenant, m, &url) {
        Ok(r) => r,
        Err(_) => return failed("the request could not be built"),
    };
    let fetch = Fetch::Request(request);
    let send = Box::pin(fetch.send());
    let timeout = Box::pin(Delay::from(TIMEOUT));
    let outcome = match select(send, timeout).await {
        Either::Left((Ok(resp), _)) => {
            let status = resp.status_code();
            if (200..300).contains(&status) {
                Outcome::Delivered(status)
            } else {
                Outcome::Failed(Some(status), format!("HTTP {status}"))
            }
        }
        Either::Left((Err(_), _)) => failed("the receiver could not be reached"),
        Either::Right(_) => failed("timed out"),
    };
    outcome
}

/// The signed POST of message `m` to `url`.
fn signed_request(env: &Env, tenant: &TenantConfig, m: &Message, url: &str) -> ApiResult<Request> {
    let secret = secrets::webhook(env, &tenant.id, tenant.webhook_gen)?;
    let ts = now_ms() / 1000;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("user-agent", "kpi-edge-webhooks/1")?;
    headers.set("webhook-id", &m.id)?;
    headers.set("webhook-timestamp", &ts.to_string())?;
    headers.set(
        "webhook-signature",
        &signature(&secret, &m.id, ts, &m.body)?,
    )?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&m.body)));
    Ok(Request::new_with_init(url, &init)?)
}

/// Seconds before retry number `attempts` (after that many failures): 30 s × 4ⁿ⁻¹, with the
/// base from `WEBHOOK_RETRY_BASE_S` (tests shorten it).
fn backoff_ms(env: &Env, attempts: i64) -> f64 {
    let base: f64 = env
        .var("WEBHOOK_RETRY_BASE_S")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(30.0);
    base * 1000.0 * 4f64.powi((attempts - 1).clamp(0, 10) as i32)
}

async fn record(env: &Env, m: &Message, attempts: i64, outcome: &Outcome) -> ApiResult<()> {
    let db = db::open(env)?;
    let now = now_ms() as f64;
    match outcome {
        Outcome::Delivered(status) => outbox::delivered(&db, &m.id, attempts, *status, now).await?,
        Outcome::Failed(status, error) => {
            let gave_up = (attempts >= MAX_ATTEMPTS).then_some(now);
            let next = now + backoff_ms(env, attempts);
            outbox::failed(&db, &m.id, attempts, *status, error, next, gave_up).await?
        }
    }
    let (event, status) = match outcome {
        Outcome::Delivered(s) => ("webhook_delivered", s.to_string()),
        Outcome::Failed(s, _) => (
            if attempts >= MAX_ATTEMPTS {
                "webhook_gave_up"
            } else {
                "webhook_failed"
            },
            s.map(|s| s.to_string()).unwrap_or_default(),
        ),
    };
    crate::log::event(
        event,
        &[
            ("tenant", &m.tenant),
            ("id", &m.id),
            ("attempts", &attempts.to_string()),
            ("status", &status),
        ],
    );
    Ok(())
}

/// Delivers a fresh message: up to three attempts a second or two apart, then leaves it to
/// the cron. Runs after the response has gone out; errors (storage ones: an attempt's own
/// failures are recorded) only reach the log, by message id.
pub async fn deliver_now(env: Env, m: Message) {
    if let Err(e) = deliver_now_inner(&env, &m).await {
        crate::log::event("webhook_error", &[("id", &m.id), ("message", &e.detail())]);
    }
}

async fn deliver_now_inner(env: &Env, m: &Message) -> ApiResult<()> {
    let tenant = tenant::config(env, &m.tenant).await?;
    for n in 1..=QUICK_ATTEMPTS {
        let outcome = attempt(env, &tenant, m).await;
        let done = matches!(outcome, Outcome::Delivered(_)) || n == QUICK_ATTEMPTS;
        if done {
            return record(env, m, n, &outcome).await;
        }
        Delay::from(Duration::from_millis(1000 * n as u64)).await;
    }
    Ok(())
}

/// The cron's work: claims the messages whose retry is due (a lease keeps two runs off the
/// same message) and makes one attempt each. A message whose attempt or record fails is
/// logged and left to its lease; the others go on.
pub async fn retry_due(env: &Env) -> ApiResult<usize> {
    let db = db::open(env)?;
    let now = now_ms() as f64;
    let due = outbox::claim_due(&db, now, now + LEASE_MS, CRON_BATCH).await?;
    outbox::prune(&db, now - KEEP_MS).await?;
    let count = due.len();
    for row in due {
        let m = Message {
            id: row.id,
            tenant: row.tenant_id,
            kind: row.kind,
            body: row.payload,
        };
        let attempts = row.attempts as i64 + 1;
        let outcome = match tenant::config(env, &m.tenant).await {
            Ok(tenant) => attempt(env, &tenant, &m).await,
            Err(ApiError::NotFound(_)) => failed("no such tenant"),
            Err(_) => failed("the tenant's settings could not be read"),
        };
        if let Err(e) = record(env, &m, attempts, &outcome).await {
            crate::log::event("webhook_error", &[("id", &m.id), ("message", &e.detail())]);
        }
    }
    Ok(count)
}

/// Delivery counts for `GET /v1/settings`: pending, delivered and failed messages.
pub async fn stats(env: &Env, tenant: &str) -> ApiResult<serde_json::Value> {
    let c = outbox::counts(&db::open(env)?, tenant).await?;
    let n = |v: Option<f64>| v.unwrap_or(0.0) as i64;
    Ok(json!({"pending": n(c.pending), "delivered": n(c.delivered), "failed": n(c.failed)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn urls_are_vetted() {
        let own = [("kpi.example.com".to_string(), 443)];
        let ok = |u: &str, local: bool| vet(u, local, &own);
        assert_eq!(
            ok("https://Hooks.Example.com:443/a?b=1", false).as_deref(),
            Ok("https://hooks.example.com/a?b=1")
        );
        assert!(ok("https://93.184.215.14/h", false).is_ok());
        // Non-ASCII paths are percent-encoded; a non-ASCII domain is asked for in xn-- form.
        assert_eq!(
            ok("https://xn--thmm-w3a.vn/hồ-sơ", false).as_deref(),
            Ok("https://xn--thmm-w3a.vn/h%E1%BB%93-s%C6%A1")
        );
        assert_eq!(
            ok("https://thẩmmỹ.vn/h", false),
            Err("must write a non-ASCII domain in its xn-- (punycode) form")
        );
        assert!(ok("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/h", false).is_ok());
        for bad in [
            "http://hooks.example.com/h",
            "https://hooks.example.com:8443/h",
            "https://bad host/h",
            "hooks.example.com/h",
            "ftp://hooks.example.com/h",
            "https://u:p@hooks.example.com/h",
            "https://kpi.example.com/v1/responses",
            "https://KPI.example.com./x",
            "https://localhost/h",
            "https://127.0.0.1/h",
            "https://2130706433/h",
            "https://0x7f.1/h",
            "https://10.1.2.3/h",
            "https://172.31.255.1/h",
            "https://192.168.0.1/h",
            "https://169.254.169.254/latest",
            "https://100.100.0.1/h",
            "https://0.0.0.0/h",
            "https://198.18.0.1/h",
            "https://255.255.255.255/h",
            "https://224.0.0.1/h",
            "https://[::1]/h",
            "https://[::]/h",
            "https://[fc00::1]/h",
            "https://[fd12:3456::1]/h",
            "https://[fe80::1]/h",
            "https://[::ffff:192.168.1.1]/h",
            "https://[::ffff:7f00:1]/h",
            "https://[64:ff9b::a00:1]/h",
            "https://[ff02::1]/h",
        ] {
            assert!(ok(bad, false).is_err(), "{bad} passed");
        }
        // Locally (WEBHOOK_ALLOW_HTTP): plain http and loopback receivers, nothing private.
        assert!(ok("http://127.0.0.1:9000/h", true).is_ok());
        assert!(ok("http://localhost:9000/h", true).is_ok());
        assert!(ok("https://[::1]/h", true).is_ok());
        assert!(ok("https://10.1.2.3/h", true).is_err());
        assert!(ok("http://[fe80::1]:80/h", true).is_err());
        let local_own = [("127.0.0.1".to_string(), 8787)];
        assert!(vet("http://127.0.0.1:8787/v1/responses", true, &local_own).is_err());
        assert!(vet("http://127.0.0.1:8788/hook", true, &local_own).is_ok());
        assert!(ok(&format!("https://h.example.com/{}", "a".repeat(500)), false).is_err());
    }

    #[test]
    fn secrets_differ_by_tenant_and_generation() {
        let m = [7u8; 32];
        let secret = crate::secrets::webhook_secret;
        let a = secret(&m, "hoa-sen-spa", 0).unwrap();
        assert!(a.starts_with("whsec_") && a.len() == 6 + 44);
        assert_ne!(a, secret(&m, "hoa-sen-spa", 1).unwrap());
        assert_ne!(a, secret(&m, "mai-clinic", 0).unwrap());
    }
}
