//! `web-widget`: the embeddable `<kpi-widget>` dashboard, leptos CSR compiled to wasm.
//!
//! The custom element itself lives in `loader/kpi-widget.js` (a tiny ES module: shadow root,
//! stylesheet, lazy loading); it calls [`mount_widget`] with a container inside the open shadow
//! root and the element's attributes. This crate fetches `GET /v1/kpis` and renders the tiles.
//!
//! *Architecture invariant*: no KPI arithmetic and no status decision here; values, statuses
//! and deltas come from kpi-core (through the API, or the offline `data`).
use std::any::Any;

use kpi_core::kpi::Lang;
use wasm_bindgen::prelude::*;
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
}

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
        }
    }

    /// The `GET /v1/kpis` URL for `period`.
    pub fn url(&self, period: &str) -> String {
        let lang = match self.lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        };
        api::kpis_url(
            &self.endpoint,
            &self.key,
            &self.metrics,
            period,
            &self.compare,
            lang,
        )
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
/// `lang`, `refresh`, or `data` (a `/v1/kpis` response, as an object or as JSON text) for the
/// offline mode, which renders it and never touches the network.
#[wasm_bindgen]
pub fn mount_widget(container: HtmlElement, config: JsValue) -> WidgetHandle {
    let cfg = Config::from_js(&config);
    let data = api::get(&config, "data");
    let data = match data.as_string() {
        Some(s) if s.trim().is_empty() => None,
        Some(s) => Some(api::parse(&s)),
        None if data.is_object() => Some(api::from_js(&data)),
        None => None,
    };
    let handle = leptos::mount::mount_to(container, move || view::widget(cfg, data));
    WidgetHandle {
        view: Some(Box::new(handle)),
    }
}
