// <kpi-widget> pasted into foreign pages, in headless Chromium: pages served by a stand-in CRM
// on its own origin (crm.mjs), a tenant whose allowed origin is that CRM, and real data sent
// through the API. Every value a tile shows is checked against GET /v1/kpis for the same
// period; the pages are hostile (Bootstrap + `* { all: revert }`), locked down (strict CSP),
// or have no KPI server at all (offline mount from inline rollups).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { api, launch, newTenant, ARTIFACTS, BASE } from './harness.mjs';
import { startCrm, DIST } from './crm.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const METRICS = 'nps,roi,average_order_value,first_response_time,stage_conversion';
let browser;
let crm;
let tenant;

const iso = (ms) => new Date(ms).toISOString();

before(async () => {
  browser = await launch();
  crm = await startCrm();
  tenant = await newTenant('embed', [crm.origin]);
  // Everything happened in the last minutes, so every period kind holds it (except across a
  // local midnight, which the API and the widget then agree on anyway).
  const now = Date.now();
  const scores = [...Array(24).fill(10), ...Array(8).fill(7), ...Array(8).fill(2)];
  const responses = scores.map((score, i) => ({ id: `e-${i}`, survey: 'nps', score, at: now - i * 1000, channel: i % 2 ? 'zalo' : 'email' }));
  const imp = await api('POST', '/v1/responses/import', { bearer: tenant.sk, body: { responses } });
  assert.equal(imp.status, 200, imp.text);
  const t0 = now - 100 * 60_000;
  const tickets = [
    // chat: 3 and 4 minutes against chat's 5 minutes; e-mail: 90 minutes against 1 hour.
    { id: 'T1', channel: 'chat', opened_at: iso(t0), first_response_at: iso(t0 + 180_000), agent: 'Lan' },
    { id: 'T2', channel: 'chat', opened_at: iso(t0), first_response_at: iso(t0 + 240_000), agent: 'Minh' },
    { id: 'T3', channel: 'email', opened_at: iso(t0), first_response_at: iso(t0 + 90 * 60_000), agent: XSS },
  ];
  const tk = await api('POST', '/v1/tickets', { bearer: tenant.sk, body: { tickets } });
  assert.equal(tk.status, 200, tk.text);
  const at = iso(now - 60_000);
  const events = [
    // ROI (1 334 500 − 100 000) ÷ 100 000 = 1 234,5 %; orders 1 334 500 and 134 500 ₫.
    { id: 's1', type: 'spend', at, channel: 'web', campaign: 'tet', amount: 100_000, currency: 'VND' },
    { id: 'o1', type: 'order.placed', at, customer: 'c1', campaign: 'tet', amount: 1_334_500, currency: 'VND' },
    { id: 'o2', type: 'order.placed', at, customer: 'c2', amount: 134_500, currency: 'VND' },
    // A pipeline: 3 deals interested, 2 at demo, 1 at a stage whose name is markup.
    ...['d1', 'd2', 'd3'].map((deal) => ({ id: `${deal}-i`, type: 'deal.stage', at, deal, stage: 'interested' })),
    ...['d1', 'd2'].map((deal) => ({ id: `${deal}-d`, type: 'deal.stage', at, deal, stage: 'demo', previous_stage: 'interested' })),
    { id: 'd1-x', type: 'deal.stage', at, deal: 'd1', stage: XSS, order: 9, previous_stage: 'demo' },
  ];
  const ev = await api('POST', '/v1/events', { bearer: tenant.sk, body: events });
  assert.equal(ev.status, 200, ev.text);
  assert.deepEqual(ev.json.rejected, [], ev.text);
});
after(async () => {
  await browser?.close();
  await crm?.close();
});

async function kpis(query) {
  const r = await api('GET', `/v1/kpis?${query}&key=${tenant.pk}`, { origin: crm.origin });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// kpi-core's number format, written independently: `1.234,5` (vi), `1,234.5` (en).
function num(v, decimals, lang) {
  const [int, frac] = Math.abs(v).toFixed(decimals).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'vi' ? '.' : ',');
  return (v < 0 ? '-' : '') + grouped + (frac ? (lang === 'vi' ? ',' : '.') + frac : '');
}

