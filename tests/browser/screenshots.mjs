// The README's pictures, taken from the demo tenant by `cargo xtask screenshots` (which starts
// a fresh worker, seeds the demo tenant and runs this): the dashboard in light (English) and
// dark (Vietnamese) at 1200 and 320 px, and the survey page on a phone. Never edited by hand.
import { join } from 'node:path';
import { api, launch, BASE } from './harness.mjs';
import { demoUrl, rendered } from './demo-page.mjs';

const OUT = process.env.KPI_SHOTS_DIR;
const SK = process.env.KPI_DEMO_SK;
if (!OUT || !SK) throw new Error('run this with `cargo xtask screenshots`');

const browser = await launch();
try {
  for (const [theme, lang] of [['light', 'en'], ['dark', 'vi']]) {
    for (const width of [1200, 320]) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height: 900 });
      await page.goto(demoUrl(BASE, { lang, theme, tab: 'service' }));
      await rendered(page, '#w-service');
      await page.evaluate(() => document.fonts.ready);
      const file = join(OUT, `dashboard-${theme}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`wrote ${file}`);
      await page.close();
    }
  }
} finally {
  await browser.close();
}

// A customer opening an NPS link on a phone.
const phone = await launch({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
try {
  const r = await api('POST', '/v1/survey-links', { bearer: SK, body: { survey: 'nps', channel: 'zalo', lang: 'vi' } });
  if (r.status !== 201) throw new Error(`minting a link: ${r.status} ${r.text}`);
  const page = await phone.context.newPage();
  await page.goto(r.json.links[0].url);
  const file = join(OUT, 'survey-phone.png');
  await page.screenshot({ path: file });
  console.log(`wrote ${file}`);
} finally {
  await phone.close();
}
