// The peer of `cargo xtask bench`: what a JavaScript developer writes in an afternoon to store
// survey answers on Workers. It verifies the same signed tokens as the product (HMAC-SHA-256
// with WebCrypto, the per-tenant key derived the same way), validates the score, upserts one
// row per link and keeps a per-day rollup with SQLite triggers (migrations/0001_init.sql), so
// that concurrent answers cannot drift it. Nothing else: no rate limits, no webhooks, no
// configuration. It runs beside the product under its own `wrangler dev`.
const enc = new TextEncoder();
const keys = new Map();

function b64url(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

async function hmacKey(raw) {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

// HMAC(master, "kpi-link-v1:" + tenant), cached per tenant.
async function tenantKey(env, tenant) {
  let k = keys.get(tenant);
  if (!k) {
    const master = await hmacKey(enc.encode(env.LINK_SIGNING_SECRET));
    const raw = await crypto.subtle.sign("HMAC", master, enc.encode("kpi-link-v1:" + tenant));
    k = await hmacKey(raw);
    keys.set(tenant, k);
  }
  return k;
}

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const RANGES = { nps: [0, 10], csat: [1, 5], ces: [1, 7] };

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return json(200, { ok: true });
    // One D1 round trip and nothing else: the bench reports its CPU as the floor under every
    // request of the product that reads D1 once.
    if (url.pathname === "/probe/d1") return json(200, await env.DB.prepare("SELECT 1 AS one").first());
    if (url.pathname !== "/v1/responses" || req.method !== "POST") return json(404, { error: "not found" });
    let body;
    try {
      body = await req.json();
    } catch {
      return json(400, { error: "invalid JSON" });
    }
    const [payload, sig] = String(body.token || "").split(".");
    let claims;
    try {
      claims = JSON.parse(new TextDecoder().decode(b64url(payload)));
      const ok = await crypto.subtle.verify("HMAC", await tenantKey(env, claims.t), b64url(sig), enc.encode(payload));
      if (!ok) return json(401, { error: "invalid token" });
    } catch {
      return json(401, { error: "invalid token" });
    }
    if (claims.e * 1000 < Date.now()) return json(410, { error: "expired" });
    const [lo, hi] = claims.k === "csat" && claims.s === 10 ? [1, 10] : RANGES[claims.k] || [0, -1];
    const score = body.score;
    if (!Number.isInteger(score) || score < lo || score > hi) return json(422, { error: "score out of range" });
    // The tenant's day: the product's default zone, UTC+7.
    const day = new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
    const res = await env.DB.prepare(
      "INSERT INTO responses (tenant_id, link_id, survey, scale, score, channel, day, answered_at) " +
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (tenant_id, link_id) DO UPDATE SET " +
        "score = excluded.score, answered_at = excluded.answered_at RETURNING answered_at",
    )
      .bind(claims.t, claims.l, claims.k, claims.s, score, claims.c, day, Date.now())
      .all();
    // rows_written: read by the bench beside the product's figure.
    return json(201, { response: { link_id: claims.l, score, rows_written: res.meta.rows_written } });
  },
};
