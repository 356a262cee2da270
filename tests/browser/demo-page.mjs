// The demo CRM page (/demo) as the browser tests and the screenshots see it: which boards it
// has, how to open it in a language and theme, and how to wait until a board shows numbers.

// Every board of the page: its tab, and the widget that renders it.
export const BOARDS = [
  { tab: 'service', widget: '#w-service' },
  { tab: 'sales', widget: '#w-sales' },
  { tab: 'marketing', widget: '#w-marketing' },
  { tab: 'success', widget: '#w-success' },
  { tab: 'agents', widget: '#w-agents' },
  { tab: 'offline', widget: '#w-online' },
  { tab: 'offline', widget: '#offline-board > div' },
];

export function demoUrl(base, { lang = 'vi', theme = 'light', tab = 'service' } = {}) {
  return `${base}/demo?lang=${lang}&theme=${theme}#${tab}`;
}

// Waits until the widget `sel` shows its tiles: skeleton gone, one tile per KPI with its
// value written (a number or the no-data text), and its number of tiles is `count` if given.
export async function rendered(page, sel, { timeout = 30_000 } = {}) {
  await page.waitForFunction((sel) => {
    const host = document.querySelector(sel);
    const root = host?.shadowRoot;
    if (!root || root.querySelector('[aria-busy=true], .skel')) return false;
    const tiles = root.querySelectorAll('[data-kpi]');
    return tiles.length > 0 && [...tiles].every((t) => t.querySelector('[data-role=value]')?.textContent);
  }, sel, { timeout });
}

// Every tile of widget `sel`: id → {value, text, n, label, status, segments}, as rendered.
export function tiles(page, sel) {
  return page.locator(sel).evaluate((host) => {
    const out = {};
    for (const t of host.shadowRoot.querySelectorAll('[data-kpi]')) {
      const v = t.querySelector('[data-role=value]');
      const d = t.querySelector('[data-role=delta]');
      out[t.dataset.kpi] = {
        // The change against the previous period: whether it is real, and told quietly when not.
        significant: d?.dataset.significant ?? null,
        quiet: d?.classList.contains('quiet') ?? false,
        tooltip: d?.getAttribute('title') ?? null,
        // The days behind the value when they are not the period's (CLV's trailing year).
        window: (() => {
          const w = t.querySelector('[data-role=window]');
          return w ? { from: w.dataset.from, to: w.dataset.to } : null;
        })(),
        value: v.dataset.value === undefined ? null : Number(v.dataset.value),
        text: v.textContent,
        n: t.querySelector('[data-role=n]')?.dataset.value,
        label: t.querySelector('h3')?.textContent,
        status: t.querySelector('[data-role=status]')?.dataset.status ?? null,
        rows: [...t.querySelectorAll('[data-role=leaderboard] li[data-name], [data-role=channels] li[data-name]')]
          .map((li) => ({ name: li.dataset.name, value: li.dataset.value === undefined ? null : Number(li.dataset.value) })),
      };
    }
    return out;
  });
}

// The `/v1/kpis` query a widget's attributes stand for (what the widget asks for).
export async function queryOf(page, sel) {
  return page.locator(sel).evaluate((host) => {
    const presets = {
      service: 'csat,nps,first_response_time,fcr,backlog,service_level',
      sales: 'conversion_rate,stage_conversion,pipeline_value,sales_cycle_length,average_order_value,revenue_per_rep',
      marketing: 'total_leads,cost_per_lead,cost_per_acquisition,roi,ctr,email_open_rate,email_click_rate',
      success: 'churn_rate,retention_rate,mrr,clv,renewal_rate,health_score',
    };
    // A <kpi-widget>'s attributes, or the options the offline board was mounted with.
    const a = host.tagName === 'KPI-WIDGET'
      ? Object.fromEntries(host.getAttributeNames().map((n) => [n, host.getAttribute(n)]))
      : JSON.parse(host.dataset.options);
    const metrics = a.metrics || presets[a.preset];
    const q = new URLSearchParams({ metrics, period: a.period || 'month', compare: a.compare || 'previous', lang: a.lang || 'vi' });
    if (a.segment) q.set('segment', a.segment);
    return q.toString();
  });
}
