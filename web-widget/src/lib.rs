//! `web-widget`: the embeddable `<kpi-widget>` dashboard, leptos CSR compiled to wasm.
//!
//! The custom element itself lives in `loader/kpi-widget.js` (a tiny ES module: shadow root,
//! stylesheet, lazy loading); it calls [`mount_widget`] with a container inside the open shadow
//! root and the element's attributes. This crate fetches `GET /v1/kpis` (or, offline, asks
//! the loader's `source`, the offline module) and renders the tiles.
//!
//! *Architecture invariant*: no KPI arithmetic and no status decision here; values, statuses
//! and deltas come from kpi-core (through the API, or the offline `data`).
use std::any::Any;

use js_sys::Function;
use kpi_core::kpi::Lang;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

mod api;
mod fmt;
mod text;
mod tiles;
mod view;

/// A widget's configuration: the element's attributes, as the loader passes them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Absolute origin of the KPI API (the loader resolves `""` to its own origin).
    pub endpoint: String,
    /// Publishable key, sent as `key=`.
    pub key: String,
    /// Comma-separated KPI ids.
    pub metrics: String,
    /// Initial period kind.
    pub period: String,
    /// `previous` or `none`.
    pub compare: String,
    /// Labels and number formats.
    pub lang: Lang,
    /// Seconds between background refreshes; 0 for none.
    pub refresh: u32,
    /// Segment every tile by this dimension (`agent`: leaderboards), or empty.
    pub segment: String,
    /// Offline: the function answering a query with `/v1/kpis` JSON text, instead of fetch.
    pub source: Option<Function>,
}

/// KPIs whose tile shows a per-channel table when no `segment` is set: they are asked for
/// in a second request with `segment=channel` (the API segments a whole request).
const BY_CHANNEL: [&str; 2] = ["first_response_time", "resolution_time"];

/// Refreshing faster than this only loads the service.
const MIN_REFRESH_SECONDS: u32 = 15;

impl Config {
    /// Reads the config object; missing, empty or mistyped fields take their defaults.
    pub fn from_js(obj: &JsValue) -> Config {
        let get = |k: &str| {
            js_sys::Reflect::get(obj, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_string())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let refresh = get("refresh")
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(0);
        Config {
            endpoint: get("endpoint").unwrap_or_default(),
            key: get("key").unwrap_or_default(),
            metrics: get("metrics").unwrap_or_else(|| "nps".into()),
            period: get("period").unwrap_or_else(|| "month".into()),
            compare: get("compare").unwrap_or_else(|| "previous".into()),
            lang: get("lang")
                .and_then(|l| Lang::parse(&l))
                .unwrap_or_default(),
            refresh: if refresh == 0 {
                0
            } else {
                refresh.max(MIN_REFRESH_SECONDS)
            },
            segment: get("segment").unwrap_or_default(),
            source: api::get(obj, "source").dyn_into().ok(),
        }
    }

    fn lang_str(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The requests one load makes: (metrics, segment) pairs.
    pub fn groups(&self) -> Vec<(String, &str)> {
        if !self.segment.is_empty() {
            return vec![(self.metrics.clone(), self.segment.as_str())];
        }
        // Plain loops: iterator adapters (partition, join) cost more wasm than they save.
        let mut plain = String::new();
        let mut by_channel = String::new();
        for id in self.metrics.split(',') {
            let id = id.trim();
            let to = if BY_CHANNEL.contains(&id) {
                &mut by_channel
            } else {
                &mut plain
            };
            if !id.is_empty() {
                if !to.is_empty() {
                    to.push(',');
                }
                to.push_str(id);
            }
        }
        let mut out = Vec::new();
        for (ids, seg) in [(plain, ""), (by_channel, "channel")] {
            if !ids.is_empty() {
                out.push((ids, seg));
            }
        }
        out
    }

    /// Loads the KPIs of `period`: every group's request in parallel, the tiles in the order
    /// of `metrics`.
    pub async fn load(&self, period: &str) -> Result<api::Report, api::LoadError> {
        let mut started = Vec::new();
        for (metrics, segment) in self.groups() {
            let q = api::Query {
                metrics: &metrics,
                period,
                compare: &self.compare,
                lang: self.lang_str(),
                segment,
            };
            started.push(api::start(
                self.source.as_ref(),
                &self.endpoint,
                &self.key,
                &q,
            ));
        }
        let mut report = api::Report::default();
        let mut got = Vec::new();
        for p in started {
            let r = api::finish(p, self.source.is_some()).await?;
            report.period = report.period.or(r.period);
            got.extend(r.kpis);
        }
        for id in self.metrics.split(',') {
            if let Some(i) = got.iter().position(|k| k.id == id.trim()) {
                report.kpis.push(got.swap_remove(i));
            }
        }
        Ok(report)
    }

    /// How many tiles the skeleton shows before the answer arrives.
    pub fn metric_count(&self) -> usize {
        self.metrics
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .count()
            .clamp(1, 12)
    }
}

/// A mounted widget. Dropping it, or calling `unmount()` from JavaScript, removes the view
/// and stops its timers; an answer still in flight then finds its signals gone and does nothing.
#[wasm_bindgen]
pub struct WidgetHandle {
    view: Option<Box<dyn Any>>,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Removes the widget's DOM and reactive state. Idempotent.
    pub fn unmount(&mut self) {
        self.view = None;
    }
}

/// Mounts a widget into `container` (typically a div inside an open shadow root).
///
/// `config` is a plain object of strings: `endpoint`, `key`, `metrics`, `period`, `compare`,
/// `lang`, `refresh`, `segment`; and, offline, `source`: a function answering
/// `{metrics, period, compare, lang, segment}` with the `/v1/kpis` JSON text, used instead of
/// the network.
#[wasm_bindgen]
pub fn mount_widget(container: HtmlElement, config: JsValue) -> WidgetHandle {
    let cfg = Config::from_js(&config);
    let handle = leptos::mount::mount_to(container, move || view::widget(cfg));
    WidgetHandle {
        view: Some(Box::new(handle)),
    }
}