function widgetPage({ head = '', body = '', src = `${BASE}/widget/kpi-widget.js` } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CRM</title>${head}
<script type="module" src="${src}"></script></head><body>${body}</body></html>`;
}

const tag = (attrs) => `<kpi-widget ${Object.entries(attrs).map(([k, v]) => `${k}="${v}"`).join(' ')}></kpi-widget>`;

// Every tile of widget `sel`: id → {value, text, n} as rendered.
async function tiles(page, sel) {
  await page.locator(`${sel} [data-kpi]`).first().waitFor({ timeout: 20_000 });
  return page.locator(sel).evaluate((host) => {
    const out = {};
    for (const t of host.shadowRoot.querySelectorAll('[data-kpi]')) {
      const v = t.querySelector('[data-role=value]');
      out[t.dataset.kpi] = {
        value: v.dataset.value === undefined ? null : Number(v.dataset.value),
        text: v.textContent,
        n: t.querySelector('[data-role=n]')?.dataset.value,
      };
    }
    return out;
  });
}

function sameAsApi(shown, answer) {
  assert.deepEqual(Object.keys(shown), answer.kpis.map((k) => k.id), 'one tile per KPI, in order');
  for (const k of answer.kpis) {
    assert.equal(shown[k.id].value, k.value, `${k.id}: tile ${shown[k.id].value} vs API ${k.value}`);
    if (k.n !== undefined) assert.equal(Number(shown[k.id].n), k.n, `${k.id}: n`);
  }
}

test('tiles equal GET /v1/kpis in vi and en, with their number formats, per-channel times and the funnel', async () => {
  const url = crm.page('/values.html', widgetPage({
    body: tag({ id: 'vi', endpoint: BASE, key: tenant.pk, metrics: METRICS, period: 'year', lang: 'vi' }) +
      tag({ id: 'en', endpoint: BASE, key: tenant.pk, metrics: METRICS, period: 'year', lang: 'en' }),
  }));
  const page = await browser.context.newPage();
  const started = Date.now();
  await page.goto(url);
  await page.locator('#vi [data-kpi]').first().waitFor({ timeout: 20_000 });
  console.log(`# page load to first tile (cross-origin embed, Chromium): ${Date.now() - started} ms`);
  for (const lang of ['vi', 'en']) {
    const answer = await kpis(`metrics=${METRICS}&period=year&compare=previous&lang=${lang}`);
    const shown = await tiles(page, `#${lang}`);
    sameAsApi(shown, answer);
    const by = Object.fromEntries(answer.kpis.map((k) => [k.id, k]));
    assert.equal(by.nps.value, 40);
    assert.equal(shown.nps.text, num(40, 1, lang));
    assert.equal(by.roi.value, 1234.5);
    assert.equal(shown.roi.text, lang === 'vi' ? '1.234,5%' : '1,234.5%');
    assert.equal(shown.roi.text, `${num(by.roi.value, 1, lang)}%`);
    assert.equal(shown.average_order_value.text, lang === 'vi' ? '734.500 ₫' : '734,500 ₫');
    // The tile's label is the API's label in that language.
    const label = await page.locator(`#${lang} [data-kpi=nps] h3`).textContent();
    assert.equal(label, by.nps.label);
  }
  // Response times: median and p90 per channel, each against its channel's target.
  const frt = (await kpis('metrics=first_response_time&period=year&segment=channel&lang=en')).kpis[0];
  const rows = await page.locator('#en [data-kpi=first_response_time] [data-role=channels] li').evaluateAll((lis) =>
    lis.map((li) => ({ name: li.dataset.name, value: Number(li.dataset.value), text: li.textContent, status: li.querySelector('[data-status]')?.dataset.status })));
  assert.deepEqual(rows.map((r) => r.name).sort(), ['Chat', 'Email']);
  const chat = rows.find((r) => r.name === 'Chat');
  const email = rows.find((r) => r.name === 'Email');
  assert.equal(chat.value, frt.segments.chat.value);
  assert.equal(email.value, frt.segments.email.value);
  assert.match(chat.text, /p90/);
  assert.equal(chat.status, 'on-track', chat.text);
  assert.equal(email.status, 'off-track', email.text);
  assert.match(email.text, /≤ 1 h/);
  // The pipeline funnel, widest stage first, the markup stage name as text.
  const stages = await page.locator('#en [data-kpi=stage_conversion] [data-role=funnel] li').evaluateAll((lis) =>
    lis.map((li) => [li.dataset.name, Number(li.dataset.value)]));
  assert.deepEqual(stages, [['interested', 3], ['demo', 2], [XSS, 1]]);
  await page.close();
});

