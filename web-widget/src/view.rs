//! The dashboard: a period switcher, one tile per KPI, and the loading, error and stale states.
//! Renders what the API (or the offline `data`) says; computes no KPI and decides no status.
//! Every text, including labels that came over the network, reaches the DOM as a text node;
//! nothing here sets `innerHTML` or a `style` attribute (a strict CSP forbids inline styles).
use std::sync::Arc;
use std::time::Duration;

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, LoadError, Report};
use crate::text::{texts, Texts};
use crate::tiles::fill;
use crate::Config;

#[derive(Clone)]
enum State {
    Loading,
    Ready(Arc<Report>),
    Failed(LoadError),
}

/// The whole widget for one configuration; `data` is the offline mode's report (or why it
/// could not be read), `None` to fetch from the API.
pub fn widget(cfg: Config, data: Option<Result<Report, LoadError>>) -> impl IntoView {
    let lang = cfg.lang;
    let t = texts(lang);
    let online = data.is_none();
    let skeletons = cfg.metric_count();
    let refresh = cfg.refresh;
    let state = RwSignal::new(match data {
        Some(Ok(r)) => State::Ready(Arc::new(r)),
        Some(Err(e)) => State::Failed(e),
        None => State::Loading,
    });
    let stale = RwSignal::new(false);
    let period = RwSignal::new(cfg.period.clone());
    let cfg = StoredValue::new(cfg);
    // Only the newest request may write: a slow answer for last period must not overwrite the
    // answer for the period just picked.
    let generation = StoredValue::new(0u32);

    // `visible`: a load the user asked for (first load, retry, period switch) shows the
    // skeleton and, on failure, the error; a background refresh keeps the tiles and marks
    // them stale instead.
    let load = move |visible: bool| {
        if !online {
            return;
        }
        let Some(url) = cfg.try_with_value(|c| c.url(&period.get_untracked())) else {
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
        spawn_local(async move {
            let result = api::fetch_kpis(&url).await;
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

    if online {
        load(true);
        if refresh > 0 {
            if let Ok(h) =
                set_interval_with_handle(move || load(false), Duration::from_secs(refresh.into()))
            {
                on_cleanup(move || h.clear());
            }
        }
    }

    let pick = move |k: &'static str| {
        if period.get_untracked() != k {
            period.set(k.to_string());
            load(true);
        }
    };
    let period_line = move || {
        state.with(|s| match s {
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
        })
    };

    view! {
        <div
            class="widget"
            part="widget"
            aria-busy=move || state.with(|s| matches!(s, State::Loading)).to_string()
        >
            <div class="bar">
                {online.then(|| switcher(t, period, pick))}
                <span class="period" part="period" data-role="period">
                    {period_line}
                </span>
                {move || {
                    stale
                        .get()
                        .then(|| {
                            view! {
                                <span class="stale" part="stale" role="status" data-role="stale">
                                    <span aria-hidden="true">"⟳ "</span>
                                    {t.stale}
                                </span>
                            }
                        })
                }}
            </div>
            // Each new state replaces the whole body: a keyed list of one item whose key changes
            // with every state only ever builds views, so no diffing ("rebuild") code for the
            // tiles is compiled in; the tiles are few and a new answer changes most of them.
            <For
                each=move || {
                    state.track();
                    [next_key()]
                }
                key=|k| *k
                let(_k)
            >
                {match state.get_untracked() {
                    State::Loading => EitherOf3::A(skeleton(skeletons, t)),
                    State::Ready(r) => {
                        EitherOf3::B(
                            view! { <div class="tiles" part="tiles" use:fill=(r, lang)></div> },
                        )
                    }
                    State::Failed(e) => {
                        EitherOf3::C(failure(&e, t, online.then_some(move || load(true))))
                    }
                }}
            </For>
        </div>
    }
}

/// A key never used before in this page.
fn next_key() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn switcher(
    t: &'static Texts,
    period: RwSignal<String>,
    pick: impl Fn(&'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="periods" role="group" aria-label=t.period_group part="periods">
            {t
                .periods
                .iter()
                .map(|&(k, label)| {
                    view! {
                        <button
                            type="button"
                            part="period-button"
                            data-period=k
                            aria-pressed=move || (period.get() == k).to_string()
                            on:click=move |_| pick(k)
                        >
                            {label}
                        </button>
                    }
                })
                .collect::<Vec<_>>()}
        </div>
    }
}

fn skeleton(count: usize, t: &'static Texts) -> impl IntoView {
    view! {
        <div class="tiles" part="tiles">
            <p class="sr" role="status">
                {t.loading}
            </p>
            {(0..count)
                .map(|_| {
                    view! {
                        <div class="tile skel" aria-hidden="true">
                            <div class="sk sk-l"></div>
                            <div class="sk sk-v"></div>
                            <div class="sk sk-s"></div>
                        </div>
                    }
                })
                .collect::<Vec<_>>()}
        </div>
    }
}

fn failure(
    e: &LoadError,
    t: &'static Texts,
    retry: Option<impl Fn() + Send + Sync + 'static>,
) -> impl IntoView {
    let (title, code, detail) = match e {
        LoadError::BadKey(m) => (t.bad_key, "bad_key", m.clone()),
        LoadError::Forbidden(m) => (t.forbidden, "forbidden", m.clone()),
        LoadError::Offline => (t.offline, "offline", String::new()),
        LoadError::Server(s, m) => (t.server, "server", format!("{s} {m}")),
        LoadError::Invalid => (t.invalid, "invalid", String::new()),
    };
    view! {
        <div class="error" part="error" role="alert" data-role="error" data-error=code>
            <p class="error-title">
                <span aria-hidden="true">"⚠ "</span>
                {title}
            </p>
            {(!detail.is_empty()).then(|| view! { <p class="muted">{detail}</p> })}
            {retry
                .map(|retry| {
                    view! {
                        <button type="button" part="retry" data-role="retry" on:click=move |_| retry()>
                            {t.retry}
                        </button>
                    }
                })}
        </div>
    }
}
