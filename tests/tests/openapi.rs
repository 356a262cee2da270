//! `/openapi.json` tells the truth: every documented operation exists on the running worker
//! and answers only statuses the document lists, with and without credentials.
use serde_json::{json, Value};
use tests::*;

fn operations(spec: &Value) -> Vec<(String, String, Vec<u16>)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let statuses = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .filter_map(|k| k.parse().ok())
                .collect();
            out.push((path.clone(), method.to_uppercase(), statuses));
        }
    }
    out
}

fn call(method: &str, path: &str, bearer: Option<&str>) -> Reply {
    let path = path
        .replace("{token}", "not.a-token")
        .replace("{respondent}", "C-404");
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let mut headers: Vec<(&str, &str)> = vec![("accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    match method {
        "GET" | "DELETE" => request(method, &path, &headers, None),
        _ if path.starts_with("/s/") => request(
            method,
            &path,
            &headers,
            Some(("application/x-www-form-urlencoded", "score=1")),
        ),
        _ => request(method, &path, &headers, Some(("application/json", "{}"))),
    }
}

#[test]
fn the_document_is_openapi_3_1_and_every_operation_answers_a_documented_status() {
    let r = request("GET", "/openapi.json", &[], None);
    assert_eq!(r.status, 200);
    let spec = r.json();
    assert_eq!(spec["openapi"], "3.1.0");
    let ops = operations(&spec);
    assert!(ops.len() >= 20, "{} operations", ops.len());
    let t = new_tenant("openapi");
    let admin = admin_token();
    for (path, method, statuses) in &ops {
        for bearer in [None, Some(t.secret_key.as_str()), Some(admin.as_str())] {
            let reply = call(method, path, bearer);
            assert!(
                statuses.contains(&reply.status),
                "{method} {path} with {:?} answered {} (documented: {statuses:?}): {}",
                bearer.map(|b| &b[..3]),
                reply.status,
                reply.text
            );
            if reply.status >= 400
                && reply
                    .header("content-type")
                    .unwrap_or("")
                    .starts_with("application/json")
            {
                assert!(
                    reply.json()["error"]["code"].is_string(),
                    "{method} {path}: error shape {}",
                    reply.text
                );
            }
        }
    }
}

#[test]
fn every_documented_path_is_routed() {
    let spec = request("GET", "/openapi.json", &[], None).json();
    let ops = operations(&spec);
    for (path, _, _) in &ops {
        // A method the document does not list for the path: the path is routed, so 405.
        let listed: Vec<&str> = ops
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, m, _)| m.as_str())
            .collect();
        let method = ["PATCH", "PUT", "DELETE", "POST"]
            .into_iter()
            .find(|m| !listed.contains(m))
            .expect("an unused method");
        let r = request(
            method,
            &path.replace("{token}", "x.y"),
            &[],
            Some(("application/json", &json!({}).to_string())),
        );
        assert_eq!(
            r.status, 405,
            "{method} {path} must be 405 (the path is routed): {}",
            r.text
        );
        // RFC 9110: a 405 lists the methods the path answers; schemathesis checks it.
        let allow = r.header("allow").unwrap_or("");
        assert!(
            !allow.is_empty()
                && !allow.contains(method)
                && listed.iter().all(|m| allow.contains(m)),
            "{method} {path}: Allow {allow:?}, documented {listed:?}"
        );
        // A method the runtime does not know is not served as a GET.
        let q = request("QUERY", &path.replace("{token}", "x.y"), &[], None);
        assert_eq!(q.status, 405, "QUERY {path}: {}", q.text);
    }
}