test('Bootstrap and hostile host rules change neither the tiles nor, through the widget, the host page', async () => {
  const hostile = '<style>* { all: revert; color: red !important } div { display: inline !important }</style>';
  const host = '<div class="container"><h1 class="display-6">CRM</h1><p id="para" class="lead">Khách hàng</p>' +
    '<button id="btn" class="btn btn-primary">Lưu</button></div>';
  const w = tag({ id: 'w', endpoint: BASE, key: tenant.pk, metrics: 'nps,roi', period: 'year' });
  const plain = crm.page('/plain.html', widgetPage({ body: host + w }));
  const bare = crm.page('/bare.html', widgetPage({ head: '<link rel="stylesheet" href="/bootstrap.css">' + hostile, body: host }));
  const hostileUrl = crm.page('/hostile.html', widgetPage({ head: '<link rel="stylesheet" href="/bootstrap.css">' + hostile, body: host + w }));
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1200, height: 900 });
  const inside = () => page.locator('#w').evaluate((h) => {
    const pick = (el) => {
      const s = getComputedStyle(el);
      return { color: s.color, font: s.fontFamily, size: s.fontSize, display: s.display, bg: s.backgroundColor, pad: s.padding };
    };
    const r = h.shadowRoot;
    return {
      tiles: pick(r.querySelector('.tiles')),
      tile: pick(r.querySelector('[data-kpi=nps]')),
      value: pick(r.querySelector('[data-kpi=nps] [data-role=value]')),
      label: pick(r.querySelector('[data-kpi=nps] h3')),
      button: pick(r.querySelector('button[data-period]')),
    };
  });
  const outside = () => page.evaluate(() => Object.fromEntries(['para', 'btn'].map((id) => {
    const s = getComputedStyle(document.getElementById(id));
    return [id, { color: s.color, font: s.fontFamily, size: s.fontSize, display: s.display, bg: s.backgroundColor }];
  })));
  await page.goto(plain);
  await page.locator('#w [data-kpi=nps]').waitFor({ timeout: 20_000 });
  const own = await inside();
  await page.goto(hostileUrl);
  await page.locator('#w [data-kpi=nps]').waitFor({ timeout: 20_000 });
  const there = await inside();
  assert.deepEqual(there, own, 'the tiles keep their own font, colours and layout');
  assert.equal(there.tiles.display, 'grid');
  assert.equal(there.tile.display, 'flex');
  assert.notEqual(there.value.color, 'rgb(255, 0, 0)');
  const hostWithWidget = await outside();
  assert.equal(hostWithWidget.para.color, 'rgb(255, 0, 0)', 'the hostile rules do apply to the host page');
  await page.screenshot({ path: join(ARTIFACTS, 'embed-hostile-1200.png'), fullPage: true });
  await page.goto(bare);
  assert.deepEqual(await outside(), hostWithWidget, 'the widget changes nothing outside its shadow root');
  await page.close();
});

test('a strict CSP page: the widget works and no violation is reported', async () => {
  const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
  crm.page('/probe.js', "window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));", {}, 'text/javascript');
  // Everything from 'self': the CRM proxies /widget/* and /v1/* to the KPI service.
  const url = crm.page('/csp.html', `<!doctype html><html><head><meta charset="utf-8"><script src="/probe.js"></script>
<script type="module" src="/widget/kpi-widget.js"></script></head><body>
${tag({ id: 'w', key: tenant.pk, metrics: 'nps,first_response_time', period: 'year', lang: 'en' })}</body></html>`, { 'content-security-policy': csp });
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  sameAsApi(await tiles(page, '#w'), await kpis('metrics=nps,first_response_time&period=year&compare=previous&lang=en'));
  assert.equal(await page.evaluate(() => document.querySelector('#w').shadowRoot.adoptedStyleSheets.length), 1);
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(errors, [], 'no CSP error or script error in the console');
  // The probe itself works: an inline style attribute on this page is reported.
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<p style="color:red">x</p>'));
  await page.waitForFunction(() => window.violations.length > 0);
  assert.match((await page.evaluate(() => window.violations))[0], /^style-src/);
  await page.close();
});

