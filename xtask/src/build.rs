//! Release builds of the two wasm artefacts: the worker (worker-build → `edge-worker/build/`)
//! and the widget (cargo → wasm-bindgen → wasm-opt → content-hashed files in
//! `web-widget/dist/widget/`, behind the stable loader `kpi-widget.js`).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::sh::{self, root, Result};
use crate::tools::Tools;

/// Builds the widget, then the worker (which serves the widget's files as assets).
pub fn all(t: &Tools) -> Result<()> {
    widget(t)?;
    worker(t)
}

fn newest_mtime(paths: &[PathBuf]) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else if let Ok(m) = meta.modified() {
            newest = Some(newest.map_or(m, |n: SystemTime| n.max(m)));
        }
    }
    newest
}

/// When the last good build of one artefact started, kept as the modification time of a
/// file under `target/build-stamps/`. An input saved while that build ran is newer than its
/// start, so the next build runs again; the outputs' own times, later than such a save,
/// would keep what was built from the text before it.
struct Stamp {
    path: PathBuf,
    started: SystemTime,
}

impl Stamp {
    /// A build of `name` starting now.
    fn start(name: &str) -> Stamp {
        Stamp {
            path: root().join("target/build-stamps").join(name),
            started: SystemTime::now(),
        }
    }

    /// True when `output` exists and no input changed since the last good build started.
    fn fresh(&self, output: &Path, inputs: &[PathBuf]) -> bool {
        let Ok(built) = std::fs::metadata(&self.path).and_then(|m| m.modified()) else {
            return false;
        };
        output.exists() && newest_mtime(inputs).is_some_and(|i| i <= built)
    }

    /// Records this build as good, as of when it started.
    fn done(&self) -> Result<()> {
        let dir = self.path.parent().ok_or("no stamp directory")?;
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        std::fs::File::create(&self.path)
            .and_then(|f| f.set_modified(self.started))
            .map_err(|e| format!("writing {}: {e}", self.path.display()))
    }
}

fn rust_inputs(krate: &str) -> Vec<PathBuf> {
    let r = root();
    vec![
        r.join(krate).join("src"),
        r.join(krate).join("Cargo.toml"),
        r.join("kpi-core/src"),
        r.join("kpi-core/Cargo.toml"),
        r.join("Cargo.toml"),
        r.join("Cargo.lock"),
        // The recipe itself: a changed step builds again.
        r.join("xtask/src/build.rs"),
    ]
}

/// `edge-worker/build/`: skipped when nothing it is built from changed, because wrangler
/// runs this as its build command at every start.
pub fn worker(t: &Tools) -> Result<()> {
    let dir = root().join("edge-worker");
    let out = dir.join("build/index_bg.wasm");
    openapi_asset()?;
    // `KPI_KEEP_NAMES=1` keeps wasm function names, for a CPU profile (`cargo xtask bench
    // profile`); a marker says which kind is built, so the other kind is rebuilt.
    let keep_names = std::env::var("KPI_KEEP_NAMES").is_ok_and(|v| v == "1");
    let marker = dir.join("build/names-kept");
    let inputs = rust_inputs("edge-worker");
    let by_crate = dir.join("build/size-by-crate.txt");
    let stamp = Stamp::start("worker");
    if stamp.fresh(&out, &inputs) && marker.exists() == keep_names && by_crate.exists() {
        return Ok(());
    }
    let _ = std::fs::remove_file(&marker);
    sh::run(
        "building the worker (cargo release + wasm-bindgen + wasm-opt -Oz + esbuild)",
        Command::new(&t.worker_build)
            .arg("--release")
            .current_dir(&dir)
            .env("WASM_BINDGEN_BIN", &t.wasm_bindgen)
            .env("WASM_OPT_BIN", &t.wasm_opt)
            .env("ESBUILD_BIN", &t.esbuild)
            .env("PATH", t.path_env()),
    )?;
    // The names section is still there: where the bytes go, by crate, for the bench.
    let wasm = std::fs::read(&out).map_err(|e| format!("reading {}: {e}", out.display()))?;
    let breakdown = crate::wasm_size::breakdown(&wasm)?;
    std::fs::write(&by_crate, crate::wasm_size::summary(&breakdown)).map_err(|e| e.to_string())?;
    if keep_names {
        std::fs::write(&marker, "").map_err(|e| e.to_string())?;
        report_size("worker wasm (names kept)", &out);
        return stamp.done();
    }
    // worker-build keeps the names section (`--debuginfo`): ~180 KB raw, 10 % of the gzip.
    // The panic hook logs message and source location, which stay; the names go. Same
    // feature set as worker-build's own wasm-opt run, so nothing workerd lacks is emitted.
    // `-Oz --converge` again, as the widget's modules get: worker-build's single `-Oz` pass
    // leaves 3.6 KB of the gzip (0.75 %) that more passes take, for ~25 s of build.
    let mut strip = t.node_cmd(&t.wasm_opt);
    strip
        .arg(&out)
        .args(["-Oz", "--converge", "--strip-debug", "-o"])
        .arg(&out);
    for feature in [
        "mutable-globals",
        "sign-ext",
        "nontrapping-float-to-int",
        "bulk-memory",
        "multivalue",
        "reference-types",
        "exception-handling",
    ] {
        strip.arg(format!("--enable-{feature}"));
    }
    sh::run(
        "wasm-opt -Oz --converge --strip-debug (worker: optimise again, drop the names)",
        &mut strip,
    )?;
    report_size("worker wasm", &out);
    stamp.done()
}

