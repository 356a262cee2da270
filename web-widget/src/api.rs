//! The one request the widget makes: `GET {endpoint}/v1/kpis?…&key=…`, a plain GET with no
//! custom headers (so no CORS preflight), through the page's own `fetch`. Owns the response
//! shapes and the mapping of failures to what the error state names; not the rendering.
use kpi_core::kpi::KpiReport;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// The period a response covers, as the API echoes it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct PeriodInfo {
    /// `day`, `week`, `month`, `quarter`, `year` or `range`.
    #[serde(default)]
    pub kind: String,
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// Last day, inclusive.
    #[serde(default)]
    pub to: String,
}

/// A `kpis[]` element: a report this build understands, or one it skips (a unit or shape added
/// to the API after this widget was built must not blank the other tiles).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Item {
    Known(Box<KpiReport>),
    Unknown(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    period: Option<PeriodInfo>,
    kpis: Vec<Item>,
}

/// The body of a successful `GET /v1/kpis`, or the `data` given to the offline `mount`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The period covered, when the source says.
    pub period: Option<PeriodInfo>,
    /// One report per KPI this build can show, in the order asked.
    pub kpis: Vec<KpiReport>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorInfo,
}

#[derive(Deserialize)]
struct ErrorInfo {
    #[serde(default)]
    message: String,
}

/// Why the KPIs could not be shown; each variant is a distinct message and a retry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadError {
    /// 401: the key is missing, mistyped or revoked. The administrator fixes the `key` attribute.
    BadKey(String),
    /// 403: the key is valid but this page's origin is not in the tenant's allowed origins.
    Forbidden(String),
    /// The request never got an answer: the device is offline or the service is unreachable.
    Offline,
    /// Any other status: the service failed or rejected the request (message from its body).
    Server(u16, String),
    /// The answer (or the offline `data`) is not the KPI shape.
    Invalid,
}

/// Parses a `GET /v1/kpis` body.
pub fn parse(json: &str) -> Result<Report, LoadError> {
    let wire: Wire = serde_json::from_str(json).map_err(|_| LoadError::Invalid)?;
    let kpis = wire
        .kpis
        .into_iter()
        .filter_map(|i| match i {
            Item::Known(r) => Some(*r),
            Item::Unknown(_) => None,
        })
        .collect();
    Ok(Report {
        period: wire.period,
        kpis,
    })
}

/// Percent-encodes one query value.
fn enc(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// The request URL for `endpoint` (absolute, no trailing slash needed).
pub fn kpis_url(
    endpoint: &str,
    key: &str,
    metrics: &str,
    period: &str,
    compare: &str,
    lang: &str,
) -> String {
    let mut u = String::from(endpoint.trim_end_matches('/'));
    u.push_str("/v1/kpis?metrics=");
    u.push_str(&enc(metrics));
    u.push_str("&period=");
    u.push_str(&enc(period));
    if !compare.is_empty() {
        u.push_str("&compare=");
        u.push_str(&enc(compare));
    }
    u.push_str("&lang=");
    u.push_str(&enc(lang));
    u.push_str("&key=");
    u.push_str(&enc(key));
    u
}

/// Fetches and parses the KPIs at `url`.
pub async fn fetch_kpis(url: &str) -> Result<Report, LoadError> {
    let window = web_sys::window().ok_or(LoadError::Offline)?;
    let resp: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or(LoadError::Offline)?;
    let body = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let status = resp.status();
    if resp.ok() {
        return parse(&body.ok_or(LoadError::Offline)?);
    }
    let message = body
        .and_then(|b| serde_json::from_str::<ErrorBody>(&b).ok())
        .map(|e| e.error.message)
        .unwrap_or_default();
    Err(match status {
        401 => LoadError::BadKey(message),
        403 => LoadError::Forbidden(message),
        s => LoadError::Server(s, message),
    })
}
