//! The dashboard: a period switcher, one tile per KPI, and the loading, error and stale states.
//! Renders what the API (or the offline `data`) says; computes no KPI and decides no status.
//! Every text, including labels that came over the network, reaches the DOM as a text node;
//! nothing here sets `innerHTML` or a `style` attribute (a strict CSP forbids inline styles).
use std::sync::Arc;
use std::time::Duration;

use kpi_core::kpi::{Direction, Lang};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Kpi, LoadError, Report};
use crate::fmt;
use crate::text::{texts, Texts};
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
                            view! {
                                <div class="tiles" part="tiles">
                                    {r.kpis.iter().map(|k| tile(k, lang)).collect::<Vec<_>>()}
                                </div>
                            },
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

fn tile(r: &Kpi, lang: Lang) -> impl IntoView {
    let t = texts(lang);
    // The API always sends a label; looking one up here would pull the whole catalog in.
    let label = if r.label.is_empty() {
        r.id.clone()
    } else {
        r.label.clone()
    };
    let m = r;
    let status = r.status.map(|s| {
        let (text, class, icon) = t.status(Some(s));
        view! {
            <p class=format!("status {class}") part="status" data-role="status" data-status=class>
                <span class="icon" aria-hidden="true">
                    {icon}
                </span>
                {text}
            </p>
        }
    });
    let no_data = m
        .value
        .is_none()
        .then(|| view! { <p class="muted">{t.no_data}</p> });
    let n = m.n.map(|n| {
        view! {
            <span class="n" data-role="n" data-value=n.to_string()>
                "n = "
                {fmt::number(n as f64, 0, lang)}
            </span>
        }
    });
    let interval = m.interval.map(|[lo, hi]| {
        view! {
            <span class="ci" data-role="interval">
                {t.interval}
                ": "
                {fmt::in_unit(lo, r, lang)}
                " – "
                {fmt::in_unit(hi, r, lang)}
            </span>
        }
    });
    let p90 = m.p90.map(|p| {
        view! {
            <span class="p90" data-role="p90" data-value=raw(p)>
                "p90: "
                {fmt::in_unit(p, r, lang)}
            </span>
        }
    });
    let insufficient = m.insufficient_sample.then(|| {
        view! {
            <span class="badge" part="badge" data-role="insufficient">
                <span aria-hidden="true">"⚠ "</span>
                {t.insufficient}
            </span>
        }
    });
    let delta = r.delta.map(|d| {
        let class = match r.direction {
            _ if d == 0.0 => "delta flat",
            Direction::Up if d > 0.0 => "delta good",
            Direction::Down if d < 0.0 => "delta good",
            Direction::Up | Direction::Down => "delta bad",
            Direction::None => "delta flat",
        };
        let arrow = if d > 0.0 {
            "▲"
        } else if d < 0.0 {
            "▼"
        } else {
            "▶"
        };
        view! {
            <p class=class part="delta" data-role="delta" data-value=raw(d)>
                <span aria-hidden="true">{arrow}</span>
                " "
                {fmt::delta(d, r, lang)}
                " "
                <span class="muted">{t.vs_previous}</span>
            </p>
        }
    });
    let region = label.clone();
    view! {
        <div class="tile" part="tile" role="region" aria-label=region data-kpi=r.id.clone()>
            <h3 class="label" part="label">
                {label}
            </h3>
            <p class="value" part="value" data-role="value" data-value=m.value.map(raw)>
                {fmt::value(r, lang)}
            </p>
            {status}
            {no_data}
            {delta}
            <p class="meta">{n} {p90} {interval} {insufficient}</p>
            {nps_bar(m.breakdown, t, lang)}
            {sparkline(&r.series, t)}
        </div>
    }
}

/// The number as JavaScript prints it (`42`, `37.5`): the raw value for tests and scripts,
/// printed by the host rather than by Rust's float formatting code.
fn raw(v: f64) -> String {
    js_sys::Number::from(v)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// Detractors | passives | promoters as one stacked bar, widths as SVG attributes.
fn nps_bar(b: [u64; 3], t: &'static Texts, lang: Lang) -> Option<impl IntoView> {
    let [pro, pas, det] = b;
    let total = pro + pas + det;
    if total == 0 {
        return None;
    }
    let pct = |x: u64| x as f64 * 100.0 / total as f64;
    // Per-mille integers: SVG scales them, and integers print without float formatting code.
    let permille = |x: u64| x * 1000 / total;
    let attr = |x: u64| x.to_string();
    let (wd, wpa) = (permille(det), permille(pas));
    let wp = 1000 - wd - wpa;
    let item = move |class: &'static str, key: &'static str, label: &'static str, count: u64| {
        view! {
            <li data-part=key data-value=count.to_string()>
                <span class=format!("sw {class}") aria-hidden="true"></span>
                {label}
                " "
                {fmt::number(count as f64, 0, lang)}
                " ("
                {fmt::number(pct(count), 0, lang)}
                "%)"
            </li>
        }
    };
    Some(view! {
        <div class="nps" part="breakdown" data-role="breakdown">
            <svg
                class="stack"
                viewBox="0 0 1000 10"
                preserveAspectRatio="none"
                width="100%"
                height="10"
                aria-hidden="true"
            >
                <rect class="det" x="0" y="0" width=attr(wd) height="10"></rect>
                <rect class="pas" x=attr(wd) y="0" width=attr(wpa) height="10"></rect>
                <rect class="pro" x=attr(wd + wpa) y="0" width=attr(wp) height="10"></rect>
            </svg>
            <ul class="legend">
                {item("pro", "promoters", t.promoters, pro)}
                {item("pas", "passives", t.passives, pas)}
                {item("det", "detractors", t.detractors, det)}
            </ul>
        </div>
    })
}

/// The period's series as a line; points without a value are left out.
fn sparkline(series: &[Option<f64>], t: &'static Texts) -> Option<impl IntoView> {
    let pts: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|v| (i, v)))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let last = (series.len() - 1) as f64;
    let mut points = String::new();
    for (i, v) in pts {
        use std::fmt::Write;
        let x = (i as f64 * 1000.0 / last).round() as u32;
        let y = (270.0 - (v - lo) / span * 240.0).round() as u32;
        let _ = write!(points, "{x},{y} ");
    }
    Some(view! {
        <svg
            class="spark"
            part="sparkline"
            viewBox="0 0 1000 300"
            preserveAspectRatio="none"
            width="100%"
            height="30"
            role="img"
            aria-label=t.trend
        >
            <polyline points=points fill="none" vector-effect="non-scaling-stroke"></polyline>
        </svg>
    })
}
