//! Webhooks: a tenant's URL hears about detractors and bottom-box CSAT answers at once,
//! signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
//!
//! *Nothing lost, nothing delayed*: the message goes into `webhook_outbox` in the same D1
//! batch as the answer that raised it; delivery runs after the response is sent
//! (`wait_until`), and a cron trigger retries what failed with exponential backoff. A webhook
//! never fails or delays a submission. Delivery is at least once: receivers dedupe on the id.
use std::time::Duration;

use base64::Engine;
use futures_util::future::{select, Either};
use hmac::{Hmac, Mac};
use kpi_core::fact::Alert;
use kpi_core::period::format_rfc3339;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use wasm_bindgen::JsValue;
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::error::{ApiError, ApiResult};
use crate::http::{b64url, now_ms, random_bytes};
use crate::surveys::Answer;
use crate::tenants::{self, TenantConfig};

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

/// The signing secret of a tenant's webhook, `whsec_` + base64 of 32 bytes. Derived from
/// `LINK_SIGNING_SECRET`, the tenant and the generation, so D1 never holds it.
pub fn secret(master: &[u8], tenant: &str, generation: i64) -> ApiResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(master)
        .map_err(|_| ApiError::Internal("bad signing secret".into()))?;
    mac.update(format!("kpi-webhook-v1:{tenant}:{generation}").as_bytes());
    let key = mac.finalize().into_bytes();
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

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

/// Whether `url` may receive webhooks: https, or plain http when `WEBHOOK_ALLOW_HTTP = "on"`
/// (local runs, whose receivers listen on 127.0.0.1).
pub fn valid_url(env: &Env, url: &str) -> bool {
    let allow_http = env
        .var("WEBHOOK_ALLOW_HTTP")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false);
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://").filter(|_| allow_http));
    url.len() <= 500 && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
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

/// The message an answer raises, if it is an alert and the tenant has a webhook.
pub fn message(tenant: &TenantConfig, a: &Answer, alert: Alert) -> ApiResult<Option<Message>> {
    if tenant.webhook_url.is_none() {
        return Ok(None);
    }
    let id = format!("msg_{}", b64url(&random_bytes::<16>()?));
    let body = json!({
        "type": alert.name(),
        "timestamp": format_rfc3339(a.at_ms),
        "data": {
            "tenant": a.tenant,
            "link_id": a.link_id,
            "survey": a.kind.name(),
            "scale": a.kind.scale(),
            "score": a.score,
            "comment": a.comment,
            "respondent": a.respondent,
            "ticket": a.ticket,
            "channel": a.channel.as_str(),
            "lang": a.lang,
            "answered_at": format_rfc3339(a.at_ms),
        }
    });
    Ok(Some(Message {
        id,
        tenant: a.tenant.clone(),
        kind: alert.name().into(),
        body: body.to_string(),
    }))
}

/// The outbox row of a message, for the answer's batch. Leased for the quick attempts.
pub fn outbox_statement(
    db: &worker::D1Database,
    m: &Message,
) -> ApiResult<worker::D1PreparedStatement> {
    let now = now_ms() as f64;
    Ok(db
        .prepare(
            "INSERT INTO webhook_outbox (id, tenant_id, type, payload, created_at, next_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            m.id.as_str().into(),
            m.tenant.as_str().into(),
            m.kind.as_str().into(),
            m.body.as_str().into(),
            JsValue::from_f64(now),
            JsValue::from_f64(now + LEASE_MS),
        ])?)
}

/// What one attempt came to.
enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

async fn attempt(env: &Env, tenant: &TenantConfig, m: &Message) -> ApiResult<Outcome> {
    let Some(url) = tenant.webhook_url.as_deref() else {
        return Ok(Outcome::Failed(
            None,
            "the tenant removed its webhook".into(),
        ));
    };
    let secret = secret(
        &crate::surveys::signing_secret(env)?,
        &tenant.id,
        tenant.webhook_gen,
    )?;
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
    let req = Request::new_with_init(url, &init)?;
    let fetch = Fetch::Request(req);
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
        Either::Left((Err(e), _)) => Outcome::Failed(None, e.to_string()),
        Either::Right(_) => Outcome::Failed(None, "timed out".into()),
    };
    Ok(outcome)
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
    let db = env.d1("DB")?;
    let now = now_ms() as f64;
    let stmt = match outcome {
        Outcome::Delivered(status) => db
            .prepare(
                "UPDATE webhook_outbox SET attempts = ?2, last_status = ?3, last_error = NULL, \
                 delivered_at = ?4 WHERE id = ?1",
            )
            .bind(&[
                m.id.as_str().into(),
                JsValue::from_f64(attempts as f64),
                JsValue::from_f64(*status as f64),
                JsValue::from_f64(now),
            ])?,
        Outcome::Failed(status, error) => {
            let gave_up = attempts >= MAX_ATTEMPTS;
            db.prepare(
                "UPDATE webhook_outbox SET attempts = ?2, last_status = ?3, last_error = ?4, \
                 next_at = ?5, failed_at = ?6 WHERE id = ?1",
            )
            .bind(&[
                m.id.as_str().into(),
                JsValue::from_f64(attempts as f64),
                status.map_or(JsValue::NULL, |s| JsValue::from_f64(s as f64)),
                JsValue::from_str(error),
                JsValue::from_f64(now + backoff_ms(env, attempts)),
                if gave_up {
                    JsValue::from_f64(now)
                } else {
                    JsValue::NULL
                },
            ])?
        }
    };
    stmt.run().await?;
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
/// the cron. Runs after the response has gone out; errors only reach the log.
pub async fn deliver_now(env: Env, m: Message) {
    if let Err(e) = deliver_now_inner(&env, &m).await {
        crate::log::event("webhook_error", &[("id", &m.id), ("message", &e.parts().2)]);
    }
}

