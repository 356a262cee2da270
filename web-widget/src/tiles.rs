//! The tiles, built straight into the DOM. Tiles are built once per answer and never
//! updated in place (a new answer replaces them all), so a typed leptos view buys nothing
//! here, while its per-element generic code was the largest part of the widget's wasm. These
//! few non-generic helpers create the same elements, attributes and text nodes.
//!
//! Every text, including labels that came over the network, is a text node; nothing here sets
//! `innerHTML` or a `style` attribute (a strict CSP forbids inline styles).
use kpi_core::kpi::{Direction, Lang, ServiceTargets, Target, Unit};
use kpi_core::Channel;
use wasm_bindgen::UnwrapThrowExt;
use web_sys::{Document, Element};

use crate::api::{Kpi, Report, Segment};
use crate::fmt;
use crate::text::{texts, Texts};

const SVG: &str = "http://www.w3.org/2000/svg";

/// Appends a `tag` element (SVG when `svg`) with `attrs` to `parent`.
pub(crate) fn el(parent: &Element, svg: bool, tag: &str, attrs: &[(&str, &str)]) -> Element {
    let doc: Document = parent.owner_document().unwrap_throw();
    let e = if svg {
        doc.create_element_ns(Some(SVG), tag)
    } else {
        doc.create_element(tag)
    }
    .unwrap_throw();
    for (k, v) in attrs {
        e.set_attribute(k, v).unwrap_throw();
    }
    parent.append_child(&e).unwrap_throw();
    e
}

/// Appends `s` to `parent` as one text node.
pub(crate) fn text(parent: &Element, s: &str) {
    parent.append_with_str_1(s).unwrap_throw();
}

/// A decorative marker (`⚠ `, an arrow, a status shape) hidden from screen readers.
pub(crate) fn hidden(parent: &Element, class: Option<&str>, s: &str) {
    let e = match class {
        Some(c) => el(
            parent,
            false,
            "span",
            &[("class", c), ("aria-hidden", "true")],
        ),
        None => el(parent, false, "span", &[("aria-hidden", "true")]),
    };
    text(&e, s);
}