test('keyboard: Tab reaches the period switcher, Enter and arrow keys change the period and the values', async () => {
  const url = crm.page('/keys.html', widgetPage({ body: tag({ id: 'w', endpoint: BASE, key: tenant.pk, metrics: 'nps', period: 'month', lang: 'en' }) }));
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.locator('#w [data-kpi=nps]').waitFor({ timeout: 20_000 });
  const focused = () => page.evaluate(() => document.querySelector('#w').shadowRoot.activeElement?.dataset.period ?? null);
  const pressed = () => page.locator('#w button[aria-pressed=true]').getAttribute('data-period');
  const check = async (period) => {
    await page.waitForFunction((p) => {
      const r = document.querySelector('#w').shadowRoot;
      return r.querySelector(`button[data-period=${p}][aria-pressed=true]`) && r.querySelector('[data-kpi=nps]');
    }, period);
    const answer = await kpis(`metrics=nps&period=${period}&compare=previous&lang=en`);
    sameAsApi(await tiles(page, '#w'), answer);
    const line = await page.locator('#w [data-role=period]').textContent();
    assert.ok(line.includes(answer.period.from) && line.includes(answer.period.to), `${line} vs ${JSON.stringify(answer.period)}`);
    return line;
  };
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'day', 'the first Tab lands on the first period button');
  const outline = await page.evaluate(() => getComputedStyle(document.querySelector('#w').shadowRoot.activeElement).outlineStyle);
  assert.equal(outline, 'solid', 'focus is visible');
  await page.keyboard.press('Enter');
  const day = await check('day');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), 'week');
  const week = await check('week');
  assert.notEqual(week, day);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await focused(), 'year', 'arrows wrap around');
  await check('year');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'quarter');
  await page.keyboard.press('Enter');
  await check('quarter');
  assert.equal(await pressed(), 'quarter');
  await page.close();
});

test('markup in CRM data (agent and stage names) shows as text and never runs', async () => {
  const url = crm.page('/xss.html', widgetPage({
    body: tag({ id: 'board', endpoint: BASE, key: tenant.pk, metrics: 'first_response_time', segment: 'agent', period: 'year', lang: 'en' }) +
      tag({ id: 'funnel', endpoint: BASE, key: tenant.pk, metrics: 'stage_conversion', period: 'year', lang: 'en' }),
  }));
  const page = await browser.context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(url);
  await page.locator('#board [data-role=leaderboard] li').first().waitFor({ timeout: 20_000 });
  await page.locator('#funnel [data-role=funnel] li').first().waitFor({ timeout: 20_000 });
  const board = await page.locator('#board [data-role=leaderboard] li').evaluateAll((lis) => lis.map((li) => [li.dataset.name, Number(li.dataset.value)]));
  const segs = (await kpis('metrics=first_response_time&period=year&segment=agent&lang=en')).kpis[0].segments;
  // Fastest first: first response time is better lower.
  assert.deepEqual(board, [['Lan', segs.Lan.value], ['Minh', segs.Minh.value], [XSS, segs[XSS].value]]);
  assert.equal(await page.locator('#board [data-role=leaderboard] li').nth(2).locator('.name').textContent(), XSS);
  assert.equal(await page.locator('#funnel [data-role=funnel] li').nth(2).locator('.name').textContent(), XSS);
  const imgs = await page.evaluate(() => [...document.querySelectorAll('kpi-widget')].map((w) => w.shadowRoot.querySelectorAll('img').length));
  assert.deepEqual(imgs, [0, 0]);
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no dialog opened');
  await page.close();
});

