//! What must not get in: forged, altered, expired and cross-tenant tokens; keys used where
//! they do not belong; wrong origins. Every error is the JSON of the contract.
use serde_json::json;
use tests::*;

fn far_future() -> i64 {
    4_000_000_000
}

#[test]
fn forged_and_altered_tokens_are_401() {
    let _turn = d1_file_turn();
    let t = new_tenant("forge");
    let link = t.mint(json!({}));
    let tok = link["token"].as_str().unwrap();
    let (payload, sig) = tok.split_once('.').unwrap();
    let mut altered_sig = sig.to_string();
    let last = altered_sig.pop().unwrap();
    altered_sig.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        format!("{payload}.{altered_sig}"),
        format!("{}x.{sig}", payload),
        "not-a-token".to_string(),
        payload.to_string(),
    ] {
        let r = post_json("/v1/responses", None, &json!({"token": bad, "score": 9}));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "invalid_token"),
            "{bad}: {}",
            r.text
        );
    }
    // A token signed with some other secret for this very tenant.
    let claims =
        json!({"v":1,"t":t.id,"k":"nps","s":10,"l":"x1","c":"email","g":"en","e":far_future()});
    let (p2, _) = sign_token(&claims)
        .split_once('.')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": format!("{p2}.{sig}"), "score": 9}),
    );
    assert_eq!(r.status, 401);
    assert_eq!(t.nps_now()["n"], 0);
}

#[test]
fn a_token_moved_to_another_tenant_is_401() {
    let _turn = d1_file_turn();
    let a = new_tenant("tenant-a");
    let b = new_tenant("tenant-b");
    let tok = a.mint(json!({}))["token"].as_str().unwrap().to_string();
    let (payload, sig) = tok.split_once('.').unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    claims["t"] = json!(b.id);
    let moved = format!("{}.{sig}", b64.encode(claims.to_string()));
    let r = post_json("/v1/responses", None, &json!({"token": moved, "score": 10}));
    assert_eq!(r.status, 401);
    assert_eq!(b.nps_now()["n"], 0);
}

#[test]
fn expired_links_are_410_and_record_nothing() {
    let _turn = d1_file_turn();
    let t = new_tenant("expired");
    let claims = json!({"v":1,"t":t.id,"k":"nps","s":10,"l":"old-link","c":"email","g":"en","e":1_000_000_000});
    let tok = sign_token(&claims);
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 9}));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (410, "link_expired"),
        "{}",
        r.text
    );
    let page = request(
        "GET",
        &format!("/s/{tok}"),
        &[("accept", "text/html")],
        None,
    );
    assert_eq!(page.status, 410);
    assert!(page.text.contains("hết hạn") || page.text.contains("expired"));
    assert_eq!(answer_form(&tok, 9, None).status, 410);
    // The same claims, unexpired, are accepted: the signature scheme is the worker's.
    let fresh = sign_token(
        &json!({"v":1,"t":t.id,"k":"nps","s":10,"l":"new-link","c":"email","g":"en","e":far_future()}),
    );
    assert_eq!(
        post_json("/v1/responses", None, &json!({"token": fresh, "score": 9})).status,
        201
    );
}