/// One tile per KPI of the report, appended to `container`. With a `segment` (the
/// widget's attribute) each tile ranks its segments: a leaderboard.
pub fn fill(container: &Element, report: &Report, lang: Lang, segment: &str) {
    for k in &report.kpis {
        tile(container, k, lang, segment);
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

fn tile(parent: &Element, r: &Kpi, lang: Lang, segment: &str) {
    let t = texts(lang);
    // The API always sends a label; looking one up here would pull the whole catalog in.
    let label = if r.label.is_empty() { &r.id } else { &r.label };
    let tile = el(
        parent,
        false,
        "div",
        &[
            ("class", "tile"),
            ("part", "tile"),
            ("role", "region"),
            ("aria-label", label),
            ("data-kpi", &r.id),
        ],
    );
    let h = el(&tile, false, "h3", &[("class", "label"), ("part", "label")]);
    text(&h, label);
    let value_raw = r.value.map(raw);
    let mut attrs = vec![
        ("class", "value"),
        ("part", "value"),
        ("data-role", "value"),
    ];
    if let Some(v) = &value_raw {
        attrs.push(("data-value", v));
    }
    let p = el(&tile, false, "p", &attrs);
    text(&p, &fmt::value(r, lang));
    if let Some((from, to)) = &r.window {
        let p = el(
            &tile,
            false,
            "p",
            &[
                ("class", "muted"),
                ("data-role", "window"),
                ("data-from", from),
                ("data-to", to),
            ],
        );
        text(&p, &[t.window, " ", from, " – ", to].concat());
    }

    if let Some(s) = r.status {
        let (words, class, icon) = t.status(Some(s));
        let p = el(
            &tile,
            false,
            "p",
            &[
                ("class", &["status ", class].concat()),
                ("part", "status"),
                ("data-role", "status"),
                ("data-status", class),
            ],
        );
        hidden(&p, Some("icon"), icon);
        text(&p, words);
    }
    if r.value.is_none() {
        let p = el(&tile, false, "p", &[("class", "muted")]);
        text(&p, t.no_data);
    }
    if let Some(d) = r.delta {
        let class = match r.direction {
            // A change within noise is told quietly: grey and light, its arrow kept.
            _ if r.significant == Some(false) => "delta flat quiet",
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
        let p = el(
            &tile,
            false,
            "p",
            &[
                ("class", class),
                ("part", "delta"),
                ("data-role", "delta"),
                ("data-value", &raw(d)),
            ],
        );
        if let Some(sig) = r.significant {
            let _ = p.set_attribute("title", if sig { t.change_real } else { t.change_noise });
            let _ = p.set_attribute("data-significant", if sig { "true" } else { "false" });
        }
        hidden(&p, None, arrow);
        text(&p, " ");
        text(&p, &fmt::delta(d, r, lang));
        text(&p, " ");
        let m = el(&p, false, "span", &[("class", "muted")]);
        text(&m, t.vs_previous);
    }
    let meta = el(&tile, false, "p", &[("class", "meta")]);
    if let Some(n) = r.n {
        let s = el(
            &meta,
            false,
            "span",
            &[
                ("class", "n"),
                ("data-role", "n"),
                ("data-value", &raw(n as f64)),
            ],
        );
        text(&s, "n = ");
        text(&s, &fmt::number(n as f64, 0, lang));
    }
    if let Some(p90) = r.p90 {
        let s = el(
            &meta,
            false,
            "span",
            &[
                ("class", "p90"),
                ("data-role", "p90"),
                ("data-value", &raw(p90)),
            ],
        );
        text(&s, "p90: ");
        text(&s, &fmt::in_unit(p90, r, lang));
    }
    if let Some((min, goal)) = r.target {
        let s = el(
            &meta,
            false,
            "span",
            &[
                ("class", "target"),
                ("data-role", "target"),
                ("data-value", &raw(goal)),
                ("data-min", &raw(min)),
            ],
        );
        text(&s, t.target);
        text(
            &s,
            match r.direction {
                Direction::Down => ": ≤ ",
                _ => ": ≥ ",
            },
        );
        text(&s, &fmt::in_unit(goal, r, lang));
    }
    if let Some([lo, hi]) = r.interval {
        let s = el(
            &meta,
            false,
            "span",
            &[("class", "ci"), ("data-role", "interval")],
        );
        text(&s, t.interval);
        text(&s, ": ");
        text(&s, &fmt::in_unit(lo, r, lang));
        text(&s, " – ");
        text(&s, &fmt::in_unit(hi, r, lang));
    }
    if r.insufficient_sample {
        let s = el(
            &meta,
            false,
            "span",
            &[
                ("class", "badge"),
                ("part", "badge"),
                ("data-role", "insufficient"),
            ],
        );
        hidden(&s, None, "⚠ ");
        text(&s, t.insufficient);
    }
    let part = |name: &str| {
        r.parts
            .iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, v)| *v)
    };
    if r.id == "nps" {
        let b = [part("promoters"), part("passives"), part("detractors")];
        nps_bar(&tile, b, t, lang);
    } else if !r.parts.is_empty() {
        funnel(&tile, &r.parts, t, lang);
    }
    if !segment.is_empty() {
        leaderboard(&tile, r, segment, t, lang);
    } else if r.unit == Unit::Duration && !r.segments.is_empty() {
        channels(&tile, r, t, lang);
    }
    sparkline(&tile, &r.series, t);
}

/// The indices of `keys` in ascending order of their key, ties in input order. An insertion
/// sort: lists here hold a few dozen items, and each instantiation of the standard library's
/// sort costs about 3 KB of wasm.
pub(crate) fn ranked(keys: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let at = idx
            .iter()
            .position(|&j| keys[j] > keys[i])
            .unwrap_or(idx.len());
        idx.insert(at, i);
    }
    idx
}

/// A small labelled section of a tile: a heading and a list.
fn section(tile: &Element, role: &str, title: &str) -> Element {
    let box_ = el(
        tile,
        false,
        "div",
        &[("class", "sub"), ("part", role), ("data-role", role)],
    );
    let h = el(&box_, false, "h4", &[("class", "sub-title")]);
    text(&h, title);
    el(&box_, false, "ol", &[("class", "rows")])
}

