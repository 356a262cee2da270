//! Bodies are refused at the route's limit, whatever the headers say: a 200 MiB chunked body
//! (no `Content-Length`) to every route that reads one is a 413 and the isolate's wasm memory
//! does not move. A survey form's token is checked before its body is read, and multipart
//! forms are refused.
//!
//! The worker answers as soon as the limit is passed, while the client is still sending.
//! Under `wrangler dev` that reply goes through the dev server's proxy, which sometimes loses
//! it ("Network connection lost": a bare 500, or a reset) — the proxy, not the worker, which
//! production has not. When that happens the worker's own log line for the request is the
//! answer checked.
//!
//! The memory figure is the isolate's: cargo runs the test binaries one after another, and
//! the tests here take turns (`ONE_AT_A_TIME`), so nothing else allocates in the worker
//! while one of them measures.
use std::sync::Mutex;

use serde_json::json;
use tests::*;

const MIB: u64 = 1024 * 1024;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every route that reads a body: method, path, credential, content type and the first bytes
/// of a body that would be valid if it ended there.
fn routes(
    t: &Tenant,
    token: &str,
) -> Vec<(&'static str, String, Option<String>, &'static str, String)> {
    let sk = Some(t.secret_key.clone());
    let admin = Some(admin_token());
    let json = "application/json";
    vec![
        (
            "POST",
            "/admin/tenants".into(),
            admin.clone(),
            json,
            r#"{"id": "x", "name": ""#.into(),
        ),
        (
            "PUT",
            "/admin/demo".into(),
            admin.clone(),
            json,
            r#"{"tenant": "x", "publishable_key": ""#.into(),
        ),
        (
            "POST",
            format!("/admin/tenants/{}/keys", t.id),
            admin,
            json,
            r#"{"revoke_others": false, "x": ""#.into(),
        ),
        (
            "POST",
            "/v1/survey-links".into(),
            sk.clone(),
            json,
            r#"{"survey": "nps", "respondent": ""#.into(),
        ),
        (
            "POST",
            "/v1/responses".into(),
            None,
            json,
            format!(r#"{{"token": "{token}", "score": 9, "comment": ""#),
        ),
        (
            "POST",
            "/v1/responses/import".into(),
            sk.clone(),
            json,
            r#"{"responses": [{"id": ""#.into(),
        ),
        (
            "POST",
            "/v1/tickets".into(),
            sk.clone(),
            json,
            r#"{"tickets": [{"id": ""#.into(),
        ),
        (
            "POST",
            "/v1/events".into(),
            sk.clone(),
            json,
            r#"[{"id": ""#.into(),
        ),
        (
            "POST",
            "/v1/events".into(),
            sk.clone(),
            "application/x-ndjson",
            r#"{"id": ""#.into(),
        ),
        (
            "PUT",
            "/v1/targets".into(),
            sk.clone(),
            json,
            r#"{"targets": {"nps": {"min": 0, "goal": 1}}, "x": ""#.into(),
        ),
        (
            "PATCH",
            "/v1/settings".into(),
            sk.clone(),
            json,
            r#"{"name": ""#.into(),
        ),
        (
            "POST",
            "/v1/keys".into(),
            sk,
            json,
            r#"{"kind": "secret", "x": ""#.into(),
        ),
        (
            "POST",
            format!("/s/{token}"),
            None,
            "application/x-www-form-urlencoded",
            "score=9&comment=".into(),
        ),
    ]
}

fn send(
    route: &(&'static str, String, Option<String>, &'static str, String),
    total: u64,
) -> Streamed {
    let (method, path, bearer, ct, prefix) = route;
    let auth = bearer.as_ref().map(|b| format!("Bearer {b}"));
    let mut headers = vec![("content-type", *ct), ("accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    stream_chunked(method, path, &headers, prefix.as_bytes(), total)
}

/// The route as the worker's log names it.
fn logged_route(path: &str) -> &str {
    if path.starts_with("/s/") {
        "/s/:token"
    } else if path.starts_with("/admin/tenants/") && path.ends_with("/keys") {
        "/admin/tenants/:id/keys"
    } else {
        path
    }
}

/// The status the worker gave a streamed request: the one the client read, or — when the
/// dev server's proxy lost the reply (no status, or its bare 500) — the one the worker logged
/// for it (one more `expected` line for the route than `before`).
fn answered(s: &Streamed, route: &str, expected: u16, before: usize) -> u16 {
    let lost = s.status == 0 || (s.status == 500 && !s.text.contains("\"error\""));
    if !lost {
        return s.status;
    }
    for _ in 0..50 {
        if logged_answers(route, expected) > before {
            eprintln!("    (the dev proxy lost the reply; the worker logged {expected})");
            return expected;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    s.status
}

#[test]
fn huge_chunked_bodies_are_413_at_the_limit_and_memory_stays_flat() {
    let _turn = turn();
    let t = new_tenant("huge");
    let link = t.mint(json!({}));
    let token = link["token"].as_str().unwrap().to_string();
    let routes = routes(&t, &token);
    // Warm-up: one body just over each limit, so the allocator already holds what a refused
    // body needs (the statuses are checked below, on the huge bodies).
    for r in &routes {
        send(r, 2 * MIB);
    }
    let mut failures = Vec::new();
    for r in &routes {
        let before = wasm_memory_bytes();
        let logged = logged_answers(logged_route(&r.1), 413);
        let s = send(r, 200 * MIB);
        let status = answered(&s, logged_route(&r.1), 413, logged);
        let after = wasm_memory_bytes();
        eprintln!(
            "{} {}: {} after {:.1} MiB sent; wasm memory {before} → {after}",
            r.0,
            r.1,
            status,
            s.sent as f64 / MIB as f64
        );
        if status != 413 || after != before {
            failures.push(format!(
                "{} {}: status {} ({}) after {} bytes, wasm memory {before} → {after}",
                r.0, r.1, status, s.text, s.sent
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Nothing was stored on the way.
    assert_eq!(t.get("/v1/responses").json()["responses"], json!([]));
}

#[test]
fn a_survey_form_with_a_bad_token_is_refused_before_its_body_is_read() {
    let _turn = turn();
    let before = wasm_memory_bytes();
    let forged = "eyJ2IjoxfQ.AAAA";
    let logged = logged_answers("/s/:token", 401);
    let s = stream_chunked(
        "POST",
        &format!("/s/{forged}"),
        &[("content-type", "application/x-www-form-urlencoded")],
        b"score=9&comment=",
        200 * MIB,
    );
    assert_eq!(answered(&s, "/s/:token", 401, logged), 401, "{}", s.text);
    assert_eq!(wasm_memory_bytes(), before);
}

#[test]
fn multipart_survey_forms_are_refused() {
    let _turn = turn();
    let t = new_tenant("multipart");
    let link = t.mint(json!({}));
    let tok = link["token"].as_str().unwrap();
    let body = "--XyZ\r\ncontent-disposition: form-data; name=\"score\"\r\n\r\n9\r\n--XyZ--\r\n";
    let r = request(
        "POST",
        &format!("/s/{tok}"),
        &[],
        Some(("multipart/form-data; boundary=XyZ", body)),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (415, "unsupported_media_type"),
        "{}",
        r.text
    );
    assert_eq!(t.nps_now()["n"], 0);
}