test('error states name the problem and recover: wrong key, origin not allowed, worker unreachable, stale after a failed refresh', async () => {
  const url = crm.page('/errors.html', `<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/widget/kpi-widget.js"></script></head><body>
${tag({ id: 'w', key: 'pk_wrong', metrics: 'nps', period: 'year', lang: 'en', refresh: '15' })}</body></html>`);
  const page = await browser.context.newPage();
  await page.clock.install();
  await page.goto(url);
  const error = page.locator('#w [data-role=error]');
  const nps = page.locator('#w [data-kpi=nps] [data-role=value]');
  const expected = (await kpis('metrics=nps&period=year&compare=previous&lang=en')).kpis[0].value;

  await error.waitFor({ timeout: 20_000 });
  assert.equal(await error.getAttribute('data-error'), 'bad_key');
  assert.match(await error.textContent(), /Invalid key/);
  await page.locator('#w').evaluate((w, k) => w.setAttribute('key', k), tenant.pk);
  await nps.waitFor();
  assert.equal(Number(await nps.getAttribute('data-value')), expected, 'a corrected key attribute re-renders');

  crm.state.mode = 'foreign';
  await page.locator('#w button[data-period=month]').click();
  await page.locator('#w [data-error=forbidden]').waitFor();
  assert.match(await error.textContent(), /origin is not allowed/);
  crm.state.mode = 'ok';
  await page.locator('#w [data-role=retry]').click();
  await page.locator('#w [data-kpi=nps]').waitFor();

  crm.state.mode = 'down';
  await page.locator('#w button[data-period=year]').click();
  await page.locator('#w [data-error=offline]').waitFor();
  assert.match(await error.textContent(), /Cannot reach the KPI service/);
  crm.state.mode = 'ok';
  await page.locator('#w [data-role=retry]').click();
  await nps.waitFor();
  assert.equal(Number(await nps.getAttribute('data-value')), expected, 'retry recovers');

  // A background refresh that fails keeps the tiles and marks them stale; the next one clears it.
  crm.state.mode = 'down';
  await page.clock.runFor(16_000);
  await page.locator('#w [data-role=stale]').waitFor();
  assert.equal(Number(await nps.getAttribute('data-value')), expected, 'the tiles stay');
  assert.match(await page.locator('#w [data-role=stale]').textContent(), /Stale/);
  crm.state.mode = 'ok';
  await page.clock.runFor(16_000);
  await page.locator('#w [data-role=stale]').waitFor({ state: 'detached' });
  await page.screenshot({ path: join(ARTIFACTS, 'embed-errors.png') });
  await page.close();
});

test('several widgets on one page stay independent, and attribute changes re-render', async () => {
  const url = crm.page('/many.html', widgetPage({
    body: tag({ id: 'a', endpoint: BASE, key: tenant.pk, metrics: 'nps', period: 'year', lang: 'vi' }) +
      tag({ id: 'b', endpoint: BASE, key: tenant.pk, preset: 'sales', period: 'year', lang: 'en' }),
  }));
  const page = await browser.context.newPage();
  await page.goto(url);
  const b = await tiles(page, '#b');
  sameAsApi(b, await kpis('metrics=conversion_rate,stage_conversion,pipeline_value,sales_cycle_length,average_order_value,revenue_per_rep&period=year&compare=previous&lang=en'));
  await tiles(page, '#a');
  await page.locator('#a button[data-period=day]').click();
  await page.waitForFunction(() => document.querySelector('#a').shadowRoot.querySelector('button[data-period=day][aria-pressed=true]'));
  assert.equal(await page.locator('#b button[aria-pressed=true]').getAttribute('data-period'), 'year', 'the other widget keeps its period');
  await page.locator('#a').evaluate((w) => { w.setAttribute('lang', 'en'); w.setAttribute('metrics', 'nps,roi'); });
  await page.locator('#a [data-kpi=roi]').waitFor();
  assert.equal(await page.locator('#a [data-kpi=roi] [data-role=value]').textContent(), '1,234.5%');
  await page.close();
});

