//! The dashboard: a period switcher, one tile per KPI, and the loading, error and stale states.
//! Renders what the API (or the offline `data`) says; computes no KPI and decides no status.
//! Every text, including labels that came over the network, reaches the DOM as a text node;
//! nothing here sets `innerHTML` or a `style` attribute (a strict CSP forbids inline styles).
use std::sync::Arc;
use std::time::Duration;

use kpi_core::kpi::Lang;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::api::{self, LoadError, Report};
use crate::text::{texts, Texts};
use crate::tiles::{self, el, hidden, text};
use crate::Config;

#[derive(Clone)]
enum State {
    Loading,
    Ready(Arc<Report>),
    Failed(LoadError),
}

/// The whole widget for one configuration: online it fetches `GET /v1/kpis`, offline it
/// asks the configuration's `source` (see [`Config::load`]).
pub fn widget(cfg: Config) -> impl IntoView {
    let lang = cfg.lang;
    let t = texts(lang);
    let online = cfg.source.is_none();
    let skeletons = cfg.metric_count();
    let refresh = cfg.refresh;
    let segment = cfg.segment.clone();
    let state = RwSignal::new(State::Loading);
    let stale = RwSignal::new(false);
    let period = RwSignal::new(cfg.period.clone());
    // Local: the offline source is a JavaScript function, which is not `Send`.
    let cfg = StoredValue::new_local(cfg);
    // Only the newest request may write: a slow answer for last period must not overwrite the
    // answer for the period just picked.
    let generation = StoredValue::new(0u32);

    // `visible`: a load the user asked for (first load, retry, period switch) shows the
    // skeleton and, on failure, the error; a background refresh keeps the tiles and marks
    // them stale instead.
    let load = move |visible: bool| {
        let Some(c) = cfg.try_get_value() else {
            return;
        };
        let Some(g) = generation.try_update_value(|g| {
            *g = g.wrapping_add(1);
            *g
        }) else {
            return;
        };
        if visible {
            state.set(State::Loading);
        }
        let p = period.get_untracked();
        spawn_local(async move {
            let result = c.load(&p).await;
            if generation.try_get_value() != Some(g) {
                return;
            }
            match result {
                Ok(r) => {
                    state.try_set(State::Ready(Arc::new(r)));
                    stale.try_set(false);
                }
                Err(_) if !visible => {
                    stale.try_set(true);
                }
                Err(e) => {
                    state.try_set(State::Failed(e));
                }
            }
        });
    };

    load(true);
    if online && refresh > 0 {
        if let Ok(h) =
            set_interval_with_handle(move || load(false), Duration::from_secs(refresh.into()))
        {
            on_cleanup(move || h.clear());
        }
    }

    let pick = move |k: &'static str| {
        if period.get_untracked() != k {
            period.set(k.to_string());
            load(true);
        }
    };
    view! {
        <div
            class="widget"
            part="widget"
            aria-busy=move || state.with(|s| matches!(s, State::Loading)).to_string()
        >
            <div
                class="bar"
                use:bar=Bar {
                    t,
                    period,
                    pick,
                    state,
                    stale,
                }
            ></div>
            // Each new state replaces the body's content, built straight into the DOM (see
            // `tiles`): no typed views and no diffing code for what is rebuilt from scratch anyway.
            <div use:body=Body {
                state,
                lang,
                skeletons,
                segment,
                retry: move || load(true),
            }></div>
        </div>
    }
}

/// What the bar shows: the period switcher, the period covered, the stale mark.
#[derive(Clone)]
struct Bar<P> {
    t: &'static Texts,
    period: RwSignal<String>,
    pick: P,
    state: RwSignal<State>,
    stale: RwSignal<bool>,
}