async fn deliver_now_inner(env: &Env, m: &Message) -> ApiResult<()> {
    let tenant = tenants::config(env, &m.tenant).await?;
    for n in 1..=QUICK_ATTEMPTS {
        let outcome = attempt(env, &tenant, m).await?;
        let done = matches!(outcome, Outcome::Delivered(_)) || n == QUICK_ATTEMPTS;
        if done {
            return record(env, m, n, &outcome).await;
        }
        Delay::from(Duration::from_millis(1000 * n as u64)).await;
    }
    Ok(())
}

#[derive(Deserialize)]
struct DueRow {
    id: String,
    tenant_id: String,
    #[serde(rename = "type")]
    kind: String,
    payload: String,
    attempts: f64,
}

/// The cron's work: claims the messages whose retry is due (a lease keeps two runs off the
/// same message) and makes one attempt each.
pub async fn retry_due(env: &Env) -> ApiResult<usize> {
    let db = env.d1("DB")?;
    let now = now_ms() as f64;
    let due: Vec<DueRow> = db
        .prepare(
            "UPDATE webhook_outbox SET next_at = ?1 WHERE id IN (SELECT id FROM webhook_outbox \
             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ?2 \
             ORDER BY next_at LIMIT ?3) RETURNING id, tenant_id, type, payload, attempts",
        )
        .bind(&[
            JsValue::from_f64(now + LEASE_MS),
            JsValue::from_f64(now),
            JsValue::from_f64(CRON_BATCH as f64),
        ])?
        .all()
        .await?
        .results()?;
    db.prepare("DELETE FROM webhook_outbox WHERE delivered_at < ?1 OR failed_at < ?1")
        .bind(&[JsValue::from_f64(now - KEEP_MS)])?
        .run()
        .await?;
    let count = due.len();
    for row in due {
        let m = Message {
            id: row.id,
            tenant: row.tenant_id,
            kind: row.kind,
            body: row.payload,
        };
        let attempts = row.attempts as i64 + 1;
        let outcome = match tenants::config(env, &m.tenant).await {
            Ok(tenant) => attempt(env, &tenant, &m).await?,
            Err(ApiError::NotFound(_)) => Outcome::Failed(None, "no such tenant".into()),
            Err(e) => return Err(e),
        };
        record(env, &m, attempts, &outcome).await?;
    }
    Ok(count)
}

/// Delivery counts for `GET /v1/settings`: pending, delivered and failed messages.
pub async fn stats(env: &Env, tenant: &str) -> ApiResult<serde_json::Value> {
    #[derive(Deserialize)]
    struct Counts {
        pending: Option<f64>,
        delivered: Option<f64>,
        failed: Option<f64>,
    }
    let c: Option<Counts> = env
        .d1("DB")?
        .prepare(
            "SELECT SUM(delivered_at IS NULL AND failed_at IS NULL) AS pending, \
             SUM(delivered_at IS NOT NULL) AS delivered, SUM(failed_at IS NOT NULL) AS failed \
             FROM webhook_outbox WHERE tenant_id = ?1",
        )
        .bind(&[JsValue::from_str(tenant)])?
        .first(None)
        .await?;
    let n = |v: Option<f64>| v.unwrap_or(0.0) as i64;
    Ok(match c {
        Some(c) => {
            json!({"pending": n(c.pending), "delivered": n(c.delivered), "failed": n(c.failed)})
        }
        None => json!({"pending": 0, "delivered": 0, "failed": 0}),
    })
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
    fn secrets_differ_by_tenant_and_generation() {
        let m = [7u8; 32];
        let a = secret(&m, "hoa-sen-spa", 0).unwrap();
        assert!(a.starts_with("whsec_") && a.len() == 6 + 44);
        assert_ne!(a, secret(&m, "hoa-sen-spa", 1).unwrap());
        assert_ne!(a, secret(&m, "mai-clinic", 0).unwrap());
    }
}
