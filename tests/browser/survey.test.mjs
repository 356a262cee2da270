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
