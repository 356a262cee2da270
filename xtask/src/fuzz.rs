//! `cargo xtask fuzz [spec|parsers]`: spec fuzzing (schemathesis against the local worker's
//! `/openapi.json`, with a tenant's real keys and links) and parser fuzzing (cargo-fuzz on the
//! targets in `fuzz/`, nightly). Prints the figures `docs/FUZZING.md` reports.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

use crate::sh::{self, root, Result};
use crate::{build, server, tenant, tools};

const USAGE: &str = "usage: cargo xtask fuzz [spec|parsers] [--smoke] [options]

  spec      schemathesis (all checks) against the local worker under workerd, every
            operation with valid keys and real survey links; fails on a 5xx or a
            response that does not match edge-worker/api/openapi.json
              --examples N   test cases per operation and phase (default 100, smoke 5)
              --seed N       hypothesis seed (default 1)
  parsers   cargo +nightly fuzz run, each target for a fixed time; fails on a crash
              --seconds N    per target (default 300, smoke 10)
              --target NAME  only this target (token, events_json, events_ndjson,
                             tickets, rollup_decode)
  (none)    both";

/// The parser fuzz targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 5] = [
    "token",
    "events_json",
    "events_ndjson",
    "tickets",
    "rollup_decode",
];

/// What a spec fuzzing run found.
#[derive(Debug, Default)]
pub struct SpecSummary {
    /// Test cases schemathesis ran.
    pub cases: u64,
    /// Operations tested.
    pub operations: u64,
    /// Responses with a 5xx status.
    pub server_errors: u64,
    /// Failures of the conformance checks (status code, content type, headers, body schema).
    pub schema_violations: u64,
    /// Failures of the other checks, by check name.
    pub other_failures: Vec<(String, u64)>,
    /// Panics in the worker's log.
    pub worker_panics: u64,
}

/// Checks whose failure means the response does not match the document.
const CONFORMANCE: [&str; 4] = [
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
];

/// `cargo xtask fuzz …`.
pub fn main(args: &[String]) -> Result<()> {
    let mut what = "all";
    let mut smoke = false;
    let (mut examples, mut seed, mut seconds, mut only) = (None, 1u64, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "spec" | "parsers" => what = if a == "spec" { "spec" } else { "parsers" },
            "--smoke" => smoke = true,
            "--examples" => examples = Some(number(&value("--examples")?)?),
            "--seed" => seed = number(&value("--seed")?)?,
            "--seconds" => seconds = Some(number(&value("--seconds")?)?),
            "--target" => only = Some(value("--target")?),
            _ => return Err(USAGE.into()),
        }
    }
    if what != "parsers" {
        let t = tools::ensure(false)?;
        build::all(&t)?;
        let examples = examples.unwrap_or(if smoke { 5 } else { 100 });
        let s = spec(&t, examples, seed)?;
        check_spec(&s)?;
    }
    if what != "spec" {
        let seconds = seconds.unwrap_or(if smoke { 10 } else { 300 });
        let targets: Vec<&str> = match &only {
            Some(name) => vec![TARGETS
                .iter()
                .find(|t| *t == name)
                .ok_or_else(|| format!("unknown target {name}\n{USAGE}"))?],
            None => TARGETS.to_vec(),
        };
        parsers(&targets, seconds)?;
    }
    Ok(())
}

fn number(s: &str) -> Result<u64> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

/// Fails when the run found a 5xx, a worker panic or a response off the document.
pub fn check_spec(s: &SpecSummary) -> Result<()> {
    if s.server_errors > 0 || s.schema_violations > 0 || s.worker_panics > 0 {
        return Err(format!(
            "spec fuzzing: {} 5xx, {} schema violations, {} worker panics (see the report above)",
            s.server_errors, s.schema_violations, s.worker_panics
        ));
    }
    Ok(())
}

