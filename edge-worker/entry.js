// The worker's entry module. worker-build bundles its own entry (`shim.js`) around the
// wasm-bindgen glue; `cargo xtask build-worker` has its esbuild step bundle this one instead
// (`xtask/scripts/esbuild-entry.sh`). Same recovery from a wasm trap: a trap marks the
// module broken, and the next call starts it afresh before running. Without worker-build's
// Proxy around every request's entrypoint object and around its method: that wrapping, the
// same for every request, cost about half a millisecond of CPU each (`cargo xtask bench
// reads`, the wasm entry's row). It exists for classes whose state lives in wasm memory
// (Durable Objects in Rust); this worker exports none, only the handlers below. A new
// `#[event]` handler in src/lib.rs needs its method here.
import { WorkerEntrypoint } from "cloudflare:workers";
import * as wasm from "./index.js";

Error.stackTraceLimit = 100;
const state = wasm.__worker_init_state();

// A trap seen by the last call (`broken`) or reported to the isolate: start afresh.
function restartIfBroken() {
  if (state.criticalError) {
    console.log("Reinitializing Wasm application");
    wasm.__wbg_reset_state();
    state.criticalError = false;
    state.instanceId++;
  }
}

function broken(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    state.criticalError = true;
  }
}

addEventListener("error", (e) => broken(e.error));

export default class Entrypoint extends WorkerEntrypoint {
  fetch(request) {
    restartIfBroken();
    try {
      return wasm.fetch(request, this.env, this.ctx);
    } catch (e) {
      broken(e);
      throw e;
    }
  }

  scheduled(event) {
    restartIfBroken();
    try {
      return wasm.scheduled(event, this.env, this.ctx);
    } catch (e) {
      broken(e);
      throw e;
    }
  }
}