/// The `use:` directive of the bar: builds the switcher once, and keeps the pressed button,
/// the period line and the stale mark in step with their signals.
fn bar<P: Fn(&'static str) + Copy + 'static>(bar: Element, b: Bar<P>) {
    let t = b.t;
    let group = el(
        &bar,
        false,
        "div",
        &[
            ("class", "periods"),
            ("role", "group"),
            ("aria-label", t.period_group),
            ("part", "periods"),
        ],
    );
    let mut buttons = Vec::new();
    let mut listeners = Vec::new();
    for &(k, label) in &t.periods {
        let button = el(
            &group,
            false,
            "button",
            &[
                ("type", "button"),
                ("part", "period-button"),
                ("data-period", k),
            ],
        );
        text(&button, label);
        let pick = b.pick;
        let cb = Closure::<dyn FnMut()>::new(move || pick(k));
        let _ = button.add_event_listener_with_callback("click", cb.as_ref().unchecked_ref());
        listeners.push(cb);
        buttons.push((k, button));
    }
    // Arrow keys move to the previous / next period (wrapping), Home and End to the ends,
    // as in a toolbar; Tab and Enter work on the buttons themselves.
    let keys = buttons.clone();
    let period = b.period;
    let pick = b.pick;
    let on_key = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let key = api::get(&e, "key").as_string().unwrap_or_default();
        let n = keys.len();
        let cur = period.with_untracked(|p| keys.iter().position(|(k, _)| k == p));
        let next = match (key.as_str(), cur) {
            ("ArrowRight" | "ArrowDown", Some(i)) => (i + 1) % n,
            ("ArrowLeft" | "ArrowUp", Some(i)) => (i + n - 1) % n,
            ("Home", _) => 0,
            ("End", _) => n - 1,
            _ => return,
        };
        e.prevent_default();
        let (k, button) = &keys[next];
        pick(k);
        if let Some(h) = button.dyn_ref::<web_sys::HtmlElement>() {
            let _ = h.focus();
        }
    });
    let _ = group.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    let pressed = RenderEffect::new(move |_| {
        period.with(|p| {
            for (k, button) in &buttons {
                let on = if p == k { "true" } else { "false" };
                let _ = button.set_attribute("aria-pressed", on);
            }
        })
    });
    StoredValue::new_local((pressed, listeners, on_key));
    let line = el(
        &bar,
        false,
        "span",
        &[
            ("class", "period"),
            ("part", "period"),
            ("data-role", "period"),
        ],
    );
    let state = b.state;
    let period_line = RenderEffect::new(move |_| {
        let s = state.with(|s| match s {
            State::Ready(r) => r.period.as_ref().map(|p| {
                let mut s = String::from(t.period(&p.kind));
                if !p.from.is_empty() {
                    s.push_str(" · ");
                    s.push_str(&p.from);
                    s.push_str(" – ");
                    s.push_str(&p.to);
                }
                s
            }),
            _ => None,
        });
        line.set_text_content(s.as_deref());
    });
    let stale = b.stale;
    let mark = RenderEffect::new(move |previous: Option<Option<Element>>| {
        if let Some(Some(mark)) = previous {
            mark.remove();
        }
        stale.get().then(|| {
            let s = el(
                &bar,
                false,
                "span",
                &[
                    ("class", "stale"),
                    ("part", "stale"),
                    ("role", "status"),
                    ("data-role", "stale"),
                ],
            );
            hidden(&s, None, "⟳ ");
            text(&s, t.stale);
            s
        })
    });
    StoredValue::new_local((period_line, mark));
}

/// What the body shows: the state, and what it needs to draw it.
#[derive(Clone)]
struct Body<R> {
    state: RwSignal<State>,
    lang: Lang,
    skeletons: usize,
    segment: String,
    retry: R,
}

/// The `use:` directive of the body: redraws `slot` (its attributes and children) from the
/// state whenever the state changes. The retry button's listener lives until the next redraw.
fn body<R: Fn() + Clone + 'static>(slot: Element, b: Body<R>) {
    let t = texts(b.lang);
    let effect = RenderEffect::new(move |_previous: Option<Option<Closure<dyn FnMut()>>>| {
        for name in slot.get_attribute_names().iter() {
            if let Some(name) = name.as_string() {
                let _ = slot.remove_attribute(&name);
            }
        }
        slot.set_text_content(None);
        b.state.with(|s| match s {
            State::Loading => {
                skeleton(&slot, b.skeletons, t);
                None
            }
            State::Ready(r) => {
                set(&slot, &[("class", "tiles"), ("part", "tiles")]);
                tiles::fill(&slot, r, b.lang, &b.segment);
                None
            }
            State::Failed(e) => Some(failure(&slot, e, t, b.retry.clone())),
        })
    });
    StoredValue::new_local(effect);
}

fn set(e: &Element, attrs: &[(&str, &str)]) {
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
}

fn skeleton(slot: &Element, count: usize, t: &'static Texts) {
    set(slot, &[("class", "tiles"), ("part", "tiles")]);
    let p = el(slot, false, "p", &[("class", "sr"), ("role", "status")]);
    text(&p, t.loading);
    for _ in 0..count {
        let tile = el(
            slot,
            false,
            "div",
            &[("class", "tile skel"), ("aria-hidden", "true")],
        );
        for class in ["sk sk-l", "sk sk-v", "sk sk-s"] {
            el(&tile, false, "div", &[("class", class)]);
        }
    }
}

fn failure(
    slot: &Element,
    e: &LoadError,
    t: &'static Texts,
    retry: impl Fn() + 'static,
) -> Closure<dyn FnMut()> {
    let (title, code, detail) = match e {
        LoadError::BadKey(m) => (t.bad_key, "bad_key", m.clone()),
        LoadError::Forbidden(m) => (t.forbidden, "forbidden", m.clone()),
        LoadError::Offline => (t.offline, "offline", String::new()),
        LoadError::Server(s, m) => (t.server, "server", format!("{s} {m}")),
        LoadError::Invalid => (t.invalid, "invalid", String::new()),
    };
    set(
        slot,
        &[
            ("class", "error"),
            ("part", "error"),
            ("role", "alert"),
            ("data-role", "error"),
            ("data-error", code),
        ],
    );
    let p = el(slot, false, "p", &[("class", "error-title")]);
    hidden(&p, None, "⚠ ");
    text(&p, title);
    if !detail.is_empty() {
        let p = el(slot, false, "p", &[("class", "muted")]);
        text(&p, &detail);
    }
    let b = el(
        slot,
        false,
        "button",
        &[
            ("type", "button"),
            ("part", "retry"),
            ("data-role", "retry"),
        ],
    );
    text(&b, t.retry);
    let cb = Closure::<dyn FnMut()>::new(retry);
    let _ = b.add_event_listener_with_callback("click", cb.as_ref().unchecked_ref());
    cb
}
