//! What `bench` and `chaos` share: a fresh local worker (own state directory, own secrets,
//! rate limits off because all load comes from one IP), tenants and pre-minted survey links.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::server::{self, Worker};
use crate::sh::{self, Result};
use crate::tools::Tools;

/// A local deployment: its state directory, secrets and port, so it can be stopped and
/// started again on the same data (a restart after a crash, or after seeding D1).
pub struct Local {
    /// `--persist-to` directory.
    pub persist: PathBuf,
    /// Admin token (a worker var).
    pub admin: String,
    signing: String,
    hooks: String,
    /// The port every (re)start listens on.
    pub port: u16,
    log: PathBuf,
    /// How many times the worker was started.
    pub starts: u32,
    /// Environment of the worker's processes beyond the tools' own (the bench's clock).
    pub env: Vec<(String, String)>,
}

/// A tenant's id and keys.
pub struct TenantKeys {
    /// Slug.
    pub id: String,
    /// `sk_…`.
    pub sk: String,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("finding a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Local {
    /// A fresh, migrated state directory under `dir`.
    pub fn fresh(t: &Tools, dir: &Path) -> Result<Local> {
        let persist = dir.join("state");
        let _ = std::fs::remove_dir_all(&persist);
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        server::migrate(t, &persist)?;
        Ok(Local {
            persist,
            admin: sh::random_hex(24)?,
            signing: sh::random_hex(32)?,
            hooks: sh::random_hex(32)?,
            port: free_port()?,
            log: dir.join("worker.log"),
            starts: 0,
            env: Vec::new(),
        })
    }

    /// Starts the worker on this state. `RATE_LIMIT=off`: the load comes from one local IP,
    /// which per-IP limits meant for real traffic (many IPs) would throttle.
    pub fn start(&mut self, t: &Tools) -> Result<Worker> {
        self.start_with(t, None, true)
    }

    /// [`Local::start`] without the worker's console lines in the log: for CPU figures
    /// (wrangler relaying each line costs workerd CPU).
    pub fn start_quiet(&mut self, t: &Tools) -> Result<Worker> {
        self.start_with(t, None, false)
    }

    /// [`Local::start_quiet`] with workerd's inspector on `inspector`.
    pub fn start_inspected(&mut self, t: &Tools, inspector: Option<u16>) -> Result<Worker> {
        self.start_with(t, inspector, false)
    }

    fn start_with(&mut self, t: &Tools, inspector: Option<u16>, verbose: bool) -> Result<Worker> {
        self.starts += 1;
        let log = self.log.with_extension(format!("{}.log", self.starts));
        let mut cmd = t.wrangler();
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        server::start_with(
            cmd,
            self.port,
            &self.persist,
            &self.vars(verbose),
            Some(&log),
            inspector,
            verbose,
        )
    }

    /// The worker's variables: this deployment's secrets, rate limits off, and a log line
    /// for every request when `verbose`.
    fn vars(&self, verbose: bool) -> [(&str, &str); 5] {
        [
            ("ADMIN_TOKEN", &self.admin),
            ("LINK_SIGNING_SECRET", &self.signing),
            ("WEBHOOK_SIGNING_SECRET", &self.hooks),
            ("RATE_LIMIT", "off"),
            ("REQUEST_LOG", if verbose { "all" } else { "errors" }),
        ]
    }

    /// The same worker from a copy of its configuration without `[assets]`
    /// ([`server::start_bare`]), on its own fresh state under `dir`, with this deployment's
    /// secrets: what the product costs without wrangler dev's asset router in front.
    pub fn start_bare(&self, t: &Tools, dir: &Path) -> Result<Worker> {
        let state = dir.join("bare-state");
        let _ = std::fs::remove_dir_all(&state);
        server::start_bare(
            t,
            free_port()?,
            &dir.join("bare"),
            &state,
            &self.vars(false),
            Some(&dir.join("bare.log")),
        )
    }

    /// The link-signing secret the worker runs with.
    pub fn signing(&self) -> &str {
        &self.signing
    }

    /// The log file of the last start.
    pub fn last_log(&self) -> PathBuf {
        self.log.with_extension(format!("{}.log", self.starts))
    }

    /// The D1 database file (read or write it only while the worker is stopped).
    pub fn db(&self) -> Result<PathBuf> {
        crate::d1::db_file(&self.persist)
    }
}

/// Creates tenant `id` whose pages on `origin` may embed the widget.
pub fn tenant(url: &str, admin: &str, id: &str, origin: &str) -> Result<TenantKeys> {
    let (status, v) = server::send(
        "POST",
        &format!("{url}/admin/tenants"),
        admin,
        &json!({"id": id, "name": id, "allowed_origins": [origin]}),
    )?;
    if status != 201 {
        return Err(format!("creating tenant {id}: {status} {v}"));
    }
    let key = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(TenantKeys {
        id: id.into(),
        sk: key("secret_key"),
    })
}

/// A minted link: its token and link id (the row key of its answer).
pub struct Link {
    /// Signed token.
    pub token: String,
    /// Link id.
    pub link_id: String,
}

/// Mints `count` NPS links through `POST /v1/survey-links`, 1000 a call.
pub fn mint(url: &str, sk: &str, count: usize) -> Result<Vec<Link>> {
    let channels = ["email", "zalo", "sms", "chat", "web"];
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let n = (count - out.len()).min(1000);
        let channel = channels[(out.len() / 1000) % channels.len()];
        let (status, v) = server::send(
            "POST",
            &format!("{url}/v1/survey-links"),
            sk,
            &json!({"survey": "nps", "channel": channel, "lang": "vi", "count": n}),
        )?;
        let links = v["links"].as_array().filter(|_| status == 201);
        let Some(links) = links else {
            return Err(format!("minting links: {status} {v}"));
        };
        for l in links {
            out.push(Link {
                token: l["token"].as_str().unwrap_or_default().into(),
                link_id: l["link_id"].as_str().unwrap_or_default().into(),
            });
        }
    }
    Ok(out)
}

/// `GET /healthz` → the worker's wasm linear memory in bytes.
pub fn wasm_memory(url: &str) -> Result<u64> {
    let v: Value = ureq::get(&format!("{url}/healthz"))
        .timeout(Duration::from_secs(10))
        .call()
        .map_err(|e| format!("GET /healthz: {e}"))?
        .into_json()
        .map_err(|e| format!("GET /healthz: {e}"))?;
    v["wasm_memory_bytes"]
        .as_u64()
        .ok_or_else(|| format!("/healthz has no wasm_memory_bytes: {v}"))
}

/// Bytes as MiB with one decimal.
pub fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// Bytes as KB (1024) with one decimal.
pub fn kb(b: u64) -> String {
    format!("{:.1} KB", b as f64 / 1024.0)
}
