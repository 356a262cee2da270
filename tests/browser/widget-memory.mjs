// Memory of the embedded widget over many refreshes, for `cargo xtask bench` (not a test:
// it prints figures). A CRM-like page on the worker's origin embeds <kpi-widget>; each
// refresh switches the period (month ⇄ quarter), which frees the mounted view, fetches
// /v1/kpis and draws new tiles. After a forced GC we read the JS heap (CDP
// Performance.getMetrics) and the wasm linear memory; flat from the 10th refresh on = no leak.
// Env: KPI_TEST_URL, KPI_ADMIN_TOKEN (set by xtask), KPI_REFRESHES (default 100).
import { api, launch, newTenant, BASE } from './harness.mjs';

const REFRESHES = Number(process.env.KPI_REFRESHES || 100);
const tenant = await newTenant('bench-widget', [BASE]);
const now = Date.now();
const responses = Array.from({ length: 60 }, (_, i) => ({
  id: `m-${i}`, survey: i % 3 ? 'nps' : 'csat', score: i % 3 ? i % 11 : 1 + (i % 5),
  at: now - i * 60_000, channel: ['email', 'zalo', 'chat'][i % 3],
}));
const imp = await api('POST', '/v1/responses/import', { bearer: tenant.sk, body: { responses } });
if (imp.status !== 200) throw new Error(`import: ${imp.status} ${imp.text}`);

const browser = await launch();
const page = await browser.context.newPage();
// The host page is served by the browser itself on the worker's origin (an allowed origin).
await page.route(`${BASE}/bench-host`, (route) => route.fulfill({
  contentType: 'text/html',
  body: `<!doctype html><meta charset=utf-8><title>CRM</title>
<script type="module" src="/widget/kpi-widget.js"></script>
<kpi-widget id="w" key="${tenant.pk}" metrics="nps,csat,csat_mean,comments" period="month" compare="previous" lang="en"></kpi-widget>`,
}));
await page.goto(`${BASE}/bench-host`);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');

// Waits until the widget shows tiles other than `old` (a fresh mount after a refresh).
const rendered = (old) => page.waitForFunction((old) => {
  const v = document.querySelector('#w').shadowRoot?.querySelector('[data-kpi="nps"] [data-role="value"]');
  return v && v.isConnected && v !== window[old] ? ((window.__last = v), true) : false;
}, old, { timeout: 20_000 });

async function sample(refreshes) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const wasm = await page.evaluate(async () => {
    // The glue module is the one other script under /widget/; a second init returns the
    // already instantiated exports, memory included.
    const glue = performance.getEntriesByType('resource').map((e) => e.name)
      .find((n) => /\/widget\/kpi-widget-[0-9a-f]+\.js$/.test(n));
    const exports = await (await import(glue)).default();
    return exports.memory.buffer.byteLength;
  });
  return { refreshes, js_heap_used: m.JSHeapUsedSize, js_heap_total: m.JSHeapTotalSize, dom_nodes: m.Nodes, wasm_memory: wasm };
}

await rendered('__none');
const samples = [await sample(0)];
const at = new Set([1, 10, 25, 50, 75, REFRESHES]);
for (let i = 1; i <= REFRESHES; i++) {
  await page.evaluate((p) => document.querySelector('#w').setAttribute('period', p), i % 2 ? 'quarter' : 'month');
  await rendered('__last');
  if (at.has(i)) samples.push(await sample(i));
}
console.log(`KPI_WIDGET_MEMORY ${JSON.stringify(samples)}`);
await browser.close();
