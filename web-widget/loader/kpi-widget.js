// <kpi-widget>: the stable entry of the KPI widget, served at /widget/kpi-widget.js.
// It defines the element, draws a skeleton at once, and downloads the WebAssembly (one
// instance per page, shared by every widget) only when a widget comes near the viewport.
// `cargo xtask build-widget` fills in the content-hashed file names below.
const GLUE = new URL('__GLUE_FILE__', import.meta.url);
const WASM = new URL('__WASM_FILE__', import.meta.url);
const OFFLINE_GLUE = new URL('__OFFLINE_GLUE__', import.meta.url);
const OFFLINE_WASM = new URL('__OFFLINE_WASM__', import.meta.url);
const HERE = new URL(import.meta.url).origin;
const ATTRS = ['endpoint', 'key', 'metrics', 'preset', 'period', 'compare', 'lang', 'theme', 'refresh', 'segment'];

// `preset` picks a department's board when `metrics` is not given (widget.md).
const PRESETS = {
  service: 'csat,nps,first_response_time,fcr,backlog,service_level',
  sales: 'conversion_rate,stage_conversion,pipeline_value,sales_cycle_length,average_order_value,revenue_per_rep',
  marketing: 'total_leads,cost_per_lead,cost_per_acquisition,roi,ctr,email_open_rate,email_click_rate',
  success: 'churn_rate,retention_rate,mrr,clv,renewal_rate,health_score',
};
const metricsOf = (get) => get('metrics') || PRESETS[get('preset')] || 'nps';

// Styles reach the shadow root as a constructed sheet: a host page's CSP needs no
// 'unsafe-inline', and no host rule can reach inside. `--kpi-*` on the element theme it.
const DARK =
  '--_bg:var(--kpi-bg,#0f172a);--_tile:var(--kpi-tile-bg,#1e293b);--_fg:var(--kpi-fg,#f1f5f9);' +
  '--_muted:var(--kpi-muted,#cbd5e1);--_border:var(--kpi-border,#334155);--_accent:var(--kpi-accent,#60a5fa);' +
  '--_on-accent:#0f172a;--_good:var(--kpi-good,#4ade80);--_warn:var(--kpi-warn,#fbbf24);' +
  '--_bad:var(--kpi-bad,#f87171);--_neutral:#64748b;';
