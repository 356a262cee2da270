//! Where the KPIs come from: `GET {endpoint}/v1/kpis?…&key=…`, a plain GET with no custom
//! headers (so no CORS preflight), through the page's own `fetch` — or, offline, the page's
//! `source` function (the offline module computing the same JSON from inline rollups). Owns
//! the response shapes and the mapping of failures to what the error state names; not the
//! rendering.
//!
//! The browser parses the JSON (`JSON.parse`) and the fields are read from the resulting
//! object with `Reflect`: serde and serde_json would be about half of the widget's wasm.
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use kpi_core::kpi::{Direction, Status, Unit};
use kpi_core::Currency;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// The period a response covers, as the API echoes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeriodInfo {
    /// `day`, `week`, `month`, `quarter`, `year` or `range`.
    pub kind: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
}

/// One segment of a KPI (`segments` of the API: a channel, an agent…).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The segment's value as the CRM sent it (a channel id, an agent's name): text only.
    pub name: String,
    /// The value; `None` without data.
    pub value: Option<f64>,
    /// Sample size.
    pub n: Option<u64>,
    /// Durations: 90th percentile in seconds.
    pub p90: Option<f64>,
}

/// What a tile shows of a `kpis[]` element (kpi-core's `KpiReport`, minus what no tile reads:
/// previous, mean, margin, share, the series' dates and sizes).
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    /// Catalog id.
    pub id: String,
    /// Label in the requested language (may be empty).
    pub label: String,
    /// Unit of `value`.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// The value; `None` without data.
    pub value: Option<f64>,
    /// Sample size.
    pub n: Option<u64>,
    /// 95 % interval.
    pub interval: Option<[f64; 2]>,
    /// `n` below the minimum sample.
    pub insufficient_sample: bool,
    /// Named parts of the value: NPS promoters / passives / detractors, the deals reaching
    /// each pipeline stage.
    pub parts: Vec<(String, u64)>,
    /// The target in force over this period: (minimum, goal).
    pub target: Option<(f64, f64)>,
    /// Per-segment measures, when a segment was asked for.
    pub segments: Vec<Segment>,
    /// Durations: 90th percentile in seconds.
    pub p90: Option<f64>,
    /// Money: the currency of `value`.
    pub currency: Option<Currency>,
    /// Status against the target.
    pub status: Option<Status>,
    /// value − previous.
    pub delta: Option<f64>,
    /// Whether that change is distinguishable from noise at 95 % (`None`: not tested).
    pub significant: Option<bool>,
    /// The series' values, in order; `None` where a sub-period has no value.
    pub series: Vec<Option<f64>>,
    /// The days the value is computed over when they are not the period's: (first, last).
    pub window: Option<(String, String)>,
}

/// The body of a successful `GET /v1/kpis`, or the `data` given to the offline `mount`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The period covered, when the source says.
    pub period: Option<PeriodInfo>,
    /// One report per KPI this build can show, in the order asked.
    pub kpis: Vec<Kpi>,
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

