//! Client helpers for the end-to-end tests in `tests/`: they talk HTTP to a worker running
//! under workerd, started by `cargo xtask test` (which sets `KPI_TEST_URL`,
//! `KPI_ADMIN_TOKEN` and `KPI_LINK_SECRET`). Run outside xtask, they fail loudly.
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Base URL of the worker under test.
pub fn base() -> String {
    std::env::var("KPI_TEST_URL")
        .expect("KPI_TEST_URL is not set: run the tests with `cargo xtask test`")
}

/// The worker's admin token.
pub fn admin_token() -> String {
    std::env::var("KPI_ADMIN_TOKEN").expect("KPI_ADMIN_TOKEN is not set: run `cargo xtask test`")
}

/// A status and a JSON (or text) body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers we look at.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub text: String,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error code of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
}

/// Sends a request; `body` is sent as is with `content_type`.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Reply {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", base())
    };
    let mut req = agent().request(method, &url);
    // Every request comes from its own client address, as customers' phones do, so the
    // per-address survey limit only bites where a test sets one address on purpose.
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("cf-connecting-ip"))
    {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
        req = req.set("cf-connecting-ip", &ip);
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some((ct, b)) => req.set("content-type", ct).send_string(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let text = resp.into_string().unwrap_or_default();
    Reply {
        status,
        headers,
        text,
    }
}

/// POSTs JSON with a bearer token.
pub fn post_json(path: &str, bearer: Option<&str>, body: &Value) -> Reply {
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    request(
        "POST",
        path,
        &headers,
        Some(("application/json", &body.to_string())),
    )
}

/// A tenant created for one test: its id and keys.
pub struct Tenant {
    /// Slug.
    pub id: String,
    /// `sk_…`.
    pub secret_key: String,
    /// `pk_…`.
    pub publishable_key: String,
    /// Its one allowed origin.
    pub origin: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh unique slug starting with `prefix`.
pub fn unique_id(prefix: &str) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!(
        "{prefix}-{:x}-{}",
        t % 0xffff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates a tenant with one allowed origin.
pub fn new_tenant(prefix: &str) -> Tenant {
    let id = unique_id(prefix);
    let origin = format!("https://{id}.crm.example");
    let r = post_json(
        "/admin/tenants",
        Some(&admin_token()),
        &json!({"id": id, "name": "Test Spa", "allowed_origins": [origin]}),
    );
    assert_eq!(r.status, 201, "creating tenant: {}", r.text);
    let v = r.json();
    Tenant {
        id,
        secret_key: v["secret_key"].as_str().unwrap().to_string(),
        publishable_key: v["publishable_key"].as_str().unwrap().to_string(),
        origin,
    }
}

impl Tenant {
    /// Mints one link with `body` fields merged over an NPS e-mail link; returns the link.
    pub fn mint(&self, extra: Value) -> Value {
        let mut body = json!({"survey": "nps", "channel": "email", "lang": "en"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = post_json("/v1/survey-links", Some(&self.secret_key), &body);
        assert_eq!(r.status, 201, "minting: {}", r.text);
        r.json()["links"][0].clone()
    }

    /// `GET /v1/kpis?<query>` with the publishable key from the allowed origin.
    pub fn kpis(&self, query: &str) -> Value {
        let r = request(
            "GET",
            &format!("/v1/kpis?{query}&key={}", self.publishable_key),
            &[("origin", &self.origin)],
            None,
        );
        assert_eq!(r.status, 200, "kpis: {}", r.text);
        r.json()
    }

    /// POSTs JSON to `path` with the secret key.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        post_json(path, Some(&self.secret_key), body)
    }

    /// POSTs `body` as `content_type` to `path` with the secret key.
    pub fn post_raw(&self, path: &str, content_type: &str, body: &str) -> Reply {
        let auth = format!("Bearer {}", self.secret_key);
        request(
            "POST",
            path,
            &[("authorization", &auth)],
            Some((content_type, body)),
        )
    }

    /// Sends `method` to `path` with the secret key and an optional JSON body.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let auth = format!("Bearer {}", self.secret_key);
        let text = body.map(Value::to_string);
        request(
            method,
            path,
            &[("authorization", &auth)],
            text.as_deref().map(|t| ("application/json", t)),
        )
    }

    /// GETs `path` with the secret key.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    /// Every row of a paged route (`/v1/responses?…`), `limit` rows a page, following
    /// `next_cursor` to the end; asserts no page is larger than `limit`.
    pub fn walk(&self, path: &str, field: &str, limit: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let r = self.get(&url);
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let v = r.json();
            let page = v[field].as_array().cloned().unwrap_or_default();
            assert!(page.len() <= limit, "{url}: {} rows", page.len());
            rows.extend(page);
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return rows,
            }
        }
        panic!("{path}: paging never ended");
    }

    /// The KPI object `id` of `GET /v1/kpis?metrics=<id>&<query>`.
    pub fn kpi(&self, id: &str, query: &str) -> Value {
        self.kpis(&format!("metrics={id}&{query}"))["kpis"][0].clone()
    }

    /// The NPS KPI object for the current month (all answers of a test land today).
    pub fn nps_now(&self) -> Value {
        self.kpis("metrics=nps&period=month")["kpis"][0].clone()
    }
}

/// Answers a link through the survey page's form, as a browser without JS would.
pub fn answer_form(token: &str, score: i64, comment: Option<&str>) -> Reply {
    let mut body = format!("score={score}");
    if let Some(c) = comment {
        let enc: String = c
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        body.push_str(&format!("&comment={enc}"));
    }
    request(
        "POST",
        &format!("/s/{token}"),
        &[("accept", "text/html")],
        Some(("application/x-www-form-urlencoded", &body)),
    )
}

/// Signs link claims with the worker's secret, as the worker does (for expired-link tests).
pub fn sign_token(claims: &Value) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let master = std::env::var("KPI_LINK_SECRET")
        .expect("KPI_LINK_SECRET is not set: run `cargo xtask test`");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let tenant = claims["t"].as_str().unwrap();
    let mut k = <Hmac<sha2::Sha256>>::new_from_slice(master.as_bytes()).unwrap();
    k.update(format!("kpi-link-v1:{tenant}").as_bytes());
    let key = k.finalize().into_bytes();
    let payload = b64.encode(claims.to_string());
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(&key).unwrap();
    mac.update(payload.as_bytes());
    format!("{payload}.{}", b64.encode(mac.finalize().into_bytes()))
}

