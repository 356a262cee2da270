//! Running commands with progress lines and errors that name the failing step.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A failed step: what was being done, and why it failed.
pub type Result<T> = std::result::Result<T, String>;

/// The repository root (the workspace of this xtask).
pub fn root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR at run time too. Prefer it: worktrees sharing one
    // CARGO_TARGET_DIR also share the uplifted `target/debug/xtask`, whose compile-time path
    // may be another worktree's.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    Path::new(&dir)
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Prints a progress line.
pub fn step(msg: &str) {
    eprintln!("==> {msg}");
}

/// Runs `cmd` to completion with inherited output; fails with `what` and the exit status.
pub fn run(what: &str, cmd: &mut Command) -> Result<()> {
    let started = Instant::now();
    step(what);
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if !status.success() {
        return Err(format!("{what}: failed ({status})"));
    }
    eprintln!("    done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs `cmd` and returns its stdout; fails with `what`, the status and stderr.
pub fn output(what: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A random hex string from the OS (for local secrets).
pub fn random_hex(bytes: usize) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
