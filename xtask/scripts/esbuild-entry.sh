#!/bin/sh
# worker-build's `ESBUILD_BIN` (xtask/src/build.rs). worker-build runs it in its staging
# directory to bundle `./shim.js`, the entry module it wrote; the worker's own entry
# (`KPI_WORKER_ENTRY`, edge-worker/entry.js) takes that file's place, then esbuild
# (`KPI_ESBUILD`) runs with worker-build's arguments.
set -eu
cp "$KPI_WORKER_ENTRY" ./shim.js
exec "$KPI_ESBUILD" "$@"
