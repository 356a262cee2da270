//! `GET /demo`: a sample CRM page showing every board of the widget against the demo tenant,
//! each with the tag that produced it (a copy-paste gallery): the four department presets, an
//! agent leaderboard, and a board mounted offline from inlined day rollups beside its online
//! twin; a language and a theme switch set the widgets' attributes. Enabled only when the
//! variable `DEMO_PAGE` is `on` (local runs: `.dev.vars`). `PUT /admin/demo` registers the
//! tenant, its publishable key (public by design) and the offline board: its KPIs and the
//! day rollups to inline, which the caller fetched with the secret key as a CRM's backend
//! would (`cargo xtask run` does).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{Env, Method, Response};

use crate::error::{ApiError, ApiResult};
use crate::http::{self, html_escape, json_body, BATCH_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/demo"),
        endpoints: &[Endpoint {
            method: Method::Get,
            handler: Handler::Public(|c| Box::pin(async move { page(&c.env).await })),
        }],
        cors: false,
        log: "/demo",
    },
    Route {
        path: Path::Exact("/admin/demo"),
        endpoints: &[Endpoint {
            method: Method::Put,
            handler: Handler::Admin(|c| Box::pin(register(c))),
        }],
        cors: false,
        log: "/admin/demo",
    },
];

#[derive(Serialize, Deserialize)]
struct DemoConfig {
    tenant: String,
    publishable_key: String,
    /// The board mounted offline (and its online twin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offline: Option<Offline>,
    /// The demo data's story, for the captions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    story: Option<Story>,
}

#[derive(Serialize, Deserialize)]
struct Offline {
    /// KPI ids, comma-separated.
    metrics: String,
    /// A `GET /v1/rollups` answer holding what they read.
    rollups: Value,
}

#[derive(Serialize, Deserialize)]
struct Story {
    /// The bad month for response times, `YYYY-MM`.
    incident: String,
}

fn enabled(env: &Env) -> bool {
    env.var("DEMO_PAGE")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

/// `PUT /admin/demo` (admin token): which tenant, key and rollups the demo page shows.
async fn register(c: Call) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
    if !enabled(env) {
        return Err(ApiError::NotFound("The demo page is disabled."));
    }
    // Rollups of every KPI over two months of a busy tenant run to a few hundred KB.
    let cfg: DemoConfig = json_body(&mut req, BATCH_LIMIT).await?;
    if !cfg.publishable_key.starts_with("pk_") {
        return Err(ApiError::Invalid(
            "`publishable_key` must be a pk_ key".into(),
        ));
    }
    if let Some(o) = &cfg.offline {
        let ids = o.metrics.split(',');
        if o.metrics.len() > 400
            || ids
                .clone()
                .any(|id| kpi_core::kpi::find(id.trim()).is_err())
        {
            return Err(ApiError::Invalid(
                "`offline.metrics` must list catalog KPI ids".into(),
            ));
        }
        if !o.rollups.is_object() {
            return Err(ApiError::Invalid(
                "`offline.rollups` must be a GET /v1/rollups answer".into(),
            ));
        }
    }
    if cfg
        .story
        .as_ref()
        .is_some_and(|s| month(&s.incident).is_none())
    {
        return Err(ApiError::Invalid(
            "`story.incident` must be a month, YYYY-MM".into(),
        ));
    }
    crate::kv::put(&env.kv("KV")?, "demo", &cfg, None).await?;
    http::json(200, &serde_json::json!({"ok": true}))
}

/// `YYYY-MM` → (year, month).
fn month(s: &str) -> Option<(u16, usize)> {
    let (y, m) = s.split_once('-')?;
    let (y, m): (u16, usize) = (y.parse().ok()?, m.parse().ok()?);
    (y >= 1970 && (1..=12).contains(&m) && s.len() == 7).then_some((y, m))
}

/// A board of the gallery: its tab, the attributes of its tag, what it shows.
struct Board {
    id: &'static str,
    tab: (&'static str, &'static str),
    attrs: &'static str,
    about: (&'static str, &'static str),
}

