// A stand-in for a customer's CRM in the browser tests: a local HTTP server on its own origin
// that serves test pages (with the headers a test asks for, e.g. a strict CSP), Bootstrap's
// CSS from node_modules, the built widget files from web-widget/dist (for pages that must
// work with no KPI server), and proxies /widget/* and /v1/* to the worker so that a page can
// keep everything on 'self'. The proxy can be switched to fail like a stopped worker, or to
// present a foreign origin.
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(ROOT, 'web-widget', 'dist', 'widget');
const TYPES = { js: 'text/javascript', wasm: 'application/wasm', css: 'text/css', html: 'text/html; charset=utf-8' };

export async function startCrm() {
  const pages = new Map();
  const state = { mode: 'ok', proxied: [] };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const page = pages.get(url.pathname);
    if (page) {
      res.writeHead(200, { 'content-type': page.type ?? TYPES.html, ...(page.headers ?? {}) });
      return res.end(page.body);
    }
    if (url.pathname === '/bootstrap.css') {
      res.writeHead(200, { 'content-type': TYPES.css });
      return res.end(readFileSync(join(ROOT, 'node_modules/bootstrap/dist/css/bootstrap.min.css')));
    }
    if (url.pathname.startsWith('/static/widget/')) {
      const name = url.pathname.slice('/static/widget/'.length);
      if (!readdirSync(DIST).includes(name)) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'content-type': TYPES[name.split('.').pop()] });
      return res.end(readFileSync(join(DIST, name)));
    }
    if (url.pathname.startsWith('/widget/') || url.pathname.startsWith('/v1/')) {
      state.proxied.push(url.pathname);
      // A stopped worker: the connection drops without an answer.
      if (state.mode === 'down' && url.pathname.startsWith('/v1/')) return req.socket.destroy();
      const headers = {};
      for (const h of ['origin', 'referer', 'accept']) if (req.headers[h]) headers[h] = req.headers[h];
      if (state.mode === 'foreign') {
        headers.origin = 'https://not-allowed.example';
        headers.referer = 'https://not-allowed.example/page';
      }
      try {
        const r = await fetch(BASE + req.url, { headers });
        const body = Buffer.from(await r.arrayBuffer());
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
        return res.end(body);
      } catch {
        return req.socket.destroy();
      }
    }
    // Browsers ask every origin for an icon; a 404 would be a console error.
    res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404);
    res.end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    state,
    page(path, body, headers, type) { pages.set(path, { body, headers, type }); return origin + path; },
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }),
  };
}