const CSS = `
:host{display:block;contain:content}
:host([hidden]){display:none}
.root{all:initial;display:block;container-type:inline-size;font:14px/1.45 var(--kpi-font,system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif);
--_bg:var(--kpi-bg,#fff);--_tile:var(--kpi-tile-bg,#f8fafc);--_fg:var(--kpi-fg,#111827);--_muted:var(--kpi-muted,#475569);
--_border:var(--kpi-border,#e2e8f0);--_accent:var(--kpi-accent,#2563eb);--_on-accent:#fff;--_good:var(--kpi-good,#15803d);
--_warn:var(--kpi-warn,#b45309);--_bad:var(--kpi-bad,#b91c1c);--_neutral:#94a3b8;--_radius:var(--kpi-radius,10px);color:var(--_fg)}
.root[data-theme=dark]{${DARK}}
@media (prefers-color-scheme:dark){.root[data-theme=auto]{${DARK}}}
*{box-sizing:border-box}
.widget{display:flex;flex-direction:column;gap:12px;padding:12px;background:var(--_bg);border:1px solid var(--_border);border-radius:var(--_radius)}
.bar{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px}
.bar:empty{display:none}
.periods{display:inline-flex;flex-wrap:wrap;gap:2px;padding:2px;border:1px solid var(--_border);border-radius:8px}
button{font:inherit;font-size:13px;color:var(--_fg);background:transparent;border:1px solid transparent;border-radius:6px;padding:3px 9px;min-height:28px;cursor:pointer}
button:hover{border-color:var(--_border)}
button[aria-pressed=true]{background:var(--_accent);color:var(--_on-accent)}
button:focus-visible{outline:2px solid var(--_accent);outline-offset:2px}
.period{font-size:12px;color:var(--_muted)}
.stale{font-size:12px;color:var(--_warn);border:1px solid currentColor;border-radius:999px;padding:1px 8px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,230px),1fr));gap:12px}
.tile{display:flex;flex-direction:column;gap:6px;min-width:0;padding:12px 14px;background:var(--_tile);border:1px solid var(--_border);border-radius:var(--_radius)}
h3,h4,p,ul,ol{margin:0}
.label{font-size:13px;font-weight:600;color:var(--_muted);overflow-wrap:anywhere}
.value{font-size:32px;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}
.status,.delta{display:flex;flex-wrap:wrap;gap:0 6px;font-size:13px;font-weight:600}
.on-track,.good{color:var(--_good)}.at-risk,.badge{color:var(--_warn)}.off-track,.bad{color:var(--_bad)}
.flat,.muted,.meta,.legend{color:var(--_muted)}
.delta .muted,.quiet{font-weight:400}
.muted,.meta,.legend{font-size:12px}
.meta{display:flex;flex-wrap:wrap;gap:2px 10px}
.meta:empty{display:none}
.badge{font-weight:600}
.stack{display:block;border-radius:4px;margin-top:4px}
.det{fill:var(--_bad);background:var(--_bad)}.pas{fill:var(--_neutral);background:var(--_neutral)}.pro{fill:var(--_good);background:var(--_good)}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:2px 10px}
.sw{display:inline-block;width:8px;height:8px;border-radius:2px;margin-right:4px}
.spark{display:block;overflow:visible}
.spark polyline{stroke:var(--_accent);stroke-width:2;stroke-linejoin:round}
.sub{display:flex;flex-direction:column;gap:4px;margin-top:2px}
.sub-title{margin:0;font-size:12px;font-weight:600;color:var(--_muted)}
.rows{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:3px;font-size:13px}
.row{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 8px}
.name{flex:1 1 6em;min-width:0;overflow-wrap:anywhere}
.fig{font-weight:600;font-variant-numeric:tabular-nums}
.row .muted{font-size:12px}
.bar{display:block;flex-basis:100%}.bar rect{fill:var(--_accent)}
.error{padding:12px;border:1px solid var(--_bad);border-radius:var(--_radius);background:var(--_tile)}
.error-title{font-weight:700;color:var(--_bad)}
.error button{margin-top:8px;border-color:var(--_accent);color:var(--_accent)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skel{min-height:132px}
.sk{height:10px;width:80%;border-radius:4px;background:var(--_border);animation:kpi-pulse 1.2s ease-in-out infinite}
.sk-l{height:12px;width:55%}.sk-v{height:32px;width:40%}
@container (max-width:300px){.periods{display:flex;width:100%}.periods button{flex:1 1 auto;padding:3px 4px;font-size:12px}}
@keyframes kpi-pulse{50%{opacity:.45}}
@media (prefers-reduced-motion:reduce){.sk{animation:none}}
`;

let sheet;
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