#[test]
fn keys_in_the_wrong_place_are_refused() {
    let _turn = d1_file_turn();
    let t = new_tenant("keys");
    let body = json!({"survey": "nps"});
    let r = post_json("/v1/survey-links", None, &body);
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let r = post_json(
        "/v1/survey-links",
        Some("sk_notarealkeyatallnotarealkeyatallnotareal"),
        &body,
    );
    assert_eq!(r.status, 401);
    let r = post_json("/v1/survey-links", Some(&t.publishable_key), &body);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "forbidden"),
        "publishable key on a secret route"
    );
    // Publishable key: only from an allowed origin.
    let path = format!("/v1/kpis?metrics=nps&key={}", t.publishable_key);
    let r = request("GET", &path, &[("origin", "https://evil.example")], None);
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://evil.example"),
        "readable error for the widget"
    );
    assert_eq!(request("GET", &path, &[], None).status, 403);
    // Browsers omit Origin on same-origin GETs; the Referer's origin stands in for it.
    let page = format!("{}/crm/customers?id=1", t.origin);
    assert_eq!(
        request("GET", &path, &[("referer", &page)], None).status,
        200
    );
    let r = request("GET", &path, &[("referer", "https://evil.example/x")], None);
    assert_eq!(r.status, 403);
    let ok = request("GET", &path, &[("origin", &t.origin)], None);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some(t.origin.as_str())
    );
    // Secret key reads from a server, no origin needed.
    let r = request(
        "GET",
        "/v1/kpis?metrics=nps",
        &[("authorization", &format!("Bearer {}", t.secret_key))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn admin_route_needs_the_admin_token_and_validates() {
    let _turn = d1_file_turn();
    let body = json!({"id": unique_id("adm"), "name": "X"});
    assert_eq!(post_json("/admin/tenants", None, &body).status, 401);
    assert_eq!(
        post_json("/admin/tenants", Some("wrong-token-wrong-token"), &body).status,
        401
    );
    let admin = admin_token();
    assert_eq!(post_json("/admin/tenants", Some(&admin), &body).status, 201);
    assert_eq!(post_json("/admin/tenants", Some(&admin), &body).status, 409);
    for bad_id in ["AB", "Has Spaces", "x", "-leading"] {
        let r = post_json(
            "/admin/tenants",
            Some(&admin),
            &json!({"id": bad_id, "name": "X"}),
        );
        assert_eq!(r.status, 422, "{bad_id}");
    }
    // Found by spec fuzzing: both were stored.
    for bad in [
        json!({"id": unique_id("adm"), "name": "Spa\u{17}\nX"}),
        json!({"id": unique_id("adm"), "name": "X", "allowed_origins": ["http://["]}),
    ] {
        let r = post_json("/admin/tenants", Some(&admin), &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
}

#[test]
fn malformed_bodies_methods_and_routes() {
    let _turn = d1_file_turn();
    let t = new_tenant("malformed");
    let auth = format!("Bearer {}", t.secret_key);
    let r = request(
        "POST",
        "/v1/survey-links",
        &[("authorization", &auth)],
        Some(("application/json", "{not json")),
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "malformed"));
    let r = request(
        "POST",
        "/v1/survey-links",
        &[("authorization", &auth)],
        Some(("text/plain", "{}")),
    );
    assert_eq!(r.status, 415);
    let big = format!(
        "{{\"survey\":\"nps\",\"respondent\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let r = request(
        "POST",
        "/v1/survey-links",
        &[("authorization", &auth)],
        Some(("application/json", &big)),
    );
    assert_eq!(r.status, 413);
    assert_eq!(request("DELETE", "/v1/kpis", &[], None).status, 405);
    let r = request("GET", "/nope", &[], None);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let r = post_json(
        "/v1/survey-links",
        Some(&t.secret_key),
        &json!({"survey": "nps", "count": 1001}),
    );
    assert_eq!(r.status, 422);
    let r = post_json(
        "/v1/survey-links",
        Some(&t.secret_key),
        &json!({"survey": "csat", "scale": 7}),
    );
    assert_eq!(r.status, 422);
    let r = request(
        "GET",
        &format!("/v1/kpis?metrics=nope&key={}", t.publishable_key),
        &[("origin", &t.origin)],
        None,
    );
    assert_eq!(r.status, 422, "unknown KPI id");
}

#[test]
fn secret_keys_are_refused_in_the_query_string() {
    let _turn = d1_file_turn();
    let t = new_tenant("query-key");
    for path in [
        format!("/v1/settings?key={}", t.secret_key),
        format!("/v1/responses?key={}", t.secret_key),
        format!("/v1/kpis?metrics=nps&key={}", t.secret_key),
    ] {
        let r = request("GET", &path, &[], None);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "unauthorized"),
            "{path}: {}",
            r.text
        );
    }
    // The publishable key is what `key=` is for.
    let r = request(
        "GET",
        &format!("/v1/kpis?metrics=nps&key={}", t.publishable_key),
        &[("origin", &t.origin)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn settings_names_follow_the_rules_of_creation() {
    let _turn = d1_file_turn();
    let t = new_tenant("name-rules");
    for bad in [
        json!("Spa\u{17}\nX"),
        json!("Spa\tHoa"),
        json!("   "),
        json!("x".repeat(121)),
    ] {
        let r = t.send("PATCH", "/v1/settings", Some(&json!({ "name": bad })));
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        // The same name is refused at creation too.
        let c = post_json(
            "/admin/tenants",
            Some(&admin_token()),
            &json!({"id": unique_id("name"), "name": bad}),
        );
        assert_eq!(c.status, 422, "{bad} at creation: {}", c.text);
    }
    assert_eq!(t.get("/v1/settings").json()["settings"]["name"], "Test Spa");
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"name": "  Spa Hoa Sen  "})),
    );
    assert_eq!(r.json()["settings"]["name"], "Spa Hoa Sen", "{}", r.text);
}

#[test]
fn a_score_sent_as_a_string_is_refused_as_the_document_says() {
    let _turn = d1_file_turn();
    let t = new_tenant("string-score");
    let link = t.mint(json!({}));
    for score in [json!("9"), json!(9.5), json!(true), json!(null)] {
        let r = post_json(
            "/v1/responses",
            None,
            &json!({"token": link["token"], "score": score}),
        );
        assert_eq!(r.status, 422, "{score}: {}", r.text);
    }
    assert_eq!(t.nps_now()["n"], 0);
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": link["token"], "score": 9}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn a_storage_failure_is_a_500_that_says_nothing_about_storage() {
    let _turn = d1_file_turn();
    let t = new_tenant("storage-error");
    let link = t.mint(json!({}));
    let tok = link["token"].as_str().unwrap();
    assert_eq!(answer_form(tok, 9, None).status, 201);
    // A row D1 cannot read back: the next answer to the link fails inside D1 (its trigger
    // parses the stored contribution). The trigger is set aside to write it, as only a
    // broken storage could.
    let trigger = sql("SELECT sql FROM sqlite_master WHERE name = 'responses_changed';");
    sql(&format!(
        "DROP TRIGGER responses_changed; \
         UPDATE responses SET contrib = 'not json' WHERE tenant_id = {}; {};",
        sql_lit(&t.id),
        trigger.trim()
    ));
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 3}));
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(r.error_code(), "internal");
    let message = r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    for leak in [
        "D1",
        "SQL",
        "sqlite",
        "json",
        "JSON",
        "contrib",
        "rollup",
        "malformed",
    ] {
        assert!(!message.contains(leak), "{leak} in {message:?}");
    }
    // The details are in the worker's log, for the operator.
    assert!(
        worker_log().contains("malformed JSON"),
        "the D1 error is logged"
    );
    // Nothing was half written: the first answer still counts as it was.
    assert_eq!(t.nps_now()["value"], 100.0);
}