const BOARDS: [Board; 5] = [
    Board {
        id: "service",
        tab: ("Dịch vụ", "Service"),
        attrs: r#"preset="service" period="month" compare="previous""#,
        about: (
            "Dịch vụ khách hàng: CSAT, NPS, thời gian phản hồi đầu tiên theo kênh so với mục tiêu của từng kênh, tỷ lệ giải quyết ngay lần đầu, yêu cầu tồn đọng và mức độ dịch vụ. Thời gian tính theo giờ mở cửa (9:00–21:00).",
            "Customer service: CSAT, NPS, first response time per channel against each channel's target, first-contact resolution, the backlog and the service level. Times count opening hours (9:00–21:00).",
        ),
    },
    Board {
        id: "sales",
        tab: ("Bán hàng", "Sales"),
        attrs: r#"preset="sales" period="month" compare="previous""#,
        about: (
            "Bán hàng: tỷ lệ chuyển đổi khách tiềm năng, phễu theo giai đoạn của gói liệu trình và hợp đồng doanh nghiệp, giá trị đường ống, chu kỳ bán hàng, giá trị đơn trung bình và doanh thu mỗi tư vấn viên.",
            "Sales: lead conversion, the stage funnel of treatment packages and corporate contracts, pipeline value, sales cycle, average order value and revenue per consultant.",
        ),
    },
    Board {
        id: "marketing",
        tab: ("Marketing", "Marketing"),
        attrs: r#"preset="marketing" period="month" compare="previous""#,
        about: (
            "Marketing: khách tiềm năng, chi phí mỗi khách tiềm năng, chi phí mỗi khách hàng mới, ROI chiến dịch, CTR quảng cáo, tỷ lệ mở và nhấp email. Mùa chiến dịch: Tết, 8/3, hè, 20/10, Black Friday.",
            "Marketing: leads, cost per lead, cost per new customer, campaign ROI, ad CTR, e-mail open and click rates. Campaign seasons: Tết, 8 March, summer, 20 October, Black Friday.",
        ),
    },
    Board {
        id: "success",
        tab: ("Chăm sóc KH", "Success"),
        attrs: r#"preset="success" period="month" compare="previous""#,
        about: (
            "Chăm sóc khách hàng: tỷ lệ rời bỏ, tỷ lệ giữ chân, MRR của thẻ thành viên, giá trị vòng đời (CLV), tỷ lệ gia hạn và điểm sức khỏe khách hàng.",
            "Customer success: churn, retention, membership MRR, customer lifetime value, renewal rate and the customer health score.",
        ),
    },
    Board {
        id: "agents",
        tab: ("Nhân viên", "Agents"),
        attrs: r#"metrics="first_response_time,fcr,resolution_time" segment="agent" period="month" compare="previous""#,
        about: (
            "Bảng xếp hạng: segment=\"agent\" biến mỗi ô thành bảng mười nhân viên tốt nhất theo KPI đó.",
            "Leaderboard: segment=\"agent\" turns each tile into the top ten agents by that KPI.",
        ),
    },
];

/// The offline board's and its online twin's attributes besides `metrics`.
const TWIN: &str = r#"period="month" compare="previous""#;

/// Text in both languages; the page's script shows the one chosen.
fn t(vi: &str, en: &str) -> String {
    format!(
        "<span data-vi=\"{}\" data-en=\"{}\">{}</span>",
        html_escape(vi),
        html_escape(en),
        html_escape(vi)
    )
}

fn widget(id: &str, key: &str, attrs: &str) -> String {
    // `endpoint`, `lang` and `theme` are set by the page's script before the widget loads:
    // the page's own origin, and the switches' choice.
    format!(
        "<kpi-widget id=\"w-{id}\" endpoint=\"\" key=\"{key}\" {attrs} lang=\"vi\" theme=\"light\"></kpi-widget>"
    )
}

