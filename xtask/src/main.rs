//! `cargo xtask`: the one place that knows how to install, build, run and test the product.
//!
//! Tools are installed on first use and cached by version outside the repo
//! (`$KPI_TOOLS_DIR`, default `~/.cache/kpi-edge/tools`); JavaScript tools come from the
//! repo's `package.json` into `node_modules/`. Nothing is downloaded from anywhere but the
//! package registries.
// A developer tool: a failed unwrap stops the command with its message, which is the intent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

mod bench;
mod build;
mod chaos;
mod clock;
mod d1;
mod demo;
mod fuzz;
mod local;
mod run;
mod screenshots;
mod sections;
mod server;
mod sh;
mod tenant;
mod test;
#[cfg(test)]
mod tidy;
mod tools;
mod wasm_size;

const USAGE: &str = "usage: cargo xtask <command>

  run            install what is missing, build, start the worker on 127.0.0.1:8787 with the
                 demo tenant (a spa chain, a year of data); Ctrl-C stops it
  test           install what is missing (also Chromium), build, run every test;
                 `test --e2e [FILTER]` builds and runs only the end-to-end tests (named FILTER)
  build          build the widget and the worker (release)
  build-worker   build the worker only (wrangler's build command)
  build-widget   build the widget only
  install        install the tools only
  tenant create  create a tenant through POST /admin/tenants (see `cargo xtask tenant`)
  fuzz           spec fuzzing (schemathesis) and parser fuzzing (cargo-fuzz); see
                 `cargo xtask fuzz --help` and docs/FUZZING.md
  bench [--smoke]  measure sizes, load, KPI reads vs a raw scan, memory; write docs/BENCHMARKS.md
  chaos [--smoke]  load with workerd SIGKILLs and replays; check nothing is lost or doubled
  screenshots    refresh README's pictures (docs/*.png) from the demo tenant in Chromium";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(),
        Some("test") => test::test(&args[1..]),
        Some("build") => tools::ensure(false).and_then(|t| build::all(&t)),
        Some("build-worker") => tools::ensure(false).and_then(|t| build::worker(&t)),
        Some("build-widget") => tools::ensure(false).and_then(|t| build::widget(&t).map(|_| ())),
        Some("install") => tools::ensure(true).map(|_| ()),
        Some("tenant") => tenant::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("chaos") => chaos::main(&args[1..]),
        Some("screenshots") => screenshots::main(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}