/// One row of a section: the name (text only: it came from the CRM), then figures.
fn row(list: &Element, name: &str, value: Option<f64>) -> Element {
    let mut attrs = vec![("class", "row"), ("data-name", name)];
    let raw_value = value.map(raw);
    if let Some(v) = &raw_value {
        attrs.push(("data-value", v));
    }
    let li = el(list, false, "li", &attrs);
    let n = el(&li, false, "span", &[("class", "name")]);
    text(&n, name);
    li
}

/// The segments ranked best first by the KPI's direction (top agents, top reps…); at most
/// ten, segments without a value last.
fn leaderboard(tile: &Element, r: &Kpi, segment: &str, t: &'static Texts, lang: Lang) {
    let keys: Vec<f64> = r
        .segments
        .iter()
        .map(|s| match (s.value, r.direction) {
            (None, _) => f64::INFINITY,
            (Some(v), Direction::Down) => v,
            (Some(v), _) => -v,
        })
        .collect();
    let segs: Vec<&Segment> = ranked(&keys).into_iter().map(|i| &r.segments[i]).collect();
    let title = if segment == "agent" {
        t.top_agents
    } else {
        t.by_segment
    };
    let list = section(tile, "leaderboard", title);
    if segs.is_empty() {
        let li = el(&list, false, "li", &[("class", "muted")]);
        text(&li, t.no_data);
    }
    for s in segs.into_iter().take(10) {
        let li = row(&list, &s.name, s.value);
        let v = el(&li, false, "span", &[("class", "fig")]);
        text(
            &v,
            &s.value
                .map_or_else(|| "—".into(), |v| fmt::in_unit(v, r, lang)),
        );
        if let Some(n) = s.n {
            let m = el(&li, false, "span", &[("class", "muted")]);
            text(&m, "n = ");
            text(&m, &fmt::number(n as f64, 0, lang));
        }
    }
}

/// Median and p90 per channel against the channel's first-response target (kpi-core's
/// service-level targets, the ones the API's service level uses); the status is kpi-core's.
fn channels(tile: &Element, r: &Kpi, t: &'static Texts, lang: Lang) {
    let list = section(tile, "channels", t.by_channel);
    let targets = ServiceTargets::default();
    for s in &r.segments {
        let ch = Channel::ALL.iter().find(|c| c.as_str() == s.name);
        let li = row(&list, t.channel(&s.name), s.value);
        let v = el(&li, false, "span", &[("class", "fig")]);
        text(
            &v,
            &s.value
                .map_or_else(|| "—".into(), |v| fmt::in_unit(v, r, lang)),
        );
        if let Some(p90) = s.p90 {
            let m = el(
                &li,
                false,
                "span",
                &[("class", "muted"), ("data-role", "p90")],
            );
            text(&m, "p90 ");
            text(&m, &fmt::in_unit(p90, r, lang));
        }
        // Only first responses have per-channel targets.
        if let (Some(ch), Some(v), "first_response_time") = (ch, s.value, r.id.as_str()) {
            let goal = targets.of(*ch) as f64;
            let status = Target::new(goal, goal).status(v, Direction::Down);
            let (words, class, icon) = t.status(Some(status));
            let m = el(
                &li,
                false,
                "span",
                &[("class", class), ("data-status", class)],
            );
            hidden(&m, None, icon);
            text(&m, " ≤ ");
            text(&m, &fmt::in_unit(goal, r, lang));
            let sr = el(&m, false, "span", &[("class", "sr")]);
            text(&sr, words);
        }
    }
}