fn caption(id: &str, about: String) -> String {
    format!(
        "<div class=\"caption\"><p>{about}</p><pre><code data-tag-of=\"w-{id}\"></code></pre></div>"
    )
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `GET /demo`: the sample CRM page.
async fn page(env: &Env) -> ApiResult<Response> {
    if !enabled(env) {
        return Err(ApiError::NotFound("The demo page is disabled."));
    }
    let cfg: DemoConfig =
        crate::kv::get(&env.kv("KV")?, "demo")
            .await
            .ok_or(ApiError::NotFound(
                "No demo tenant is registered: run `cargo xtask run`.",
            ))?;
    let key = html_escape(&cfg.publishable_key);
    let tenant = html_escape(&cfg.tenant);
    let mut tabs = String::new();
    let mut panels = String::new();
    for (i, b) in BOARDS.iter().enumerate() {
        tabs.push_str(&tab(b.id, t(b.tab.0, b.tab.1), i == 0));
        let mut about = t(b.about.0, b.about.1);
        if let (Some((y, m)), "service") =
            (cfg.story.as_ref().and_then(|s| month(&s.incident)), b.id)
        {
            about.push(' ');
            about.push_str(&t(
                &format!("Tháng {m}/{y} có sự cố: kênh chat Zalo bị gián đoạn và hai nhân viên nghỉ phép, phản hồi chậm gấp nhiều lần — chọn Quý hoặc Năm để thấy."),
                &format!("{} {y} had an incident: the Zalo chat integration broke and two agents were on leave, so replies took many times longer — pick Quarter or Year to see it.", MONTHS_EN[m - 1]),
            ));
        }
        panels.push_str(&format!(
            "<section id=\"{id}\" role=\"tabpanel\" aria-labelledby=\"tab-{id}\"{hidden}>{w}{c}</section>",
            id = b.id,
            hidden = if i == 0 { "" } else { " hidden" },
            w = widget(b.id, &key, b.attrs),
            c = caption(b.id, about),
        ));
    }
    tabs.push_str(&tab("offline", t("Offline", "Offline"), false));
    let rollups = match &cfg.offline {
        // Inside <script>: no `<` may close it early.
        Some(o) => serde_json::to_string(&o.rollups)
            .unwrap_or_default()
            .replace('<', "\\u003c"),
        None => "null".into(),
    };
    let twin = format!(
        "metrics=\"{}\" {TWIN}",
        html_escape(cfg.offline.as_ref().map_or("nps", |o| o.metrics.as_str()))
    );
    let span = cfg
        .offline
        .as_ref()
        .map(|o| &o.rollups)
        .map_or(String::new(), |r| {
            format!(
                "{} – {}",
                html_escape(r["from"].as_str().unwrap_or("")),
                html_escape(r["to"].as_str().unwrap_or(""))
            )
        });
    panels.push_str(&format!(
        "<section id=\"offline\" role=\"tabpanel\" aria-labelledby=\"tab-offline\" hidden><div class=\"twins\">\
<div class=\"twin\"><h2>{h_off}</h2><div id=\"offline-board\" data-attrs='{twin_attrs}'></div>\
<div class=\"caption\"><p>{c_off}</p><pre><code id=\"offline-code\"></code></pre></div></div>\
<div class=\"twin\"><h2>{h_on}</h2>{online}{c_on}</div></div></section>",
        h_off = t("Offline, từ rollup nhúng trong trang", "Offline, from rollups inlined in the page"),
        twin_attrs = twin,
        c_off = t(
            &format!("mount(el, {{data}}) tính KPI ngay trong trình duyệt bằng kpi-core từ rollup theo ngày ({span}) mà máy chủ của CRM đã lấy bằng khóa bí mật (GET /v1/rollups) và nhúng vào trang: không có yêu cầu KPI nào qua mạng."),
            &format!("mount(el, {{data}}) computes the KPIs in the browser with kpi-core from day rollups ({span}) that the CRM's server fetched with the secret key (GET /v1/rollups) and inlined in the page: no KPI request goes over the network."),
        ),
        h_on = t("Trực tuyến, cùng bảng", "Online, the same board"),
        online = widget("online", &key, &twin),
        c_on = caption("online", t(
            "Cùng các KPI qua GET /v1/kpis: hai bảng cho cùng con số.",
            "The same KPIs through GET /v1/kpis: both boards show the same figures.",
        )),
    ));
    let html = format!(
        "<!doctype html><html lang=\"vi\" data-theme=\"light\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>Hoa Sen Spa — CRM · {tenant}</title>\
<style>{STYLE}</style><script type=\"module\" src=\"/widget/kpi-widget.js\"></script></head><body>\
<header class=\"top\"><div class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">HS</span><strong>Hoa Sen Spa</strong><small>CRM</small></div>\
<nav class=\"menu\" aria-label=\"CRM\"><a>{m1}</a><a>{m2}</a><a aria-current=\"page\">{m3}</a></nav>\
<div class=\"switches\"><div role=\"group\" aria-label=\"Ngôn ngữ / Language\">\
<a href=\"?lang=vi\" data-set-lang=\"vi\" aria-pressed=\"true\">VI</a><a href=\"?lang=en\" data-set-lang=\"en\" aria-pressed=\"false\">EN</a></div>\
<div role=\"group\" aria-label=\"Giao diện / Theme\"><a href=\"?theme=light\" data-set-theme=\"light\" aria-pressed=\"true\">{light}</a>\
<a href=\"?theme=dark\" data-set-theme=\"dark\" aria-pressed=\"false\">{dark}</a></div></div></header>\
<main><h1>{title}</h1><p class=\"lede\">{lede}</p>\
<div class=\"tabs\" role=\"tablist\">{tabs}</div>{panels}\
<p class=\"loader\">{loader}</p><pre><code id=\"loader-code\"></code></pre></main>\
<script type=\"application/json\" id=\"rollups\">{rollups}</script><script>{SCRIPT}</script>\
<script type=\"module\">{MODULE}</script></body></html>",
        m1 = t("Khách hàng", "Customers"),
        m2 = t("Lịch hẹn", "Appointments"),
        m3 = t("Báo cáo KPI", "KPI reports"),
        light = t("☀ Sáng", "☀ Light"),
        dark = t("☾ Tối", "☾ Dark"),
        title = t("Báo cáo KPI", "KPI reports"),
        lede = t(
            "Hoa Sen Spa: chuỗi spa ba chi nhánh với một năm dữ liệu mẫu — khảo sát NPS, CSAT, CES qua email, Zalo, SMS và web; phiếu hỗ trợ của mười hai nhân viên; khách tiềm năng, hợp đồng, đơn hàng, thẻ thành viên và chiến dịch. Mỗi bảng là một thẻ <kpi-widget>: chép thẻ dưới bảng vào trang CRM của bạn.",
            "Hoa Sen Spa: a chain of three spas with a year of sample data — NPS, CSAT and CES surveys over e-mail, Zalo, SMS and the web; support tickets of twelve agents; leads, deals, orders, memberships and campaigns. Each board is one <kpi-widget> tag: copy the tag under it into a page of your CRM.",
        ),
        loader = t(
            "Trang CRM nạp widget một lần:",
            "The CRM page loads the widget once:",
        ),
    );
    let mut resp = Response::from_html(html)?;
    resp.headers_mut().set("cache-control", "no-store")?;
    Ok(resp)
}

fn tab(id: &str, label: String, selected: bool) -> String {
    format!(
        "<a role=\"tab\" id=\"tab-{id}\" href=\"#{id}\" aria-controls=\"{id}\" aria-selected=\"{selected}\">{label}</a>"
    )
}

const STYLE: &str = "\
:root{--bg:#eef2f1;--panel:#fff;--fg:#1c2430;--muted:#52606d;--line:#d5dde0;--brand:#0f766e;--brand-fg:#fff;--code:#f4f7f7;color-scheme:light}\
[data-theme=dark]{--bg:#0b1220;--panel:#111a2b;--fg:#e6ebf2;--muted:#a7b3c2;--line:#263349;--brand:#14b8a6;--brand-fg:#06201d;--code:#0d1626;color-scheme:dark}\
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:var(--bg);color:var(--fg)}\
.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 20px;background:var(--panel);border-bottom:1px solid var(--line)}\
.brand{display:flex;align-items:center;gap:8px}.brand small{color:var(--muted)}\
.logo{display:inline-grid;place-items:center;width:30px;height:30px;border-radius:8px;background:var(--brand);color:var(--brand-fg);font-weight:700;font-size:13px}\
.menu{display:flex;gap:14px;flex:1 1 auto}.menu a{color:var(--muted)}.menu a[aria-current]{color:var(--fg);font-weight:600}\
.switches{display:flex;gap:10px;flex-wrap:wrap}.switches div{display:inline-flex;border:1px solid var(--line);border-radius:8px;overflow:hidden}\
.switches a{padding:4px 10px;color:var(--fg);text-decoration:none;font-size:13px}.switches a[aria-pressed=true]{background:var(--brand);color:var(--brand-fg)}\
main{max-width:1200px;margin:0 auto;padding:20px}h1{font-size:1.4rem;margin:0 0 6px}h2{font-size:1rem;margin:0 0 10px}\
.lede{color:var(--muted);margin:0 0 16px;max-width:75ch}\
.tabs{display:flex;flex-wrap:wrap;gap:4px;border-bottom:1px solid var(--line);margin-bottom:16px}\
.tabs a{padding:8px 14px;color:var(--muted);text-decoration:none;border:1px solid transparent;border-bottom:0;border-radius:8px 8px 0 0}\
.tabs a[aria-selected=true]{background:var(--panel);color:var(--fg);border-color:var(--line);font-weight:600;margin-bottom:-1px}\
.tabs a:focus-visible,.switches a:focus-visible{outline:2px solid var(--brand);outline-offset:2px}\
section{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px}\
.caption{margin-top:12px;font-size:14px;color:var(--muted)}.caption p{margin:0 0 6px}\
pre{margin:0;padding:10px 12px;background:var(--code);border:1px solid var(--line);border-radius:8px;overflow-x:auto}\
code{font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--fg);white-space:pre-wrap;overflow-wrap:anywhere}\
.twins{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:16px}\
.loader{margin:20px 0 6px;color:var(--muted);font-size:14px}\
@media (max-width:480px){main{padding:12px}.top{padding:10px 12px}section{padding:10px}.menu{display:none}\
.tabs{border:0;gap:6px}.tabs a{padding:5px 12px;border:1px solid var(--line);border-radius:999px}\
.tabs a[aria-selected=true]{margin:0;background:var(--brand);color:var(--brand-fg);border-color:var(--brand)}}";

/// Classic script, run before the widget's module: the page's origin as every widget's
/// endpoint, the language and theme from the address, tabs, switches and the tags shown.
const SCRIPT: &str = r#"(() => {
const q = new URLSearchParams(location.search);
const state = { lang: q.get('lang') === 'en' ? 'en' : 'vi', theme: q.get('theme') === 'dark' ? 'dark' : 'light' };
const widgets = [...document.querySelectorAll('kpi-widget')];
for (const w of widgets) w.setAttribute('endpoint', location.origin);
const tagOf = (el) => '<kpi-widget ' + el.getAttributeNames().filter((n) => n !== 'id')
  .map((n) => `${n}="${el.getAttribute(n)}"`).join(' ') + '></kpi-widget>';
const offline = document.getElementById('offline-board');
function render() {
  const { lang, theme } = state;
  document.documentElement.lang = lang;
  document.documentElement.dataset.theme = theme;
  for (const w of widgets) { w.setAttribute('lang', lang); w.setAttribute('theme', theme); }
  for (const e of document.querySelectorAll('[data-vi]')) e.textContent = e.dataset[lang];
  for (const c of document.querySelectorAll('code[data-tag-of]')) c.textContent = tagOf(document.getElementById(c.dataset.tagOf));
  const attrs = {};
  for (const m of offline.dataset.attrs.matchAll(/(\w+)="([^"]*)"/g)) attrs[m[1]] = m[2];
  Object.assign(attrs, { lang, theme });
  offline.demoOptions = attrs;
  document.getElementById('offline-code').textContent =
    `<div id="kpis"></div>\n<script type="module">\n  import { mount } from '${location.origin}/widget/kpi-widget.js';\n` +
    `  const ROLLUPS = /* GET /v1/rollups, fetched by your server with the secret key */;\n` +
    `  mount(document.getElementById('kpis'), { data: ROLLUPS, ${Object.entries(attrs).map(([k, v]) => `${k}: '${v}'`).join(', ')} });\n<\/script>`;
  document.getElementById('loader-code').textContent = `<script type="module" src="${location.origin}/widget/kpi-widget.js"><\/script>`;
  for (const a of document.querySelectorAll('[data-set-lang]')) a.setAttribute('aria-pressed', String(a.dataset.setLang === lang));
  for (const a of document.querySelectorAll('[data-set-theme]')) a.setAttribute('aria-pressed', String(a.dataset.setTheme === theme));
  history.replaceState(null, '', `?lang=${lang}&theme=${theme}${location.hash}`);
  dispatchEvent(new CustomEvent('demo-settings'));
}
function show(id) {
  if (!document.getElementById(id) || id === '') id = 'service';
  for (const t of document.querySelectorAll('[role=tab]')) t.setAttribute('aria-selected', String(t.getAttribute('aria-controls') === id));
  for (const p of document.querySelectorAll('[role=tabpanel]')) p.hidden = p.id !== id;
}
for (const a of document.querySelectorAll('[data-set-lang]')) a.addEventListener('click', (e) => { e.preventDefault(); state.lang = a.dataset.setLang; render(); });
for (const a of document.querySelectorAll('[data-set-theme]')) a.addEventListener('click', (e) => { e.preventDefault(); state.theme = a.dataset.setTheme; render(); });
for (const t of document.querySelectorAll('[role=tab]')) t.addEventListener('click', (e) => {
  e.preventDefault(); const id = t.getAttribute('aria-controls'); history.replaceState(null, '', '#' + id); show(id);
});
addEventListener('hashchange', () => show(location.hash.slice(1)));
show(location.hash.slice(1));
render();
})();"#;

/// The offline board, mounted again into a fresh element when the language or theme changes
/// (the element records the options it was mounted with).
const MODULE: &str = r#"import { mount } from '/widget/kpi-widget.js';
const board = document.getElementById('offline-board');
const data = JSON.parse(document.getElementById('rollups').textContent);
let queue = Promise.resolve();
let handle;
function draw() {
  if (!data) { board.textContent = 'No rollups are registered: run cargo xtask run.'; return; }
  queue = queue.then(async () => {
    const host = document.createElement('div');
    const options = { ...board.demoOptions };
    host.dataset.options = JSON.stringify(options);
    const next = await mount(host, { data, ...options });
    handle?.unmount();
    board.replaceChildren(host);
    handle = next;
  }).catch((e) => console.error(e));
}
addEventListener('demo-settings', draw);
draw();"#;