test('offline mount(el, { data }) with no KPI server renders the same numbers, for every period', async () => {
  const r = await api('GET', '/v1/rollups', { bearer: tenant.sk });
  assert.equal(r.status, 200, r.text);
  const data = r.text;
  // The widget's files come from the CRM itself; nothing may reach the KPI service.
  const url = crm.page('/offline.html', `<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="w"></div><script type="module">
import { mount } from '/static/widget/kpi-widget.js';
window.mounted = mount(document.getElementById('w'), { data: ${JSON.stringify(data)}, metrics: '${METRICS}', period: 'year', lang: 'vi' });
</script></body></html>`);
  const page = await browser.context.newPage();
  const requests = [];
  page.on('request', (q) => requests.push(q.url()));
  await page.goto(url);
  sameAsApi(await tiles(page, '#w'), await kpis(`metrics=${METRICS}&period=year&compare=previous&lang=vi`));
  assert.equal(await page.locator('#w [data-kpi=roi] [data-role=value]').textContent(), '1.234,5%');
  for (const period of ['day', 'month']) {
    await page.locator(`#w button[data-period=${period}]`).click();
    await page.waitForFunction((p) => document.querySelector('#w').shadowRoot.querySelector(`button[data-period=${p}][aria-pressed=true]`), period);
    await page.locator('#w [data-kpi]').first().waitFor();
    sameAsApi(await tiles(page, '#w'), await kpis(`metrics=${METRICS}&period=${period}&compare=previous&lang=vi`));
  }
  assert.deepEqual(requests.filter((u) => !u.startsWith(crm.origin + '/static/') && !u.startsWith(crm.origin + '/offline')), [], 'no network beyond the widget files');
  assert.ok(requests.some((u) => u.includes('kpi-widget-offline-')), 'the offline module was fetched');
  await page.close();
});

test('the online dashboard does not fetch the offline module', async () => {
  const url = crm.page('/lazy.html', widgetPage({ body: `<div style="height:3000px"></div>` + tag({ id: 'w', endpoint: BASE, key: tenant.pk, metrics: 'nps', period: 'year' }) }));
  const page = await browser.context.newPage();
  const requests = [];
  page.on('request', (q) => requests.push(q.url()));
  await page.goto(url);
  await page.waitForTimeout(500);
  assert.ok(!requests.some((u) => u.endsWith('.wasm')), 'no wasm before the widget nears the viewport');
  await page.locator('#w').scrollIntoViewIfNeeded();
  await page.locator('#w [data-kpi=nps]').waitFor({ timeout: 20_000 });
  assert.ok(requests.some((u) => /kpi-widget-[0-9a-f]+\.wasm$/.test(u)));
  assert.ok(!requests.some((u) => u.includes('offline')), 'the offline module stays unfetched');
  await page.close();
});

test('theming: theme="auto" follows prefers-color-scheme; --kpi-* properties and ::part() reach in', async () => {
  const url = crm.page('/theme.html', widgetPage({
    head: '<style>#c { --kpi-accent: rgb(200, 0, 120) } #c::part(tile) { border-color: rgb(1, 2, 3) }</style>',
    body: tag({ id: 'a', endpoint: BASE, key: tenant.pk, metrics: 'nps', period: 'year', theme: 'auto' }) +
      tag({ id: 'c', endpoint: BASE, key: tenant.pk, metrics: 'nps', period: 'year' }),
  }));
  const page = await browser.context.newPage();
  const look = (sel) => page.locator(sel).evaluate((h) => {
    const r = h.shadowRoot;
    return {
      tile: getComputedStyle(r.querySelector('[data-kpi]')).backgroundColor,
      border: getComputedStyle(r.querySelector('[data-kpi]')).borderTopColor,
      pressed: getComputedStyle(r.querySelector('button[aria-pressed=true]')).backgroundColor,
    };
  });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(url);
  await page.locator('#a [data-kpi]').waitFor({ timeout: 20_000 });
  await page.locator('#c [data-kpi]').waitFor({ timeout: 20_000 });
  assert.equal((await look('#a')).tile, 'rgb(248, 250, 252)', 'light tiles in a light system');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal((await look('#a')).tile, 'rgb(30, 41, 59)', 'dark tiles in a dark system');
  const custom = await look('#c');
  assert.equal(custom.pressed, 'rgb(200, 0, 120)', '--kpi-accent');
  assert.equal(custom.border, 'rgb(1, 2, 3)', '::part(tile)');
  assert.equal(custom.tile, 'rgb(248, 250, 252)', 'theme="light" (the default) ignores the system');
  await page.close();
});

