// CPU profile of the worker under `wrangler dev`, through the DevTools protocol of workerd's
// inspector: starts V8's sampling profiler, sends the requests, stops it and prints the
// functions by self time (wasm functions by name when the worker keeps its names section).
// Usage: node profile.mjs <inspector port> <base url> <bearer key|-> <requests> <path>…
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
for (let i = 0; i < Number(count); i++) {
  for (const p of paths) {
    const r = await fetch(base + p, { headers });
    await r.text();
  }
}
const { result } = await call("Profiler.stop");
ws.close();
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
const rows = [...self.entries()]
  .filter(([n]) => n !== "(idle)")
  .sort((a, b) => b[1] - a[1])
  .slice(0, 40)
  .map(([name, ms]) => ({ name, self_ms: +ms.toFixed(2), share: +((ms / total) * 100).toFixed(1) }));
console.log("KPI_PROFILE " + JSON.stringify({ total_ms: +total.toFixed(1), rows }));
process.exit(0);
