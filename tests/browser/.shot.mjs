import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const [url, out, w] = process.argv.slice(2);
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/chr-'), { executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const p = await ctx.newPage(); await p.setViewportSize({ width: Number(w || 390), height: 700 });
await p.goto(url); await p.waitForTimeout(1500); await p.screenshot({ path: out, fullPage: true }); await ctx.close();