/// A JSON value as a CSV export writes it: empty for null, JSON text for arrays, and text
/// a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) behind
/// an apostrophe.
pub fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses CSV text into its header and records.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_string)
        .collect();
    let records = rdr
        .records()
        .map(|r| {
            r.expect("a valid record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (headers, records)
}

/// A small deterministic pseudo-random sequence (xorshift), seeded per test run.
pub struct Rng(u64);

impl Rng {
    /// Seeded from the clock; the seed is printed so a failure can be replayed.
    pub fn new() -> Rng {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        eprintln!("rng seed {seed}");
        Rng(seed)
    }

    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

/// Asserts that a JSON number is within `rel` (relative) of `expected`.
pub fn assert_near(actual: &Value, expected: f64, rel: f64, what: &str) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {actual}"));
    assert!(
        (a - expected).abs() <= expected.abs() * rel,
        "{what}: {a} is not within {:.1} % of {expected}",
        rel * 100.0
    );
}

/// One webhook request as a [`Receiver`] saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Lower-cased header names and their values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Delivery {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// A webhook endpoint on 127.0.0.1 for the worker to call: it records every request and
/// answers the statuses of its script in turn (then 204). A `hold` makes it keep the first
/// request waiting until [`Receiver::release`], so a test can see what happened meanwhile.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Delivery>>>,
    release: std::sync::mpsc::Sender<()>,
}

impl Receiver {
    /// Starts a receiver answering `script` (HTTP statuses) to its first requests.
    pub fn start(script: Vec<u16>, hold: bool) -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let log = seen.clone();
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            let mut gate = hold.then_some(gate);
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                log.lock().unwrap().push(Delivery {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                if let Some(g) = gate.take() {
                    let _ = g.recv_timeout(Duration::from_secs(60));
                }
                let status = script.next().unwrap_or(204);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver { url, seen, release }
    }

    /// What it has received so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }

    /// Lets a held first request be answered.
    pub fn release(&self) {
        let _ = self.release.send(());
    }

    /// Waits until `n` requests have arrived, running the worker's cron in between (it
    /// retries due deliveries); panics after `secs` seconds.
    pub fn wait_for(&self, n: usize, secs: u64) -> Vec<Delivery> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.deliveries();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} webhook requests arrived: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(300));
            run_cron();
        }
    }
}

