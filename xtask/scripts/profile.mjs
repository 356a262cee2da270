// CPU profile of the worker under `wrangler dev`, through the DevTools protocol of workerd's
// inspector: starts V8's sampling profiler, sends the requests, stops it and prints the
// functions by self time (wasm functions by name when the worker keeps its names section).
// Usage: node profile.mjs <inspector port> <base url> <bearer key|-> <requests> <path>…
// A path `POST <path> <tokens file>` sends `{token, score}` answers instead, a token per line.
// Prints one line `KPI_PROFILE <json>`: [{name, self_ms, share}] sorted by self time.
import { createRequire } from "node:module";
// The `ws` package (wrangler's dependency): wrangler's inspector proxy refuses Node's own
// WebSocket client's handshake.
const WebSocket = createRequire(process.cwd() + "/package.json")("ws");
const [port, base, key, count, ...paths] = process.argv.slice(2);
const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
// The user worker, not wrangler's proxy worker.
const target =
  targets.find((t) => /kpi-edge|core:user/.test(t.title + t.url)) ??
  targets[targets.length - 1];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, err) => {
  ws.on("open", ok);
  ws.on("error", err);
});
let id = 0;
const pending = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(String(data));
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  }
});
const call = (method, params = {}) =>
  new Promise((ok) => {
    id += 1;
    pending.set(id, ok);
    ws.send(JSON.stringify({ id, method, params }));
  });
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 50 });
await call("Profiler.start");
const headers = key && key !== "-" ? { authorization: `Bearer ${key}` } : {};
const posts = paths.filter((p) => p.startsWith("POST "));
const tokens = posts.length
  ? (await import("node:fs")).readFileSync(posts[0].split(" ")[2], "utf8").split("\n").filter(Boolean)
  : [];
let t = 0;
for (let i = 0; i < Number(count); i++) {
  for (const p of paths) {
    const [method, path] = p.startsWith("POST ") ? ["POST", p.split(" ")[1]] : ["GET", p];
    const init =
      method === "POST"
        ? { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ token: tokens[t++ % tokens.length], score: i % 11 }) }
        : { headers };
    const r = await fetch(base + path, init);
    await r.text();
  }
}
const { result } = await call("Profiler.stop");
ws.close();
// KPI_PROFILE_OUT=<dir>: also keep the raw profile, for Chrome's DevTools or a script.
if (process.env.KPI_PROFILE_OUT) {
  const fs = await import("node:fs");
  const name = paths.join(" ").replace(/[^A-Za-z0-9]+/g, "_").slice(0, 80);
  fs.mkdirSync(process.env.KPI_PROFILE_OUT, { recursive: true });
  fs.writeFileSync(`${process.env.KPI_PROFILE_OUT}/${name}.cpuprofile`, JSON.stringify(result.profile));
}
const { nodes, samples, timeDeltas } = result.profile;
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
samples.forEach((s, i) => {
  const n = byId.get(s);
  const f = n.callFrame;
  const name = f.functionName || (f.url ? `(anonymous ${f.url.split("/").pop()}:${f.lineNumber})` : "(program)");
  const dt = (timeDeltas[i] ?? 0) / 1000;
  total += dt;
  self.set(name, (self.get(name) ?? 0) + dt);
});
// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map();
for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const nameOf = (n) => {
  const f = n.callFrame;
  return f.functionName || (f.url ? `(anonymous ${f.url.split("/").pop()}:${f.lineNumber})` : "(program)");
};
const incl = new Map();
samples.forEach((s, i) => {
  const dt = (timeDeltas[i] ?? 0) / 1000;
  const seen = new Set();
  for (let id = s; id !== undefined; id = parent.get(id)) {
    const name = nameOf(byId.get(id));
    if (!seen.has(name)) {
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + dt);
    }
  }
});
const idle = self.get("(idle)") ?? 0;
const busy = Math.max(total - idle, 1e-9);
const top = (m, n) =>
  [...m.entries()]
    .filter(([name]) => name !== "(idle)" && name !== "(root)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, self_ms: +ms.toFixed(2), share: +((ms / busy) * 100).toFixed(1) }));
console.log(
  "KPI_PROFILE " +
    JSON.stringify({ total_ms: +busy.toFixed(1), idle_ms: +idle.toFixed(1), rows: top(self, 40), inclusive: top(incl, 60) }),
);
process.exit(0);
