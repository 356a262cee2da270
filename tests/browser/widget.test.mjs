// The embedded widget in a real browser: the demo CRM page, values equal to the API's, and a
// host page's hostile CSS leaving the tiles untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, launch, newTenant, ADMIN, ARTIFACTS, BASE } from './harness.mjs';

let browser;
let tenant;
const VALUE = '#main-widget [data-kpi="nps"] [data-role="value"]';

before(async () => {
  browser = await launch();
  tenant = await newTenant('browser-demo', [BASE]);
  // 40 answers over the last few hours: 24 promoters, 8 passives, 8 detractors → NPS 40.
  const now = Date.now();
  const scores = [...Array(24).fill(10), ...Array(8).fill(8), ...Array(8).fill(3)];
  const responses = scores.map((score, i) => ({ id: `b-${i}`, survey: 'nps', score, at: now - i * 60_000, channel: i % 2 ? 'zalo' : 'email' }));
  const imp = await api('POST', '/v1/responses/import', { bearer: tenant.sk, body: { responses } });
  assert.equal(imp.status, 200, imp.text);
  const reg = await api('PUT', '/admin/demo', { bearer: ADMIN, body: { tenant: tenant.id, publishable_key: tenant.pk } });
  assert.equal(reg.status, 200, reg.text);
});
after(async () => { await browser.close(); });

async function apiNps(query) {
  const r = await api('GET', `/v1/kpis?metrics=nps&${query}&key=${tenant.pk}`, { origin: BASE });
  assert.equal(r.status, 200, r.text);
  return r.json.kpis[0];
}

test('the demo page shows the NPS tile inside an open shadow root, equal to the API', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1200, height: 900 });
  const started = Date.now();
  await page.goto(`${BASE}/demo`);
  const value = page.locator(VALUE);
  await value.waitFor({ timeout: 20_000 });
  const firstTilesMs = Date.now() - started;
  console.log(`# page load to first tile: ${firstTilesMs} ms`);
  const isShadow = await page.evaluate(() => {
    const host = document.querySelector('#main-widget');
    return !!host.shadowRoot && host.shadowRoot.querySelector('[data-kpi]') !== null && host.querySelector('[data-kpi]') === null;
  });
  assert.ok(isShadow, 'tiles live in the open shadow root, not the light DOM');
  const expected = await apiNps('period=quarter&compare=previous&lang=vi');
  assert.equal(expected.value, 40);
  assert.equal(Number(await value.getAttribute('data-value')), expected.value);
  const n = page.locator('#main-widget [data-kpi="nps"] [data-role="n"]');
  assert.equal(Number(await n.getAttribute('data-value')), expected.n);
  await page.screenshot({ path: join(ARTIFACTS, 'demo-1200.png'), fullPage: true });
  await page.close();
});

test('a hostile host stylesheet leaves the tile unchanged', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${BASE}/demo`);
  const value = page.locator(VALUE);
  await value.waitFor({ timeout: 20_000 });
  const style = () => value.evaluate((el) => {
    const s = getComputedStyle(el);
    return { color: s.color, fontSize: s.fontSize, fontFamily: s.fontFamily };
  });
  const before = await style();
  await page.addStyleTag({ content: '* { color: red !important; font-size: 40px !important }' });
  const after = await style();
  assert.deepEqual(after, before);
  assert.notEqual(after.color, 'rgb(255, 0, 0)');
  const hostColor = await page.locator('header').evaluate((el) => getComputedStyle(el).color);
  assert.equal(hostColor, 'rgb(255, 0, 0)', 'the hostile rule did apply to the host page');
  await page.screenshot({ path: join(ARTIFACTS, 'demo-hostile-1200.png'), fullPage: true });
  await page.close();
});