/// Deals reaching each pipeline stage, widest first: a funnel of bars scaled to the widest.
fn funnel(tile: &Element, parts: &[(String, u64)], t: &'static Texts, lang: Lang) {
    // Each stage is reached by at most the deals of the stage before: by count is in order.
    let keys: Vec<f64> = parts.iter().map(|p| -(p.1 as f64)).collect();
    let stages: Vec<&(String, u64)> = ranked(&keys).into_iter().map(|i| &parts[i]).collect();
    let top = stages.first().map_or(0, |s| s.1).max(1);
    let list = section(tile, "funnel", t.funnel);
    for (name, count) in stages {
        let li = row(&list, name, Some(*count as f64));
        let v = el(&li, false, "span", &[("class", "fig")]);
        text(&v, &fmt::number(*count as f64, 0, lang));
        let svg = el(
            &li,
            true,
            "svg",
            &[
                ("class", "bar"),
                ("viewBox", "0 0 1000 8"),
                ("preserveAspectRatio", "none"),
                ("width", "100%"),
                ("height", "8"),
                ("aria-hidden", "true"),
            ],
        );
        el(
            &svg,
            true,
            "rect",
            &[
                ("width", &raw((count * 1000 / top) as f64)),
                ("height", "8"),
                ("rx", "2"),
            ],
        );
    }
}

/// Detractors | passives | promoters as one stacked bar, widths as SVG attributes.
fn nps_bar(tile: &Element, b: [u64; 3], t: &'static Texts, lang: Lang) {
    let [pro, pas, det] = b;
    let total = pro + pas + det;
    if total == 0 {
        return;
    }
    let pct = |x: u64| x as f64 * 100.0 / total as f64;
    // Per-mille integers: SVG scales them, and integers print without float formatting code.
    let permille = |x: u64| x * 1000 / total;
    let (wd, wpa) = (permille(det), permille(pas));
    let wp = 1000 - wd - wpa;
    let box_ = el(
        tile,
        false,
        "div",
        &[
            ("class", "nps"),
            ("part", "breakdown"),
            ("data-role", "breakdown"),
        ],
    );
    let svg = el(
        &box_,
        true,
        "svg",
        &[
            ("class", "stack"),
            ("viewBox", "0 0 1000 10"),
            ("preserveAspectRatio", "none"),
            ("width", "100%"),
            ("height", "10"),
            ("aria-hidden", "true"),
        ],
    );
    for (class, x, w) in [("det", 0, wd), ("pas", wd, wpa), ("pro", wd + wpa, wp)] {
        el(
            &svg,
            true,
            "rect",
            &[
                ("class", class),
                ("x", &raw(x as f64)),
                ("y", "0"),
                ("width", &raw(w as f64)),
                ("height", "10"),
            ],
        );
    }
    let ul = el(&box_, false, "ul", &[("class", "legend")]);
    for (class, key, label, count) in [
        ("sw pro", "promoters", t.promoters, pro),
        ("sw pas", "passives", t.passives, pas),
        ("sw det", "detractors", t.detractors, det),
    ] {
        let li = el(
            &ul,
            false,
            "li",
            &[("data-part", key), ("data-value", &raw(count as f64))],
        );
        el(
            &li,
            false,
            "span",
            &[("class", class), ("aria-hidden", "true")],
        );
        text(&li, label);
        text(&li, " ");
        text(&li, &fmt::number(count as f64, 0, lang));
        text(&li, " (");
        text(&li, &fmt::number(pct(count), 0, lang));
        text(&li, "%)");
    }
}

/// The period's series as a line; points without a value are left out.
fn sparkline(tile: &Element, series: &[Option<f64>], t: &'static Texts) {
    let pts: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|v| (i, v)))
        .collect();
    if pts.len() < 2 {
        return;
    }
    let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let last = (series.len() - 1) as f64;
    let mut points = String::new();
    for (i, v) in pts {
        let x = (i as f64 * 1000.0 / last).round();
        let y = (270.0 - (v - lo) / span * 240.0).round();
        points.push_str(&raw(x));
        points.push(',');
        points.push_str(&raw(y));
        points.push(' ');
    }
    let svg = el(
        tile,
        true,
        "svg",
        &[
            ("class", "spark"),
            ("part", "sparkline"),
            ("viewBox", "0 0 1000 300"),
            ("preserveAspectRatio", "none"),
            ("width", "100%"),
            ("height", "30"),
            ("role", "img"),
            ("aria-label", t.trend),
        ],
    );
    el(
        &svg,
        true,
        "polyline",
        &[
            ("points", &points),
            ("fill", "none"),
            ("vector-effect", "non-scaling-stroke"),
        ],
    );
}