/// The OpenAPI document as a static asset beside the widget's files (`[assets]` in
/// wrangler.toml): served before the worker runs, so the worker's wasm does not carry it.
/// Copied at every worker build, which wrangler runs at every start and deploy.
fn openapi_asset() -> Result<()> {
    let src = root().join("edge-worker/api/openapi.json");
    let dist = root().join("web-widget/dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("creating {}: {e}", dist.display()))?;
    std::fs::copy(&src, dist.join("openapi.json"))
        .map_err(|e| format!("copying {}: {e}", src.display()))?;
    Ok(())
}

/// Raw and gzip size of a file, for progress lines and the issue notes.
pub fn sizes(path: &Path) -> Option<(u64, u64)> {
    let raw = std::fs::metadata(path).ok()?.len();
    let gz = Command::new("gzip")
        .arg("-9c")
        .arg(path)
        .output()
        .ok()?
        .stdout
        .len() as u64;
    Some((raw, gz))
}

fn report_size(what: &str, path: &Path) {
    if let Some((raw, gz)) = sizes(path) {
        eprintln!(
            "    {what}: {:.1} KB raw, {:.1} KB gzip",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
    }
}

fn content_hash(bytes: &[u8]) -> String {
    // FNV-1a 64: enough to bust caches; not a security boundary.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// A wasm-metadce graph that keeps every export the glue calls except those whose name
/// contains `drop`.
fn dce_graph(glue: &str, drop: &str) -> String {
    let mut names: Vec<&str> = glue
        .match_indices("wasm.")
        .map(|(i, _)| {
            let rest = &glue[i + 5..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    let keep: Vec<String> = names
        .iter()
        .filter(|n| !n.contains(drop))
        .map(|n| format!("\"e_{n}\""))
        .collect();
    let mut nodes = vec![format!(
        "{{\"name\":\"outside\",\"root\":true,\"reaches\":[{}]}}",
        keep.join(",")
    )];
    nodes.extend(
        names
            .iter()
            .map(|n| format!("{{\"name\":\"e_{n}\",\"export\":\"{n}\"}}")),
    );
    format!("[{}]", nodes.join(","))
}

/// `src` minified as an ES module (bundled, so tree-shaken, when `bundle`).
fn esbuild(t: &Tools, src: &Path, bundle: bool, what: &str) -> Result<String> {
    let mut cmd = t.node_cmd(&t.esbuild);
    cmd.arg(src)
        .args(["--format=esm", "--minify", "--log-level=warning"]);
    if bundle {
        cmd.arg("--bundle");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("running esbuild ({what}): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "esbuild ({what}) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("esbuild ({what}) output: {e}"))
}

/// Builds the widget into `web-widget/dist/widget/` and returns the file names written.
pub fn widget(t: &Tools) -> Result<Vec<PathBuf>> {
    let r = root();
    let dist = r.join("web-widget/dist");
    let out_dir = dist.join("widget");
    let mut inputs = rust_inputs("web-widget");
    inputs.push(r.join("web-widget/loader"));
    inputs.push(r.join("web-widget/offline"));
    let stamp = Stamp::start("widget");
    if stamp.fresh(&out_dir.join("kpi-widget.js"), &inputs) {
        return Ok(Vec::new());
    }
    sh::run(
        "building the widget (cargo release, wasm32)",
        Command::new("cargo").args([
            "build",
            "--release",
            // The browser downloads these modules: kpi-core small first here, as the rest
            // (Cargo.toml builds it for speed in the worker).
            "--config",
            "profile.release.package.kpi-core.opt-level=\"z\"",
            "--package",
            "web-widget",
            "--package",
            "widget-offline",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| r.join("target"));
    let bindgen_dir = r.join("target/widget-bindgen");
    let _ = std::fs::remove_dir_all(&bindgen_dir);
    sh::run(
        "wasm-bindgen --target web (widget)",
        Command::new(&t.wasm_bindgen)
            .arg(target.join("wasm32-unknown-unknown/release/web_widget.wasm"))
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "widget",
                "--out-dir",
            ])
            .arg(&bindgen_dir),
    )?;
    // leptos links server_fn, which links wasm-streams, whose `#[wasm_bindgen]` classes are
    // exported (and so kept) although the widget never streams: drop those exports, and
    // everything only they reach, before optimising.
    let glue_src = std::fs::read_to_string(bindgen_dir.join("widget.js"))
        .map_err(|e| format!("reading glue: {e}"))?;
    let graph = bindgen_dir.join("dce-graph.json");
    std::fs::write(&graph, dce_graph(&glue_src, "intounderlying"))
        .map_err(|e| format!("writing {}: {e}", graph.display()))?;
    let dce = bindgen_dir.join("widget_dce.wasm");
    sh::run(
        "wasm-metadce (widget: unused wasm-streams exports)",
        t.node_cmd(&t.wasm_opt.with_file_name("wasm-metadce"))
            .arg(bindgen_dir.join("widget_bg.wasm"))
            .arg("--graph-file")
            .arg(&graph)
            .arg("-o")
            .arg(&dce)
            .stdout(std::process::Stdio::null()),
    )?;
    let opt = bindgen_dir.join("widget_opt.wasm");
    sh::run(
        "wasm-opt -Oz --converge (widget)",
        t.node_cmd(&t.wasm_opt)
            .arg(&dce)
            .args([
                "-Oz",
                "--converge",
                "--strip-debug",
                "--strip-producers",
                "-o",
            ])
            .arg(&opt),
    )?;
    let wasm = std::fs::read(&opt).map_err(|e| format!("reading {}: {e}", opt.display()))?;
    // The glue, minified and tree-shaken down to what the loader imports (the init function
    // and `mount_widget`; the dropped classes go with it).
    let entry = bindgen_dir.join("entry.mjs");
    std::fs::write(
        &entry,
        "export { default, mount_widget } from './widget.js';\n",
    )
    .map_err(|e| format!("writing {}: {e}", entry.display()))?;
    let glue = esbuild(t, &entry, true, "widget glue")?;
    let wasm_name = format!("kpi-widget-{}.wasm", content_hash(&wasm));
    let glue_name = format!("kpi-widget-{}.js", content_hash(glue.as_bytes()));
    let (off_wasm, off_glue) = offline(t, &target, &bindgen_dir)?;
    let off_wasm_name = format!("kpi-widget-offline-{}.wasm", content_hash(&off_wasm));
    let off_glue_name = format!(
        "kpi-widget-offline-{}.js",
        content_hash(off_glue.as_bytes())
    );
    let loader_src = r.join("web-widget/loader/kpi-widget.js");
    let loader = std::fs::read_to_string(&loader_src)
        .map_err(|e| format!("reading {}: {e}", loader_src.display()))?;
    let loader = loader
        .replace("__GLUE_FILE__", &glue_name)
        .replace("__WASM_FILE__", &wasm_name)
        .replace("__OFFLINE_GLUE__", &off_glue_name)
        .replace("__OFFLINE_WASM__", &off_wasm_name);
    let filled = bindgen_dir.join("kpi-widget.js");
    std::fs::write(&filled, &loader).map_err(|e| format!("writing {}: {e}", filled.display()))?;
    let loader = esbuild(t, &filled, false, "loader")?;
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out_dir.join(name), bytes).map_err(|e| format!("writing {name}: {e}"))
    };
    write(&wasm_name, &wasm)?;
    write(&glue_name, glue.as_bytes())?;
    write("kpi-widget.js", loader.as_bytes())?;
    write(&off_wasm_name, &off_wasm)?;
    write(&off_glue_name, off_glue.as_bytes())?;
    // Cloudflare static assets read `_headers`: hashed files never change, the loader may.
    let headers = "/widget/kpi-widget-*\n  Cache-Control: public, max-age=31536000, immutable\n  Access-Control-Allow-Origin: *\n\
/widget/kpi-widget.js\n  Cache-Control: public, max-age=300\n  Access-Control-Allow-Origin: *\n\
/openapi.json\n  Cache-Control: public, max-age=300\n";
    std::fs::write(dist.join("_headers"), headers).map_err(|e| format!("writing _headers: {e}"))?;
    openapi_asset()?;
    let files: Vec<PathBuf> = ["kpi-widget.js", glue_name.as_str(), wasm_name.as_str()]
        .iter()
        .map(|n| out_dir.join(n))
        .collect();
    let mut total = (0, 0);
    for f in &files {
        if let Some((raw, gz)) = sizes(f) {
            total = (total.0 + raw, total.1 + gz);
        }
    }
    eprintln!(
        "    widget (loader + glue + wasm): {:.1} KB raw, {:.1} KB gzip",
        total.0 as f64 / 1024.0,
        total.1 as f64 / 1024.0
    );
    let mut off = (0, 0);
    for name in [&off_glue_name, &off_wasm_name] {
        if let Some((raw, gz)) = sizes(&out_dir.join(name)) {
            off = (off.0 + raw, off.1 + gz);
        }
    }
    eprintln!(
        "    offline module (glue + wasm, fetched only by mount(el, {{data}})): {:.1} KB raw, {:.1} KB gzip",
        off.0 as f64 / 1024.0,
        off.1 as f64 / 1024.0
    );
    stamp.done()?;
    Ok(files)
}

/// The offline compute module (`widget-offline`, built by the same cargo run as the widget):
/// its optimised wasm and its minified glue.
fn offline(t: &Tools, target: &Path, bindgen_dir: &Path) -> Result<(Vec<u8>, String)> {
    sh::run(
        "wasm-bindgen --target web (offline module)",
        Command::new(&t.wasm_bindgen)
            .arg(target.join("wasm32-unknown-unknown/release/widget_offline.wasm"))
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "offline",
                "--out-dir",
            ])
            .arg(bindgen_dir),
    )?;
    let opt = bindgen_dir.join("offline_opt.wasm");
    sh::run(
        "wasm-opt -Oz --converge (offline module)",
        t.node_cmd(&t.wasm_opt)
            .arg(bindgen_dir.join("offline_bg.wasm"))
            .args([
                "-Oz",
                "--converge",
                "--strip-debug",
                "--strip-producers",
                "-o",
            ])
            .arg(&opt),
    )?;
    let wasm = std::fs::read(&opt).map_err(|e| format!("reading {}: {e}", opt.display()))?;
    let entry = bindgen_dir.join("offline-entry.mjs");
    std::fs::write(&entry, "export { default, Board } from './offline.js';\n")
        .map_err(|e| format!("writing {}: {e}", entry.display()))?;
    let glue = esbuild(t, &entry, true, "offline glue")?;
    Ok((wasm, glue))
}

#[cfg(test)]
mod stamp_tests {
    use super::*;

    #[test]
    fn an_input_saved_while_a_build_runs_makes_the_next_build_run() {
        let dir = root().join("target/stamp-test");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (input, output) = (dir.join("input.rs"), dir.join("output.wasm"));
        std::fs::write(&input, "fn a() {}").unwrap();
        let pause = || std::thread::sleep(std::time::Duration::from_millis(50));
        pause();
        // A build starts, the input is saved again while it runs, the output lands after.
        let build = Stamp::start("stamp-test");
        pause();
        std::fs::write(&input, "fn b() {}").unwrap();
        pause();
        std::fs::write(&output, "built from fn a").unwrap();
        build.done().unwrap();
        assert!(!Stamp::start("stamp-test").fresh(&output, std::slice::from_ref(&input)));
        // The next build starts after the save: then nothing is left to do.
        let again = Stamp::start("stamp-test");
        again.done().unwrap();
        assert!(Stamp::start("stamp-test").fresh(&output, std::slice::from_ref(&input)));
        // Without its output, a build is never fresh.
        std::fs::remove_file(&output).unwrap();
        assert!(!Stamp::start("stamp-test").fresh(&output, &[input]));
        let _ = std::fs::remove_file(root().join("target/build-stamps/stamp-test"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