/// `o[k]`, or `undefined` when `o` is not an object.
pub(crate) fn get(o: &JsValue, k: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

fn text(o: &JsValue, k: &str) -> Option<String> {
    get(o, k).as_string()
}

fn num(o: &JsValue, k: &str) -> Option<f64> {
    get(o, k).as_f64()
}

/// A JSON number that is a whole, non-negative count.
fn count(o: &JsValue, k: &str) -> Option<u64> {
    num(o, k)
        .filter(|v| *v >= 0.0 && *v <= 9.0e15 && v.fract() == 0.0)
        .map(|v| v as u64)
}

/// `[key, value]` pairs of an object, none for anything else.
fn entries(o: &JsValue) -> Vec<Array> {
    let mut out = Vec::new();
    if o.is_object() {
        for e in Object::entries(o.unchecked_ref()).iter() {
            out.push(e.unchecked_into());
        }
    }
    out
}

fn array(v: &JsValue) -> Option<Array> {
    Array::is_array(v).then(|| v.clone().unchecked_into())
}

fn unit(s: &str) -> Option<Unit> {
    Some(match s {
        "percent" => Unit::Percent,
        "score" => Unit::Score,
        "duration" => Unit::Duration,
        "money" => Unit::Money,
        "count" => Unit::Count,
        "ratio" => Unit::Ratio,
        _ => return None,
    })
}

fn direction(s: &str) -> Option<Direction> {
    Some(match s {
        "up" => Direction::Up,
        "down" => Direction::Down,
        "none" => Direction::None,
        _ => return None,
    })
}

fn status(s: &str) -> Option<Status> {
    Some(match s {
        "on_track" => Status::OnTrack,
        "at_risk" => Status::AtRisk,
        "off_track" => Status::OffTrack,
        _ => return None,
    })
}

/// One `kpis[]` element, or `None` for one this build does not understand (a unit or shape
/// added to the API after this widget was built must not blank the other tiles).
fn kpi(o: &JsValue) -> Option<Kpi> {
    let id = text(o, "id")?;
    let unit = unit(&text(o, "unit")?)?;
    let direction = direction(&text(o, "direction")?)?;
    let status = match text(o, "status") {
        Some(s) => Some(status(&s)?),
        None => None,
    };
    let interval = array(&get(o, "interval")).and_then(|a| {
        let (lo, hi) = (a.get(0).as_f64()?, a.get(1).as_f64()?);
        (a.length() == 2).then_some([lo, hi])
    });
    let b = get(o, "breakdown");
    let mut parts = Vec::new();
    for e in entries(&b) {
        if let (Some(k), Some(v)) = (e.get(0).as_string(), e.get(1).as_f64()) {
            parts.push((k, v.max(0.0) as u64));
        }
    }
    // The target mapped to this period (a monthly churn target over a quarter) when the
    // report has one: what its status judges against.
    let applied = get(o, "target_applied");
    let t = if applied.is_object() {
        applied
    } else {
        get(o, "target")
    };
    let target = num(&t, "min").zip(num(&t, "goal"));
    let sg = get(o, "segments");
    let mut segments = Vec::new();
    for e in entries(&sg) {
        let m = e.get(1);
        if let Some(name) = e.get(0).as_string() {
            segments.push(Segment {
                name,
                value: num(&m, "value"),
                n: count(&m, "n"),
                p90: num(&m, "p90"),
            });
        }
    }
    let series = array(&get(o, "series"))
        .map(|a| a.iter().map(|p| num(&p, "value")).collect())
        .unwrap_or_default();
    Some(Kpi {
        id,
        label: text(o, "label").unwrap_or_default(),
        unit,
        direction,
        value: num(o, "value"),
        n: count(o, "n"),
        interval,
        insufficient_sample: get(o, "insufficient_sample").as_bool().unwrap_or(false),
        parts,
        target,
        segments,
        p90: num(o, "p90"),
        currency: text(o, "currency").and_then(|c| Currency::parse(&c).ok()),
        status,
        delta: num(o, "delta"),
        significant: get(o, "change_significant").as_bool(),
        series,
        window: {
            let w = get(o, "window");
            text(&w, "from").zip(text(&w, "to"))
        },
    })
}

/// Reads a parsed `GET /v1/kpis` body (or the offline `data` object).
pub fn from_js(v: &JsValue) -> Result<Report, LoadError> {
    let kpis = array(&get(v, "kpis")).ok_or(LoadError::Invalid)?;
    let p = get(v, "period");
    let period = p.is_object().then(|| PeriodInfo {
        kind: text(&p, "kind").unwrap_or_default(),
        from: text(&p, "from").unwrap_or_default(),
        to: text(&p, "to").unwrap_or_default(),
    });
    Ok(Report {
        period,
        kpis: kpis.iter().filter_map(|k| kpi(&k)).collect(),
    })
}

/// Parses a `GET /v1/kpis` body given as JSON text.
pub fn parse(json: &str) -> Result<Report, LoadError> {
    from_js(&JSON::parse(json).map_err(|_| LoadError::Invalid)?)
}

/// Percent-encodes one query value.
fn enc(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// One request's parameters, as `GET /v1/kpis` names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Query<'a> {
    /// Comma-separated KPI ids.
    pub metrics: &'a str,
    /// Period kind.
    pub period: &'a str,
    /// `previous` or `none`.
    pub compare: &'a str,
    /// `vi` or `en`.
    pub lang: &'a str,
    /// Segment dimension, or empty.
    pub segment: &'a str,
}

/// The request URL for `endpoint` (absolute, no trailing slash needed).
pub fn kpis_url(endpoint: &str, key: &str, q: &Query) -> String {
    let mut u = String::from(endpoint.trim_end_matches('/'));
    for (i, (k, v)) in [
        ("metrics", q.metrics),
        ("period", q.period),
        ("compare", q.compare),
        ("lang", q.lang),
        ("segment", q.segment),
        ("key", key),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .enumerate()
    {
        u.push_str(if i == 0 { "/v1/kpis?" } else { "&" });
        u.push_str(k);
        u.push('=');
        u.push_str(&enc(v));
    }
    u
}

/// Starts one request: `fetch(url)` online, or `source(query)` offline (a function the
/// loader passes, resolving to the same JSON as text). Both start at once, so several
/// requests of one load run in parallel.
pub fn start(source: Option<&Function>, endpoint: &str, key: &str, q: &Query) -> Promise {
    match source {
        Some(f) => {
            let o = Object::new();
            for (k, v) in [
                ("metrics", q.metrics),
                ("period", q.period),
                ("compare", q.compare),
                ("lang", q.lang),
                ("segment", q.segment),
            ] {
                let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
            }
            // A throwing source is an invalid-data error, not an exception through the view.
            match f.call1(&JsValue::NULL, &o) {
                Ok(p) => Promise::resolve(&p),
                Err(e) => Promise::reject(&e),
            }
        }
        None => match web_sys::window() {
            Some(w) => w.fetch_with_str(&kpis_url(endpoint, key, q)),
            None => Promise::reject(&JsValue::NULL),
        },
    }
}

/// Waits for a request started by [`start`] and reads its answer.
pub async fn finish(p: Promise, offline: bool) -> Result<Report, LoadError> {
    let answer = JsFuture::from(p).await;
    if offline {
        // The offline module answers JSON text, or throws on data it cannot read.
        return match answer.ok().and_then(|t| t.as_string()) {
            Some(t) => parse(&t),
            None => Err(LoadError::Invalid),
        };
    }
    let resp: Response = answer
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
        .and_then(|b| JSON::parse(&b).ok())
        .and_then(|e| text(&get(&e, "error"), "message"))
        .unwrap_or_default();
    Err(match status {
        401 => LoadError::BadKey(message),
        403 => LoadError::Forbidden(message),
        s => LoadError::Server(s, message),
    })
}