// The glue and the wasm, fetched and instantiated once per page. A failed download is
// forgotten so that Retry tries again.
let runtime;
function load() {
  runtime ??= import(GLUE.href)
    .then(async (m) => {
      await m.default({ module_or_path: WASM });
      return m;
    })
    .catch((e) => {
      runtime = undefined;
      throw e;
    });
  return runtime;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

// The open shadow root and the one container the wasm renders into.
function shell(host, theme) {
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  root.adoptedStyleSheets = [styles()];
  let box = root.querySelector(':scope > .root');
  if (!box) {
    box = el('div', 'root');
    box.setAttribute('part', 'root');
    root.append(box);
  }
  box.setAttribute('data-theme', theme || 'light');
  return box;
}

function skeleton(box, n) {
  const w = el('div', 'widget');
  const tiles = el('div', 'tiles');
  w.setAttribute('aria-busy', 'true');
  for (let i = 0; i < n; i++) {
    const t = el('div', 'tile skel');
    t.setAttribute('aria-hidden', 'true');
    t.append(el('div', 'sk sk-l'), el('div', 'sk sk-v'), el('div', 'sk'));
    tiles.append(t);
  }
  w.append(tiles);
  box.replaceChildren(w);
}

function failed(box, lang, retry) {
  const en = lang === 'en';
  const w = el('div', 'error');
  w.setAttribute('role', 'alert');
  w.setAttribute('data-role', 'error');
  w.setAttribute('data-error', 'load');
  const b = el('button', '', en ? 'Retry' : 'Thử lại');
  b.type = 'button';
  b.addEventListener('click', retry);
  w.append(el('p', 'error-title', en ? 'Could not load the widget' : 'Không tải được widget'), b);
  box.replaceChildren(w);
}

const count = (metrics) => Math.min(12, Math.max(1, metrics.split(',').filter((s) => s.trim()).length));

class KpiWidget extends HTMLElement {
  static observedAttributes = ATTRS;
  #box;
  #handle;
  #io;
  #near = false;
  #run = 0;

  connectedCallback() {
    this.#box = shell(this, this.getAttribute('theme'));
    if (this.#near) return void this.#mount();
    skeleton(this.#box, count(metricsOf((a) => this.getAttribute(a))));
    this.#io = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        this.#io.disconnect();
        this.#near = true;
        this.#mount();
      },
      { rootMargin: '200px' },
    );
    this.#io.observe(this);
  }

  disconnectedCallback() {
    this.#io?.disconnect();
    this.#run++;
    this.#unmount();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.#box) return;
    if (name === 'theme') this.#box.setAttribute('data-theme', value || 'light');
    else if (this.#near && this.isConnected) this.#mount();
  }

  #unmount() {
    this.#handle?.free();
    this.#handle = undefined;
  }

  // Several attribute changes in one task end in one mount: each call supersedes the last.
  async #mount() {
    const run = ++this.#run;
    let m;
    try {
      m = await load();
    } catch {
      if (run === this.#run) failed(this.#box, this.getAttribute('lang'), () => this.#mount());
      return;
    }
    if (run !== this.#run || !this.isConnected) return;
    this.#unmount();
    this.#box.replaceChildren();
    const config = {};
    for (const a of ATTRS) config[a] = this.getAttribute(a) ?? '';
    config.endpoint ||= HERE;
    config.metrics = metricsOf((a) => config[a]);
    this.#handle = m.mount_widget(this.#box, config);
  }
}

if (!customElements.get('kpi-widget')) customElements.define('kpi-widget', KpiWidget);

// The offline compute module (kpi-core's reports from day rollups), fetched only by mount().
let offline;
function loadOffline() {
  offline ??= import(OFFLINE_GLUE.href)
    .then(async (m) => {
      await m.default({ module_or_path: OFFLINE_WASM });
      return m;
    })
    .catch((e) => {
      offline = undefined;
      throw e;
    });
  return offline;
}

/**
 * Renders the dashboard into `element` (any element that can hold a shadow root) from day
 * rollups the page already holds, with no network beyond the widget's own files: `data` is a
 * `GET /v1/rollups` answer (object or JSON text); the KPIs are computed in the browser by
 * kpi-core, as the worker computes them. Options as the element's attributes: `metrics` or
 * `preset`, `period`, `compare`, `lang`, `theme`, `segment`, and `at` (a day inside the
 * period; default the data's last day). Returns a handle with `unmount()`.
 */
export async function mount(element, { data, at = '', ...attrs } = {}) {
  const get = (a) => attrs[a] ?? '';
  const box = shell(element, get('theme'));
  const metrics = metricsOf(get);
  skeleton(box, count(metrics));
  const [m, off] = await Promise.all([load(), loadOffline()]);
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? {});
  let board;
  // Read once; a source that throws shows the widget's "unexpected data" state.
  const source = (q) => {
    board ??= new off.Board(text);
    return board.kpis(q.metrics, q.period, q.compare, q.lang, q.segment, at);
  };
  box.replaceChildren();
  const config = { source, metrics };
  for (const a of ATTRS) if (a !== 'metrics') config[a] ??= String(get(a));
  const handle = m.mount_widget(box, config);
  // The dashboard lives as long as its element: a handle the caller drops would otherwise be
  // garbage-collected, and its finalizer would unmount the view.
  mounted.get(element)?.free();
  mounted.set(element, handle);
  return handle;
}
const mounted = new WeakMap();