test('screenshots at 280 px and 1200 px, light and dark', async () => {
  // A tenant with six weeks of history, so that the month's tiles carry sparklines.
  const t = await newTenant('shots', [crm.origin]);
  const now = Date.now();
  const day = 86_400_000;
  const responses = [];
  const tickets = [];
  const events = [];
  for (let d = 0; d < 42; d++) {
    for (let i = 0; i < 6; i++) {
      responses.push({ id: `s-${d}-${i}`, survey: 'nps', score: [10, 9, 8, 10, 3 + (d % 5), 9 - (d % 3)][i], at: now - d * day - i * 60_000, channel: i % 2 ? 'zalo' : 'email' });
    }
    const open = now - d * day - 3 * 3_600_000;
    tickets.push({ id: `c-${d}`, channel: 'chat', opened_at: iso(open), first_response_at: iso(open + (2 + (d % 6)) * 60_000), agent: ['Lan', 'Minh', 'Hoa'][d % 3] });
    tickets.push({ id: `m-${d}`, channel: 'email', opened_at: iso(open), first_response_at: iso(open + (30 + 7 * (d % 9)) * 60_000), agent: ['Lan', 'Minh', 'Hoa'][d % 3] });
    events.push({ id: `o-${d}`, type: 'order.placed', at: iso(open), customer: `c${d % 7}`, campaign: 'tet', amount: 450_000 + 25_000 * (d % 8), currency: 'VND' });
    events.push({ id: `sp-${d}`, type: 'spend', at: iso(open), channel: 'web', campaign: 'tet', amount: 120_000 });
  }
  for (const [n, stage] of [[9, 'interested'], [6, 'consult'], [4, 'demo'], [2, 'won']]) {
    for (let i = 0; i < n; i++) events.push({ id: `st-${stage}-${i}`, type: 'deal.stage', at: iso(now - i * 60_000), deal: `deal-${i}`, stage });
  }
  assert.equal((await api('POST', '/v1/responses/import', { bearer: t.sk, body: { responses } })).status, 200);
  assert.equal((await api('POST', '/v1/tickets', { bearer: t.sk, body: { tickets } })).status, 200);
  const ev = await api('POST', '/v1/events', { bearer: t.sk, body: events });
  assert.equal(ev.status, 200, ev.text);
  for (const theme of ['light', 'dark']) {
    for (const width of [280, 1200]) {
      const url = crm.page(`/shot-${theme}-${width}.html`, widgetPage({
        head: `<style>body{margin:0;padding:8px;background:${theme === 'dark' ? '#020617' : '#f1f5f9'}}</style>`,
        body: tag({ id: 'w', endpoint: BASE, key: t.pk, metrics: `${METRICS},fcr`, period: 'month', lang: width === 280 ? 'vi' : 'en', theme }),
      }));
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height: 900 });
      await page.goto(url);
      await page.locator('#w [data-kpi=stage_conversion]').waitFor({ timeout: 20_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, `no horizontal scroll at ${width} px`);
      await page.screenshot({ path: join(ARTIFACTS, `widget-${theme}-${width}.png`), fullPage: true });
      await page.close();
    }
  }
});

test('transfer size of the dashboard (loader + glue + wasm + CSS, gzip)', () => {
  const files = readdirSync(DIST);
  const online = files.filter((f) => f === 'kpi-widget.js' || /^kpi-widget-[0-9a-f]+\.(js|wasm)$/.test(f));
  assert.equal(online.length, 3, files.join(' '));
  const gz = (f) => gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length;
  const total = online.reduce((s, f) => s + gz(f), 0);
  const offline = files.filter((f) => f.includes('offline')).reduce((s, f) => s + gz(f), 0);
  console.log(`# widget transfer size: ${(total / 1024).toFixed(1)} KB gzip (${online.map((f) => `${f} ${(gz(f) / 1024).toFixed(1)}`).join(', ')}; CSS is inside the loader)`);
  console.log(`# offline module, fetched only by mount(el, {data}): ${(offline / 1024).toFixed(1)} KB gzip`);
  assert.ok(total < 100 * 1024, `${total} bytes`);
});
