//! The worker under real workerd, through `wrangler dev --local`, with local D1 and KV
//! persisted in a directory of our choice; and the HTTP calls xtask makes to it.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sh::{self, Result};
use crate::tools::Tools;

/// A port nothing listens on now.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("finding a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A running `wrangler dev`; stopped (with workerd) when dropped.
pub struct Worker {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:8787`.
    pub url: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SIGTERM lets wrangler stop workerd; SIGKILL would orphan it.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

/// Applies the D1 migrations to the local state in `persist`.
pub fn migrate(t: &Tools, persist: &Path) -> Result<()> {
    migrate_in(t, None, persist, "the worker")
}

/// Applies the D1 migrations of the configuration in `dir` (the worker's when `None`).
fn migrate_in(t: &Tools, dir: Option<&Path>, persist: &Path, what: &str) -> Result<()> {
    let mut cmd = t.wrangler();
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    sh::run(
        &format!("applying D1 migrations (local, {what})"),
        cmd.args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(persist)
            .stdin(Stdio::null()),
    )
}

/// Starts the worker on `port` with `vars`, and waits until `/healthz` answers. Only
/// wrangler's warnings reach `log`.
pub fn start(
    t: &Tools,
    port: u16,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
) -> Result<Worker> {
    start_with(t.wrangler(), port, persist, vars, log, None, log.is_some())
}

/// [`start`] of `cmd` (`Tools::wrangler`, perhaps with more environment), with workerd's DevTools inspector on `inspector` (CPU profiles); `verbose`
/// sends the worker's own console lines to `log` too (wrangler's `--log-level log`; relaying
/// them costs workerd CPU per request, so CPU figures are taken without).
pub fn start_with(
    cmd: Command,
    port: u16,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
    inspector: Option<u16>,
    verbose: bool,
) -> Result<Worker> {
    sh::step(&format!(
        "starting the worker under workerd on 127.0.0.1:{port}"
    ));
    spawn(cmd, port, persist, vars, log, inspector, verbose)
}

/// Starts the bench's plain JavaScript peer (`xtask/peer/`) with its own D1 in `persist`.
pub fn start_peer(
    t: &Tools,
    port: u16,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
) -> Result<Worker> {
    let dir = crate::sh::root().join("xtask/peer");
    start_in(t, &dir, "the JavaScript peer", port, persist, vars, log)
}

/// `wrangler dev` of the configuration in `dir` (`what` names it in the steps) on its own
/// state in `persist`, its D1 migrations applied first.
fn start_in(
    t: &Tools,
    dir: &Path,
    what: &str,
    port: u16,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
) -> Result<Worker> {
    migrate_in(t, Some(dir), persist, what)?;
    sh::step(&format!(
        "starting {what} under workerd on 127.0.0.1:{port}"
    ));
    let mut cmd = t.wrangler();
    cmd.current_dir(dir);
    spawn(cmd, port, persist, vars, log, None, false)
}

/// The worker's own `wrangler.toml` without its `[assets]` (the widget's files) and its
/// `[build]` (the worker is built already), paths made absolute so it runs from any
/// directory. Under `wrangler dev` a worker with assets is reached through the asset router,
/// a worker of its own in the same workerd processes; on Cloudflare that hop is not the
/// worker's CPU. The bench runs this copy beside the real one to show what the hop costs.
pub fn bare_config(toml: &str, worker_dir: &Path) -> String {
    let mut out = String::new();
    let mut skip = false;
    for line in toml.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            skip = t.starts_with("[assets]") || t.starts_with("[build]");
        }
        let path_of = |key: &str| {
            t.strip_prefix(key)
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        if skip {
            continue;
        }
        match ["main", "migrations_dir"]
            .into_iter()
            .find_map(|key| Some((key, path_of(key)?)))
        {
            Some((key, rel)) => {
                let abs = worker_dir.join(rel);
                out.push_str(&format!("{key} = {:?}\n", abs.display().to_string()));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Starts the worker from [`bare_config`] (written to `dir/wrangler.toml`) on its own
/// migrated state in `persist`.
pub fn start_bare(
    t: &Tools,
    port: u16,
    dir: &Path,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
) -> Result<Worker> {
    let worker_dir = crate::sh::root().join("edge-worker");
    let toml = std::fs::read_to_string(worker_dir.join("wrangler.toml"))
        .map_err(|e| format!("reading edge-worker/wrangler.toml: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::write(dir.join("wrangler.toml"), bare_config(&toml, &worker_dir))
        .map_err(|e| format!("writing {}: {e}", dir.display()))?;
    let what = "the worker without its assets (no asset router)";
    start_in(t, dir, what, port, persist, vars, log)
}

/// `wrangler dev` of `cmd`'s directory on `port`, waiting until `/healthz` answers.
fn spawn(
    mut cmd: Command,
    port: u16,
    persist: &Path,
    vars: &[(&str, &str)],
    log: Option<&Path>,
    inspector: Option<u16>,
    verbose: bool,
) -> Result<Worker> {
    cmd.args([
        "dev",
        "--local",
        "--ip",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--persist-to",
    ])
    .arg(persist)
    .args([
        "--show-interactive-dev-session=false",
        // `GET /__scheduled` runs the cron handler (webhook retries) on demand.
        "--test-scheduled",
        "--log-level",
        if verbose { "log" } else { "warn" },
    ])
    .stdin(Stdio::null());
    if let Some(p) = inspector {
        cmd.args(["--inspector-port", &p.to_string()]);
    }
    for (k, v) in vars {
        cmd.arg("--var").arg(format!("{k}:{v}"));
    }
    if let Some(log) = log {
        let f =
            std::fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let f2 = f.try_clone().map_err(|e| e.to_string())?;
        cmd.stdout(f).stderr(f2);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting wrangler dev: {e}"))?;
    let mut w = Worker {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = w.child.try_wait() {
            return Err(format!(
                "wrangler dev exited early ({status}); see its output above{}",
                log.map(|l| format!(" or in {}", l.display()))
                    .unwrap_or_default()
            ));
        }
        if let Ok(resp) = ureq::get(&format!("{}/healthz", w.url))
            .timeout(Duration::from_secs(2))
            .call()
        {
            if resp.status() == 200 {
                eprintln!("    ready in {:.1} s", started.elapsed().as_secs_f64());
                return Ok(w);
            }
        }
        if Instant::now() > deadline {
            return Err("the worker did not answer /healthz within 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// POSTs (or PUTs) JSON with a bearer token; returns status and body.
pub fn send(method: &str, url: &str, bearer: &str, body: &Value) -> Result<(u16, Value)> {
    let req = ureq::request(method, url).set("authorization", &format!("Bearer {bearer}"));
    let resp = match req.send_json(body.clone()) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(format!("{method} {url}: {e}")),
    };
    let status = resp.status();
    let v = resp.into_json().unwrap_or(Value::Null);
    Ok((status, v))
}

impl Worker {
    /// The wrangler process id (workerd runs below it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the worker exits (Ctrl-C reaches wrangler and workerd too).
    pub fn wait(&mut self) -> Result<()> {
        self.child
            .wait()
            .map_err(|e| format!("waiting for wrangler: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bare_config_drops_assets_and_build_and_anchors_paths() {
        let toml = std::fs::read_to_string(crate::sh::root().join("edge-worker/wrangler.toml"))
            .unwrap_or_default();
        assert!(toml.contains("[assets]") && toml.contains("[build]"));
        let bare = bare_config(&toml, Path::new("/w/edge-worker"));
        assert!(!bare.contains("[assets]") && !bare.contains("run_worker_first"));
        assert!(!bare.contains("[build]") && !bare.contains("build-worker"));
        assert!(bare.contains("main = \"/w/edge-worker/build/index.js\"\n"));
        assert!(bare.contains("migrations_dir = \"/w/edge-worker/migrations\"\n"));
        // Everything else stays: the bindings, the limits, the variables.
        for kept in [
            "[[d1_databases]]",
            "[[kv_namespaces]]",
            "[[ratelimits]]",
            "[vars]",
        ] {
            assert!(bare.contains(kept), "{kept}");
        }
        assert!(bare.contains("keep_names = false"));
    }
}
