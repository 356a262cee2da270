// A customer answering a survey link in a real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, mint, newTenant, ARTIFACTS } from './harness.mjs';
import { join } from 'node:path';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

async function npsOf(t) {
  const r = await api('GET', '/v1/kpis?metrics=nps&period=month', { bearer: t.sk });
  assert.equal(r.status, 200, r.text);
  return r.json.kpis[0];
}

test('open a link, pick a score, see the thank-you state, and the answer counts', async () => {
  const t = await newTenant('browser-survey');
  const link = await mint(t, { lang: 'vi' });
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(link.url);
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
  // The question is asked once, and it names the scale.
  const question = await page.locator('h1').textContent();
  assert.match(question, /giới thiệu Spa Hoa Sen/);
  assert.equal((await page.locator('body').innerText()).split(question).length - 1, 1, 'the question appears once');
  assert.equal(await page.locator('fieldset.scale').getAttribute('aria-labelledby'), await page.locator('h1').getAttribute('id'));
  assert.equal((await npsOf(t)).n, 0, 'opening the page records nothing');
  await page.locator('textarea[name=comment]').fill('Dịch vụ tốt <b>lắm</b>');
  await page.locator('button[name=score][value="9"]').click();
  await page.locator('#thanks').waitFor();
  assert.match(await page.locator('#thanks').textContent(), /Cảm ơn/);
  await page.screenshot({ path: join(ARTIFACTS, 'survey-thanks-390.png') });
  const nps = await npsOf(t);
  assert.equal(nps.n, 1);
  assert.equal(nps.value, 100);
  await page.close();
});

test('mail scanners opening every one-click link, scripts on, record nothing', async () => {
  const t = await newTenant('browser-oneclick');
  const link = await mint(t);
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const scores = Object.keys(link.score_urls);
  assert.equal(scores.length, 11);
  const seen = [];
  for (const score of scores) {
    // What a scanner does: open the link, let the page load and run whatever it runs.
    await page.goto(link.score_urls[score]);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(300);
    const checked = await page.locator('input[name=score]:checked').evaluateAll((els) => els.map((e) => e.value));
    const comment = await page.locator('textarea[name=comment]').isVisible();
    const send = page.locator('button.send');
    const box = (await send.count()) === 1 ? await send.boundingBox() : null;
    seen.push({ score, checked, comment, box });
  }
  const stored = await api('GET', '/v1/responses', { bearer: t.sk });
  assert.equal(stored.status, 200, stored.text);
  assert.deepEqual(stored.json.responses, [], 'opening the 11 links stored no answer');
  assert.equal((await npsOf(t)).n, 0);
  assert.deepEqual(errors, [], 'no CSP violation or script error');
  for (const { score, checked, comment, box } of seen) {
    assert.deepEqual(checked, [score], `score ${score} is preselected`);
    assert.ok(comment, 'the comment box is shown');
    assert.ok(box && box.height >= 48 && box.width >= 200, `a large Send button: ${JSON.stringify(box)}`);
  }
  // The person: opens the link for 6, changes to 4, writes a comment and presses Send.
  await page.goto(link.score_urls['6']);
  await page.locator('label[for="s4"]').click();
  await page.locator('textarea[name=comment]').fill('Phải chờ lâu');
  await page.locator('button.send').click();
  await page.locator('#thanks').waitFor();
  const after = await api('GET', '/v1/responses', { bearer: t.sk });
  assert.equal(after.json.responses.length, 1);
  assert.equal(after.json.responses[0].score, 4);
  assert.equal(after.json.responses[0].comment, 'Phải chờ lâu');
  await page.close();
});

test('without JavaScript the one-click page offers a Send button that works', async () => {
  const t = await newTenant('browser-nojs');
  const link = await mint(t);
  const nojs = await launch({ javaScriptEnabled: false });
  try {
    const page = await nojs.context.newPage();
    await page.goto(link.score_urls['8']);
    assert.equal((await npsOf(t)).n, 0, 'nothing recorded before Send');
    await page.locator('button.send').click();
    await page.locator('#thanks').waitFor();
    assert.equal((await npsOf(t)).n, 1);
  } finally {
    await nojs.close();
  }
});

test('an open link at the counter: one answer per browser, changed from that browser, a new browser adds one', async () => {
  const t = await newTenant('browser-open');
  const link = await mint(t, { open: true, max_responses: 2, lang: 'vi', channel: 'zalo' });
  assert.equal(link.open, true);
  const responses = async () => {
    const r = await api('GET', '/v1/responses', { bearer: t.sk });
    assert.equal(r.status, 200, r.text);
    return r.json.responses.map((x) => x.score).sort((a, b) => a - b);
  };
  // The first customer scans the QR code, answers 9, then comes back and changes to 7.
  const first = await launch();
  try {
    const page = await first.context.newPage();
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(link.url);
    await page.locator('button[name=score][value="9"]').click();
    await page.locator('#thanks').waitFor();
    const cookies = await first.context.cookies();
    const kept = cookies.find((c) => c.name === 'kpi_open');
    assert.ok(kept, `a first-party cookie holds the answer's id: ${JSON.stringify(cookies)}`);
    assert.equal(kept.path, `/s/${link.token}`, 'scoped to this link only');
    assert.equal(kept.httpOnly, true);
    assert.deepEqual(await responses(), [9]);
    // Opening the link again shows the answer given, preselected, to change it.
    await page.goto(link.url);
    assert.ok(await page.locator('#earlier').isVisible(), 'the page says this browser answered');
    assert.deepEqual(await page.locator('input[name=score]:checked').evaluateAll((els) => els.map((e) => e.value)), ['9']);
    await page.locator('label[for="s7"]').click();
    await page.locator('button.send').click();
    await page.locator('#thanks').waitFor();
    assert.deepEqual(await responses(), [7], 'the same response, changed');
    await page.screenshot({ path: join(ARTIFACTS, 'survey-open-390.png') });
  } finally {
    await first.close();
  }
  // The next customer, on another phone: a response of their own.
  const second = await launch();
  try {
    const page = await second.context.newPage();
    await page.goto(link.url);
    assert.equal(await page.locator('#earlier').count(), 0);
    await page.locator('button[name=score][value="10"]').click();
    await page.locator('#thanks').waitFor();
  } finally {
    await second.close();
  }
  assert.deepEqual(await responses(), [7, 10]);
  // The cap (2) is reached: a third phone is told so, and nothing is stored.
  const third = await launch();
  try {
    const page = await third.context.newPage();
    await page.goto(link.url);
    await page.locator('button[name=score][value="3"]').click();
    await page.waitForLoadState();
    assert.match(await page.locator('h1').textContent(), /đủ số phản hồi/);
  } finally {
    await third.close();
  }
  assert.deepEqual(await responses(), [7, 10]);
  const nps = await npsOf(t);
  assert.equal(nps.n, 2);
});
