//! CPU time of the workerd processes serving a `wrangler dev`, read from `/proc`: utime +
//! stime of every workerd below the wrangler process, summed. Requests are sent one after the
//! other, so the CPU spent between two readings divided by the requests sent is the cost of
//! one request (the isolate, the local D1's SQLite and wrangler's proxy worker all run in
//! workerd). `GET /healthz` measured in the same run is the floor every request pays.
use std::time::Duration;

use crate::sh::Result;

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0)
}

/// (parent pid, comm, utime + stime) of a process.
fn stat(pid: u32) -> Option<(u32, String, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces, so split after its closing paren.
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s[open + 1..close].to_string();
    let rest: Vec<&str> = s[close + 2..].split_whitespace().collect();
    let ppid = rest.get(1)?.parse().ok()?;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((ppid, comm, utime + stime))
}

/// The workerd processes below `root` (wrangler's pid).
pub fn workerd_pids(root: u32) -> Vec<u32> {
    let all: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| stat(pid).map(|(ppid, comm, _)| (pid, ppid, comm)))
        .collect();
    let below = |mut pid: u32| {
        for _ in 0..16 {
            if pid == root {
                return true;
            }
            match all.iter().find(|(p, _, _)| *p == pid) {
                Some((_, ppid, _)) if *ppid != 0 => pid = *ppid,
                _ => return false,
            }
        }
        false
    };
    all.iter()
        .filter(|(pid, _, comm)| comm.starts_with("workerd") && below(*pid))
        .map(|(pid, _, _)| *pid)
        .collect()
}

/// CPU seconds used so far by `pids`.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks: u64 = pids.iter().filter_map(|p| stat(*p)).map(|s| s.2).sum();
    ticks as f64 / ticks_per_second()
}

/// Milliseconds of workerd CPU per call of `request`, over `n` sequential calls.
fn per_call(pids: &[u32], n: u32, mut request: impl FnMut() -> Result<()>) -> Result<f64> {
    let before = cpu_seconds(pids);
    for _ in 0..n {
        request()?;
    }
    Ok((cpu_seconds(pids) - before) * 1000.0 / n as f64)
}

/// Milliseconds of workerd CPU per request: `n` sequential GETs of `url` (with `key`).
pub fn per_request(pids: &[u32], url: &str, key: Option<&str>, n: u32) -> Result<f64> {
    per_call(pids, n, || {
        let mut req = ureq::get(url).timeout(Duration::from_secs(30));
        if let Some(k) = key {
            req = req.set("authorization", &format!("Bearer {k}"));
        }
        let resp = req.call().map_err(|e| format!("GET {url}: {e}"))?;
        // Read the whole body: the request is over when the client has it.
        let _ = resp.into_string();
        Ok(())
    })
}

/// Milliseconds of workerd CPU per request, and the bytes of the last reply: `n` sequential
/// POSTs of the JSON `body` to `url` with the secret key `key`.
pub fn per_post(pids: &[u32], url: &str, key: &str, body: &str, n: u32) -> Result<(f64, usize)> {
    let mut bytes = 0;
    let ms = per_call(pids, n, || {
        let resp = ureq::post(url)
            .timeout(Duration::from_secs(60))
            .set("authorization", &format!("Bearer {key}"))
            .set("content-type", "application/json")
            .send_string(body)
            .map_err(|e| format!("POST {url}: {e}"))?;
        bytes = resp
            .into_string()
            .map_err(|e| format!("POST {url}: reading the reply: {e}"))?
            .len();
        Ok(())
    })?;
    Ok((ms, bytes))
}

/// The median of `v` (NaN when empty).
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