/// Mints a link with the secret key; returns its token.
fn mint(url: &str, sk: &str, body: Value) -> Result<String> {
    let (status, reply) = server::send("POST", &format!("{url}/v1/survey-links"), sk, &body)?;
    reply["links"][0]["token"]
        .as_str()
        .filter(|_| status == 201)
        .map(str::to_string)
        .ok_or_else(|| format!("minting a link answered {status}: {reply}"))
}

/// Runs schemathesis against a fresh local worker; `examples` cases per operation and phase.
pub fn spec(t: &tools::Tools, examples: u64, seed: u64) -> Result<SpecSummary> {
    let st = tools::schemathesis()?;
    let r = root();
    let persist = r.join("target/fuzz-spec-state");
    let _ = std::fs::remove_dir_all(&persist);
    server::migrate(t, &persist)?;
    let admin = sh::random_hex(24)?;
    let signing = sh::random_hex(32)?;
    let hooks = sh::random_hex(32)?;
    let log = r.join("target/fuzz-spec-worker.log");
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
            // Thousands of requests from one client in a minute: rate limits would answer
            // most of them with 429 and hide the routes behind.
            ("RATE_LIMIT", "off"),
        ],
        Some(&log),
    )?;
    let url = worker.url.clone();
    let origin = "https://crm.fuzz.example";
    let created = tenant::create(
        &tenant::parse(&[
            "create".into(),
            "--id".into(),
            "fuzz-tenant".into(),
            "--name".into(),
            "Fuzz Spa".into(),
            "--origin".into(),
            origin.into(),
            "--url".into(),
            url.clone(),
        ])?,
        &admin,
    )?;
    let key = |k: &str| {
        created[k]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no {k} in {created}"))
    };
    let (sk, pk) = (key("secret_key")?, key("publishable_key")?);
    let mut tokens = Vec::new();
    for body in [
        json!({"survey": "nps", "channel": "email", "respondent": "C-1"}),
        json!({"survey": "csat", "scale": 5, "channel": "zalo", "lang": "en"}),
        json!({"survey": "csat", "scale": 10, "channel": "sms", "ticket": "T-1"}),
        json!({"survey": "ces", "channel": "chat"}),
    ] {
        tokens.push(mint(&url, &sk, body)?);
    }
    // A few rows so that the reads and exports answer with data, not only empty pages.
    let seed_rows = [
        (
            "/v1/tickets",
            json!({"id": "T-1", "channel": "chat", "opened_at": "2026-11-20T09:00:00+07:00",
                   "first_response_at": "2026-11-20T09:05:00+07:00"}),
        ),
        (
            "/v1/events",
            json!([{"id": "ev-1", "type": "lead.created", "at": "2026-11-20T09:00:00+07:00",
                    "source": "zalo"}]),
        ),
    ];
    for (path, body) in seed_rows {
        let (status, reply) = server::send("POST", &format!("{url}{path}"), &sk, &body)?;
        if status >= 300 {
            return Err(format!("seeding {path} answered {status}: {reply}"));
        }
    }
    let (status, reply) = server::send(
        "POST",
        &format!("{url}/v1/responses"),
        "",
        &json!({"token": tokens[0], "score": 9, "comment": "seed"}),
    )?;
    if status >= 300 {
        return Err(format!("seeding an answer answered {status}: {reply}"));
    }

    let report_dir = r.join("target/fuzz-spec-report");
    let _ = std::fs::remove_dir_all(&report_dir);
    let started = Instant::now();
    let spec_dir = r.join("fuzz/spec");
    let work = r.join("target/fuzz-spec-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let out = Command::new(&st)
        .arg("--config-file")
        .arg(spec_dir.join("schemathesis.toml"))
        .args(["run", &format!("{url}/openapi.json"), "--url", &url])
        .args([
            "--checks",
            "all",
            "--workers",
            "2",
            "--no-color",
            "--continue-on-failure",
        ])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--report", "junit,ndjson", "--report-dir"])
        .arg(&report_dir)
        .args(["--suppress-health-check", "all", "--request-timeout", "30"])
        .env("SCHEMATHESIS_HOOKS", spec_dir.join("hooks.py"))
        .env("KPI_FUZZ_SK", &sk)
        .env("KPI_FUZZ_PK", &pk)
        .env("KPI_FUZZ_ADMIN", &admin)
        .env("KPI_FUZZ_ORIGIN", origin)
        .env("KPI_FUZZ_TOKENS", tokens.join(","))
        // schemathesis keeps a cache of past failures in its working directory: keep it out
        // of the repository (and `--seed` alone decides what a run generates).
        .current_dir(&work)
        .output()
        .map_err(|e| format!("starting schemathesis: {e}"))?;
    drop(worker);
    let text = String::from_utf8_lossy(&out.stdout);
    let stdout_path = r.join("target/fuzz-spec-output.txt");
    let _ = std::fs::write(&stdout_path, text.as_bytes());
    let mut s = summarize(&report_dir, &text)?;
    s.worker_panics = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("panicked")
        .count() as u64;
    eprintln!(
        "    schemathesis {}: {} cases over {} operations in {:.0} s (seed {seed}, {examples} \
         examples per operation and phase)\n    5xx: {}  schema violations: {}  worker panics: {}\
         \n    other checks failed: {}\n    full output: {}  reports: {}",
        tools::SCHEMATHESIS_VERSION,
        s.cases,
        s.operations,
        started.elapsed().as_secs_f64(),
        s.server_errors,
        s.schema_violations,
        s.worker_panics,
        if s.other_failures.is_empty() {
            "none".to_string()
        } else {
            s.other_failures
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        stdout_path.display(),
        report_dir.display(),
    );
    // A crash of schemathesis itself ends the run early: its figures would be partial.
    if text.contains("Test Execution Error") || text.contains("An internal error occurred") {
        return Err(format!(
            "schemathesis stopped on an internal error (see {}):\n{}",
            stdout_path.display(),
            text.lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    if s.cases == 0 {
        return Err(format!(
            "schemathesis ran no case (exit {}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(s)
}

/// Counts cases and failures from schemathesis' NDJSON event stream.
fn summarize(report_dir: &Path, stdout: &str) -> Result<SpecSummary> {
    let path = std::fs::read_dir(report_dir)
        .map_err(|e| format!("{}: {e}", report_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .ok_or_else(|| format!("no NDJSON report in {}:\n{stdout}", report_dir.display()))?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let mut s = SpecSummary::default();
    let mut failures: std::collections::BTreeMap<String, u64> = Default::default();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        walk_event(&v, &mut s, &mut failures, &mut seen);
    }
    for (check, n) in failures {
        if check == "not_a_server_error" {
            s.server_errors += n;
        } else if CONFORMANCE.contains(&check.as_str()) {
            s.schema_violations += n;
        } else {
            s.other_failures.push((check, n));
        }
    }
    Ok(s)
}

/// Reads one NDJSON event: scenario ends carry their cases and check results.
fn walk_event(
    v: &Value,
    s: &mut SpecSummary,
    failures: &mut std::collections::BTreeMap<String, u64>,
    seen: &mut std::collections::BTreeSet<String>,
) {
    let Some((_, ev)) = v.as_object().and_then(|o| o.iter().next()) else {
        return;
    };
    if let Some(recorder) = ev.get("recorder") {
        if let Some(label) = recorder.get("label").and_then(Value::as_str) {
            // "Stateful tests" is the stateful phase's scenario, not an operation.
            if label != "Stateful tests" && seen.insert(label.to_string()) {
                s.operations += 1;
            }
        }
        if let Some(cases) = recorder.get("cases").and_then(Value::as_object) {
            s.cases += cases.len() as u64;
        }
        if let Some(checks) = recorder.get("checks").and_then(Value::as_object) {
            for list in checks.values().filter_map(Value::as_array) {
                for c in list {
                    let failed = c.get("status").and_then(Value::as_str) == Some("failure");
                    if let (true, Some(name)) = (failed, c.get("name").and_then(Value::as_str)) {
                        *failures.entry(name.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }
}

fn nightly() -> Result<()> {
    let list = sh::output(
        "listing rust toolchains",
        Command::new("rustup").args(["toolchain", "list"]),
    )?;
    if !list.lines().any(|l| l.starts_with("nightly")) {
        sh::run(
            "installing the nightly toolchain (cargo-fuzz needs it)",
            Command::new("rustup").args([
                "toolchain",
                "install",
                "nightly",
                "--profile",
                "minimal",
            ]),
        )?;
    }
    Ok(())
}

/// What one target's run did.
struct FuzzRun {
    target: &'static str,
    runs: u64,
    execs_per_s: u64,
    cov: u64,
    corpus: u64,
    crashed: bool,
}

/// Runs each target for `seconds`, seeded from the small hand-written corpus in
/// `fuzz/corpus/<target>` and growing a working corpus under `target/fuzz-corpus/` (kept
/// between runs, out of the repository).
pub fn parsers(targets: &[&'static str], seconds: u64) -> Result<()> {
    nightly()?;
    let cargo_fuzz = tools::cargo_fuzz()?;
    let r = root();
    let fuzz_dir = r.join("fuzz");
    let path = format!(
        "{}:{}",
        cargo_fuzz
            .parent()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    let fuzz = |args: &[&str]| {
        let mut c = Command::new("cargo");
        c.arg("+nightly")
            .arg("fuzz")
            .args(args)
            .env("PATH", &path)
            .current_dir(&fuzz_dir);
        c
    };
    sh::run(
        "building the fuzz targets (cargo +nightly fuzz build; ASan, release)",
        &mut fuzz(&["build"]),
    )?;
    let mut results = Vec::new();
    for &target in targets {
        let work: PathBuf = r.join("target/fuzz-corpus").join(target);
        let artifacts = r.join("target/fuzz-artifacts").join(target);
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        let seeds = fuzz_dir.join("corpus").join(target);
        sh::step(&format!("fuzzing {target} for {seconds} s"));
        let out = fuzz(&["run", target])
            .arg(&work)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .output()
            .map_err(|e| format!("starting cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        let _ = std::fs::write(r.join(format!("target/fuzz-{target}.log")), &log);
        let stat = |name: &str| {
            log.lines()
                .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        // The last status line: "#N  DONE cov: C ft: F corp: K/…".
        let field = |name: &str| {
            log.lines()
                .rev()
                .find_map(|l| l.split(&format!(" {name}: ")).nth(1))
                .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let run = FuzzRun {
            target,
            runs: stat("number_of_executed_units"),
            execs_per_s: stat("average_exec_per_sec"),
            cov: field("cov"),
            corpus: field("corp"),
            crashed: !out.status.success(),
        };
        if run.crashed {
            eprintln!(
                "{}",
                log.lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        eprintln!(
            "    {target}: {} runs, {} exec/s, cov {}, corpus {}, {}",
            run.runs,
            run.execs_per_s,
            run.cov,
            run.corpus,
            if run.crashed { "CRASH" } else { "0 crashes" }
        );
        results.push(run);
    }
    eprintln!("\n| target | seconds | runs | exec/s | coverage | corpus | crashes |");
    eprintln!("|---|---:|---:|---:|---:|---:|---:|");
    for f in &results {
        eprintln!(
            "| {} | {seconds} | {} | {} | {} | {} | {} |",
            f.target,
            f.runs,
            f.execs_per_s,
            f.cov,
            f.corpus,
            u8::from(f.crashed)
        );
    }
    let crashed: Vec<&str> = results
        .iter()
        .filter(|f| f.crashed)
        .map(|f| f.target)
        .collect();
    if !crashed.is_empty() {
        return Err(format!(
            "crashes in {}: inputs in target/fuzz-artifacts/, logs in target/fuzz-<target>.log",
            crashed.join(", ")
        ));
    }
    Ok(())
}
