//! `cargo xtask screenshots`: the README's pictures (docs/*.png), taken in headless Chromium
//! from the demo tenant on a fresh worker, so that they are refreshed by a command and always
//! show what the product renders today.
use crate::sh::{self, root, Result};
use crate::{build, demo, server, tools};

/// Builds, starts a worker on a fresh state, seeds and registers the demo tenant, and runs
/// `tests/browser/screenshots.mjs` into `docs/`.
pub fn main() -> Result<()> {
    let t = tools::ensure(true)?;
    build::all(&t)?;
    let r = root();
    let persist = r.join("target/screenshots-state");
    let _ = std::fs::remove_dir_all(&persist);
    server::migrate(&t, &persist)?;
    let admin = sh::random_hex(24)?;
    let log = r.join("target/screenshots-worker.log");
    // The port `cargo xtask run` uses, so that the tags in the pictures read as on the
    // reader's machine; another one when it is taken.
    let port = match std::net::TcpListener::bind(("127.0.0.1", crate::run::PORT)) {
        Ok(_) => crate::run::PORT,
        Err(_) => crate::server::free_port()?,
    };
    let worker = server::start(
        &t,
        port,
        &persist,
        &[
            ("ADMIN_TOKEN", &admin),
            ("LINK_SIGNING_SECRET", &sh::random_hex(32)?),
            ("WEBHOOK_SIGNING_SECRET", &sh::random_hex(32)?),
            ("DEMO_PAGE", "on"),
        ],
        Some(&log),
    )?;
    let (demo, _) = demo::fresh(&worker.url, &admin, std::slice::from_ref(&worker.url))?;
    demo::register(&worker.url, &admin, &demo)?;
    let shots = sh::run(
        "screenshots of the demo page and a survey page (docs/*.png)",
        t.node_cmd(&t.node_bin.join("node"))
            .arg("tests/browser/screenshots.mjs")
            .current_dir(&r)
            .env("KPI_TEST_URL", &worker.url)
            .env("KPI_ADMIN_TOKEN", &admin)
            .env("KPI_DEMO_SK", &demo.sk)
            .env("KPI_SHOTS_DIR", r.join("docs"))
            .env("CHROMIUM", "/usr/bin/chromium"),
    );
    drop(worker);
    if shots.is_err() {
        eprintln!("    worker log: {}", log.display());
    }
    shots
}
