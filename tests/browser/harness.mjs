// Shared set-up for the browser tests: the worker started by `cargo xtask test`, headless
// Debian Chromium driven by playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BASE = process.env.KPI_TEST_URL;
export const ADMIN = process.env.KPI_ADMIN_TOKEN;
export const ARTIFACTS = process.env.KPI_ARTIFACTS || tmpdir();
if (!BASE || !ADMIN) throw new Error('run the browser tests with `cargo xtask test`');

export async function api(method, path, { bearer, body, origin } = {}) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (origin) headers.origin = origin;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

let seq = 0;
export async function newTenant(prefix, origins = [BASE]) {
  const id = `${prefix}-${Date.now().toString(36)}-${seq++}`;
  const r = await api('POST', '/admin/tenants', { bearer: ADMIN, body: { id, name: 'Spa Hoa Sen', allowed_origins: origins } });
  if (r.status !== 201) throw new Error(`creating tenant: ${r.status} ${r.text}`);
  return { id, sk: r.json.secret_key, pk: r.json.publishable_key };
}

export async function mint(tenant, extra = {}) {
  const r = await api('POST', '/v1/survey-links', { bearer: tenant.sk, body: { survey: 'nps', channel: 'email', lang: 'en', ...extra } });
  if (r.status !== 201) throw new Error(`minting: ${r.status} ${r.text}`);
  return r.json.links[0];
}

export async function launch(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kpi-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
