//! `cargo xtask test`: every test, on the real runtimes — native unit and property tests, the
//! wasm builds (kpi-core without std included), the deployable bundle, end-to-end tests
//! against the worker under workerd, and browser tests in headless Chromium.
use std::process::Command;
use std::time::Instant;

use crate::sh::{self, root, Result};
use crate::{build, server, tenant, tools};

/// `cargo xtask test [--e2e [FILTER]]`: everything, or (`--e2e`) only the builds and the
/// end-to-end tests whose name contains FILTER (all of them without one), for a quick loop.
pub fn test(args: &[String]) -> Result<()> {
    let (e2e_only, filter) = match args {
        [] => (false, None),
        [e] if e == "--e2e" => (true, None),
        [e, f] if e == "--e2e" => (true, Some(f.clone())),
        _ => return Err("usage: cargo xtask test [--e2e [FILTER]]".into()),
    };
    let started = Instant::now();
    let t = tools::ensure(true)?;
    let r = root();
    if e2e_only {
        build::all(&t)?;
        return e2e(&t, filter.as_deref(), false);
    }
    sh::run(
        "native unit and property tests (kpi-core, edge-worker, xtask)",
        // The widget's logic is kpi-core's; its view is tested in Chromium, so leptos is
        // never built natively.
        Command::new("cargo").args([
            "test",
            "--package",
            "kpi-core",
            "--package",
            "edge-worker",
            "--package",
            "xtask",
        ]),
    )?;
    sh::run(
        "kpi-core for wasm32 without std",
        Command::new("cargo").args([
            "build",
            "--package",
            "kpi-core",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
        ]),
    )?;
    build::all(&t)?;
    let dry = r.join("target/deploy-dry-run");
    sh::run(
        "wrangler deploy --dry-run (the bundle that would ship)",
        t.wrangler()
            .args(["deploy", "--dry-run", "--outdir"])
            .arg(&dry),
    )?;

    e2e(&t, None, true)?;
    // The measuring commands for a few seconds each, so that they cannot rot.
    crate::bench::main(&["--smoke".into()])?;
    crate::chaos::main(&["--smoke".into()])?;
    // Spec fuzzing smoke (schemathesis, a few cases per operation, on its own fresh worker):
    // keeps `cargo xtask fuzz spec` from rotting. Parser fuzzing needs nightly and a long
    // cargo-fuzz install, so it stays out of this command (its corpus replays in the unit tests).
    crate::fuzz::check_spec(&crate::fuzz::spec(&t, 5, 1)?)?;
    if let Some((raw, gz)) = build::sizes(&r.join("edge-worker/build/index_bg.wasm")) {
        eprintln!(
            "worker wasm: {:.1} KB raw, {:.1} KB gzip",
            raw as f64 / 1024.0,
            gz as f64 / 1024.0
        );
    }
    eprintln!(
        "all tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the end-to-end tests read of the worker under test: its URL, its admin token, link
/// and webhook secrets, the local D1 (read and written with sqlite3 by a few tests) and the
/// worker's log.
fn tests_env<'a>(
    url: &'a str,
    [admin, signing, hooks]: [&'a str; 3],
    state: &'a str,
    log: &'a str,
) -> [(&'static str, &'a str); 6] {
    [
        ("KPI_TEST_URL", url),
        ("KPI_ADMIN_TOKEN", admin),
        ("KPI_LINK_SECRET", signing),
        ("KPI_WEBHOOK_SECRET", hooks),
        ("KPI_TEST_STATE", state),
        ("KPI_WORKER_LOG", log),
    ]
}

/// `tests/tests/reads.rs` against a fresh worker whose clock, and the tests', show noon of the
/// 20th of the previous month (`crate::clock`).
fn mid_month_reads(t: &tools::Tools, admin: &str, signing: &str, hooks: &str) -> Result<()> {
    let r = root();
    let persist = r.join("target/e2e-state-mid-month");
    let _ = std::fs::remove_dir_all(&persist);
    server::migrate(t, &persist)?;
    let clock = crate::clock::Clock::previous_month(&r.join("target/e2e-clock"), 20)?;
    // The test binary `reads-<hash>` reads the same clock.
    let env = clock.env(&["reads-"]);
    let mut cmd = t.wrangler();
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let log = r.join("target/e2e-worker-mid-month.log");
    let worker = server::start_with(
        cmd,
        server::free_port()?,
        &persist,
        &[
            ("ADMIN_TOKEN", admin),
            ("LINK_SIGNING_SECRET", signing),
            ("WEBHOOK_SIGNING_SECRET", hooks),
        ],
        Some(&log),
        None,
        true,
    )?;
    let state = persist.to_string_lossy().into_owned();
    let log_path = log.to_string_lossy().into_owned();
    let result = sh::run(
        &format!(
            "the reads' end-to-end tests on {} (the worker's clock moved)",
            clock.day
        ),
        Command::new("cargo")
            .args(["test", "--package", "tests", "--test", "reads"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .envs(tests_env(
                &worker.url,
                [admin, signing, hooks],
                &state,
                &log_path,
            )),
    );
    drop(worker);
    result
}

/// The end-to-end tests (those whose name holds `filter`) against a fresh worker, then the
/// browser tests when `browser`.
fn e2e(t: &tools::Tools, filter: Option<&str>, browser: bool) -> Result<()> {
    let r = root();
    // A fresh local D1/KV for every run.
    let persist = r.join("target/e2e-state");
    let _ = std::fs::remove_dir_all(&persist);
    server::migrate(t, &persist)?;
    let admin = sh::random_hex(24)?;
    let signing = sh::random_hex(32)?;
    let hooks = sh::random_hex(32)?;
    let log = r.join("target/e2e-worker.log");
    let port = server::free_port()?;
    let worker = server::start(
        t,
        port,
        &persist,
        &[
            ("ADMIN_TOKEN", &admin),
            ("LINK_SIGNING_SECRET", &signing),
            ("WEBHOOK_SIGNING_SECRET", &hooks),
            ("DEMO_PAGE", "on"),
            // Webhook receivers in the tests listen on plain http://127.0.0.1, and the
            // retry test should not wait the production backoff.
            ("WEBHOOK_ALLOW_HTTP", "on"),
            ("WEBHOOK_RETRY_BASE_S", "0.2"),
        ],
        Some(&log),
    )?;
    // The tenant CLI against the running worker, as an operator would use it.
    let cli = tenant::parse(&[
        "create".into(),
        "--id".into(),
        "cli-tenant".into(),
        "--name".into(),
        "CLI Spa".into(),
        "--origin".into(),
        "https://crm.cli.example".into(),
        "--url".into(),
        worker.url.clone(),
    ])?;
    let created = tenant::create(&cli, &admin)?;
    if !created["secret_key"]
        .as_str()
        .unwrap_or("")
        .starts_with("sk_")
    {
        return Err(format!(
            "cargo xtask tenant create: unexpected reply {created}"
        ));
    }
    let state = persist.to_string_lossy().into_owned();
    let log_path = log.to_string_lossy().into_owned();
    let secrets = [admin.as_str(), signing.as_str(), hooks.as_str()];
    let env = tests_env(&worker.url, secrets, &state, &log_path);
    let mut cargo = Command::new("cargo");
    cargo.args(["test", "--no-fail-fast", "--package", "tests", "--"]);
    if let Some(f) = filter {
        cargo.arg(f);
    }
    let e2e = sh::run(
        "end-to-end tests against the worker under workerd (cargo test -p tests)",
        cargo.args(["--test-threads", "4"]).envs(env),
    );
    // The open month's prefix exists from its second day on: the reads' tests once more in
    // the middle of a month, whatever today is.
    let e2e = e2e.and_then(|_| match filter {
        None => mid_month_reads(t, &admin, &signing, &hooks),
        Some(_) => Ok(()),
    });
    let run_browser = browser;
    let browser = e2e.as_ref().map_err(Clone::clone).and_then(|_| {
        if !run_browser {
            return Ok(());
        }
        let artifacts = r.join("test-artifacts");
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        // The demo tenant, seeded through the API as `cargo xtask run` seeds it: the demo
        // page's test checks every board against it.
        let (demo, _) = crate::demo::fresh(&worker.url, &admin, std::slice::from_ref(&worker.url))?;
        crate::demo::register(&worker.url, &admin, &demo)?;
        sh::run(
            "browser tests in headless Chromium (node --test tests/browser)",
            t.node_cmd(&t.node_bin.join("node"))
                .args(["--test", "--test-concurrency=1", "tests/browser/*.test.mjs"])
                .current_dir(&r)
                .envs(env)
                .env("KPI_DEMO_PK", &demo.pk)
                .env("KPI_ARTIFACTS", &artifacts)
                .env("CHROMIUM", "/usr/bin/chromium"),
        )
    });
    drop(worker);
    if e2e.is_err() || browser.is_err() {
        eprintln!("    worker log: {}", log.display());
    }
    e2e?;
    browser
}