/// Runs the worker's cron handler once (`wrangler dev --test-scheduled`).
pub fn run_cron() {
    let r = request("GET", "/__scheduled?cron=*+*+*+*+*", &[], None);
    assert_eq!(r.status, 200, "cron: {}", r.text);
}

/// The Standard Webhooks signature of a delivery under `secret` (`whsec_…`).
pub fn webhook_signature(secret: &str, d: &Delivery) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            d.header("webhook-id"),
            d.header("webhook-timestamp"),
            d.body
        )
        .as_bytes(),
    );
    format!("v1,{}", b64.encode(mac.finalize().into_bytes()))
}

/// One test at a time, for the tests of a file where one writes the local D1 file with
/// [`sql`] while the worker runs: that write locks the file, and a concurrent write of another
/// test then fails with SQLITE_BUSY. Every test of such a file holds the guard throughout.
pub fn d1_file_turn() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `script` with Debian's `sqlite3` on the worker's local D1 file (the state directory
/// `cargo xtask test` passes as `KPI_TEST_STATE`) while the worker runs: D1 keeps its SQLite
/// file in WAL mode, so both see each other's writes. For what no route can show or do — the
/// rows erasure must leave clean, a row an older version could write — and only ever on the
/// test's own tenant. Returns the output, one row a line, fields separated by `|`.
pub fn sql(script: &str) -> String {
    let state = std::env::var("KPI_TEST_STATE")
        .expect("KPI_TEST_STATE is not set: run the tests with `cargo xtask test`");
    let dir = std::path::Path::new(&state).join("v3/d1/miniflare-D1DatabaseObject");
    let db = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_name().is_some_and(|n| n != "metadata.sqlite")
        })
        .expect("the local D1 database file");
    let out = std::process::Command::new("sqlite3")
        .args(["-batch", "-bail", "-cmd", ".timeout 10000"])
        .arg(&db)
        .arg(script)
        .output()
        .expect("running sqlite3");
    assert!(
        out.status.success(),
        "sqlite3 {script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Quotes a string as an SQL literal.
pub fn sql_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What the worker has written to its console so far (`KPI_WORKER_LOG`, the file
/// `cargo xtask test` sends wrangler's output to, worker console lines included).
pub fn worker_log() -> String {
    let path = std::env::var("KPI_WORKER_LOG")
        .expect("KPI_WORKER_LOG is not set: run the tests with `cargo xtask test`");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The worker's wasm linear memory, from `GET /healthz`.
pub fn wasm_memory_bytes() -> u64 {
    let r = request("GET", "/healthz", &[], None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["wasm_memory_bytes"]
        .as_u64()
        .expect("wasm_memory_bytes")
}

/// What [`stream_chunked`] saw: the reply, and how many body bytes were written before it.
#[derive(Debug)]
pub struct Streamed {
    /// HTTP status of the reply.
    pub status: u16,
    /// Body of the reply.
    pub text: String,
    /// Body bytes written before the reply came (or the writing stopped).
    pub sent: u64,
}

/// Sends a body of `total` bytes with `Transfer-Encoding: chunked` (no `Content-Length`),
/// generated chunk by chunk — `prefix`, then filler — so the client never holds it. Writing
/// stops as soon as the reply has arrived; the reply is read by a second thread meanwhile.
pub fn stream_chunked(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    prefix: &[u8],
    total: u64,
) -> Streamed {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    let base = base();
    let hostport = base
        .strip_prefix("http://")
        .expect("an http:// test URL")
        .trim_end_matches('/');
    let mut sock = std::net::TcpStream::connect(hostport).expect("connect to the worker");
    sock.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {hostport}\r\ntransfer-encoding: chunked\r\n\
         connection: close\r\n"
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("cf-connecting-ip"))
    {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        head.push_str(&format!(
            "cf-connecting-ip: 10.200.{}.{}\r\n",
            (n >> 8) & 255,
            n & 255
        ));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes())
        .expect("write the request head");

    let answered = Arc::new(AtomicBool::new(false));
    let reader_sock = sock.try_clone().expect("clone the socket");
    let flag = answered.clone();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(reader_sock);
        let mut status_line = String::new();
        if r.read_line(&mut status_line).unwrap_or(0) == 0 {
            flag.store(true, Ordering::SeqCst);
            return (0u16, String::from("(connection closed without a reply)"));
        }
        flag.store(true, Ordering::SeqCst);
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (mut len, mut chunked) = (None, false);
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if let Some(n) = len {
            body.resize(n, 0);
            let _ = r.read_exact(&mut body);
        } else if chunked {
            loop {
                let mut size = String::new();
                if r.read_line(&mut size).unwrap_or(0) == 0 {
                    break;
                }
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                if n == 0 {
                    break;
                }
                let mut chunk = vec![0; n + 2];
                if r.read_exact(&mut chunk).is_err() {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            let _ = r.read_to_end(&mut body);
        }
        (status, String::from_utf8_lossy(&body).into_owned())
    });

    const CHUNK: usize = 64 * 1024;
    let filler = vec![b'a'; CHUNK];
    let mut sent = 0u64;
    let mut first = true;
    while sent < total && !answered.load(Ordering::SeqCst) {
        let data: &[u8] = if first { prefix } else { &filler };
        first = false;
        let n = (data.len() as u64).min(total - sent) as usize;
        if n == 0 {
            continue;
        }
        let frame = [
            format!("{n:x}\r\n").as_bytes(),
            &data[..n],
            b"\r\n".as_slice(),
        ]
        .concat();
        if sock.write_all(&frame).is_err() {
            break;
        }
        sent += n as u64;
    }
    if sent >= total {
        let _ = sock.write_all(b"0\r\n\r\n");
    }
    let (status, text) = reader.join().expect("the reply reader");
    Streamed { status, text, sent }
}

/// How many requests to `route` (as the worker logs routes: `/s/:token` for survey pages)
/// the worker has answered with `status`, from its own `"event": "request"` log lines.
pub fn logged_answers(route: &str, status: u16) -> usize {
    worker_log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "request" && v["route"] == route && v["status"] == status)
        .count()
}

/// What kpi-core makes of day rollups (`GET /v1/rollups`) for the comma-separated `metrics`
/// over `period`, with the previous period, broken down by `segment`: written as the offline
/// module writes it (kpi-core's JSON writer), so it equals the `kpis` `GET /v1/kpis` answers.
pub fn offline_kpis(
    data: &kpi_core::days::DayRollups,
    metrics: &str,
    period: kpi_core::period::Period,
    segment: Option<&str>,
) -> Value {
    use kpi_core::kpi::{self, Lang, ReportOptions};
    let defs: Vec<_> = metrics
        .split(',')
        .map(|id| kpi::find(id).unwrap())
        .collect();
    let opts = ReportOptions {
        lang: Lang::En,
        period: Some(period),
        segment: segment.and_then(kpi_core::rollup::Dim::parse),
        ..Default::default()
    };
    let mut o = kpi_core::json::Out::new();
    kpi_core::report::write_reports(&mut o, &data.reports(period, true, &defs, &opts));
    serde_json::from_str(&o.finish()).unwrap()
}

/// The wall clock in Unix milliseconds, as the worker reads it.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
