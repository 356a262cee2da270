//! A tenant manages its own credentials: mints keys (optionally expiring), revokes them with
//! effect on the next request, rotates a key with a grace period of its choosing, voids every
//! survey link it has sent, and its webhook secret comes from a master of its own.
use std::time::Duration;

use serde_json::{json, Value};
use tests::*;

/// `GET /v1/settings` with `key`: the status.
fn settings_status(key: &str) -> u16 {
    request(
        "GET",
        "/v1/settings",
        &[("authorization", &format!("Bearer {key}"))],
        None,
    )
    .status
}

/// The tenant's keys as `GET /v1/keys` lists them.
fn keys(t: &Tenant) -> Vec<Value> {
    let r = t.get("/v1/keys");
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["keys"].as_array().cloned().unwrap_or_default()
}

/// The id of the tenant's (only) key of `kind`.
fn key_id(t: &Tenant, kind: &str) -> String {
    let ids: Vec<String> = keys(t)
        .iter()
        .filter(|k| k["kind"] == kind)
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{kind} keys: {ids:?}");
    ids[0].clone()
}

#[test]
fn a_minted_key_works_and_a_revoked_key_is_refused_on_the_next_request() {
    let t = new_tenant("keys-revoke");
    let r = t.post("/v1/keys", &json!({"kind": "secret"}));
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    let sk2 = v["key"].as_str().unwrap().to_string();
    let id2 = v["id"].as_str().unwrap().to_string();
    assert!(sk2.starts_with("sk_"), "{v}");
    assert_eq!(v["kind"], "secret");
    assert!(v["expires_at"].is_null());
    // The plaintext is shown once: the list has ids, never keys.
    let listed = keys(&t);
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.iter().any(|k| k["id"] == id2.as_str()));
    assert!(!t.get("/v1/keys").text.contains(&sk2[3..]));
    // The new key works, and its resolution is now cached.
    assert_eq!(settings_status(&sk2), 200);
    assert_eq!(settings_status(&sk2), 200);
    let r = t.send("DELETE", &format!("/v1/keys/{id2}"), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["revoked"]["id"], id2.as_str());
    assert_eq!(settings_status(&sk2), 401, "revoked: refused at once");
    assert_eq!(settings_status(&t.secret_key), 200);
    assert_eq!(keys(&t).len(), 2);
    let r = t.send("DELETE", &format!("/v1/keys/{id2}"), None);
    assert_eq!(r.status, 404, "{}", r.text);
    // A publishable key is revoked the same way; the widget's next read is refused.
    let pk_id = key_id(&t, "publishable");
    assert_eq!(
        t.send("DELETE", &format!("/v1/keys/{pk_id}"), None).status,
        200
    );
    let r = request(
        "GET",
        &format!("/v1/kpis?metrics=nps&key={}", t.publishable_key),
        &[("origin", &t.origin)],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text);
    // A publishable key mints nothing and revokes nothing.
    let pk = t.post("/v1/keys", &json!({"kind": "publishable"})).json()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {pk}");
    let r = request(
        "POST",
        "/v1/keys",
        &[("authorization", &auth)],
        Some(("application/json", "{}")),
    );
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn keys_of_another_tenant_and_the_last_secret_key_cannot_be_revoked() {
    let a = new_tenant("keys-a");
    let b = new_tenant("keys-b");
    let b_sk = key_id(&b, "secret");
    let r = a.send("DELETE", &format!("/v1/keys/{b_sk}"), None);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(settings_status(&b.secret_key), 200);
    // Revoking its last secret key would lock the tenant out for good.
    let a_sk = key_id(&a, "secret");
    let r = a.send("DELETE", &format!("/v1/keys/{a_sk}"), None);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "conflict"),
        "{}",
        r.text
    );
    assert_eq!(settings_status(&a.secret_key), 200);
    for (bad, status) in [
        (json!({"kind": "root"}), 422),
        (json!({"expires_in": 0}), 422),
        (json!({"grace_period": 60}), 422),
        (json!({"replaces": a_sk, "grace_period": -1}), 422),
        (json!({"kind": "publishable", "replaces": a_sk}), 422),
        (json!({"replaces": "nope000000"}), 404),
        (json!({"replaces": b_sk}), 404),
    ] {
        let r = a.post("/v1/keys", &bad);
        assert_eq!(r.status, status, "{bad}: {}", r.text);
    }
    assert_eq!(keys(&a).len(), 2, "nothing was minted");
}

#[test]
fn rotation_keeps_the_old_key_for_the_grace_period_then_refuses_it() {
    let t = new_tenant("keys-rotate");
    let old_id = key_id(&t, "secret");
    assert_eq!(settings_status(&t.secret_key), 200);
    let r = t.post(
        "/v1/keys",
        &json!({"kind": "secret", "replaces": old_id, "grace_period": 3}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    let new_key = v["key"].as_str().unwrap().to_string();
    assert_eq!(v["replaced"]["id"], old_id.as_str());
    assert!(v["replaced"]["expires_at"].is_string(), "{v}");
    // Both work during the grace period.
    assert_eq!(settings_status(&t.secret_key), 200);
    assert_eq!(settings_status(&new_key), 200);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        settings_status(&t.secret_key),
        401,
        "the grace period is over"
    );
    assert_eq!(settings_status(&new_key), 200);
}

#[test]
fn a_key_minted_with_an_expiry_stops_working_at_it() {
    let t = new_tenant("keys-expiry");
    let r = t.post("/v1/keys", &json!({"kind": "secret", "expires_in": 2}));
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert!(v["expires_at"].is_string(), "{v}");
    let key = v["key"].as_str().unwrap().to_string();
    assert_eq!(settings_status(&key), 200);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(settings_status(&key), 401);
}

#[test]
fn revoking_links_voids_every_link_sent_before_and_only_those() {
    let t = new_tenant("links-revoke");
    let other = new_tenant("links-keep");
    let old = t.mint(json!({}));
    let answered = t.mint(json!({}));
    let theirs = other.mint(json!({}));
    let tok = |l: &Value| l["token"].as_str().unwrap().to_string();
    assert_eq!(answer_form(&tok(&answered), 9, None).status, 201);
    let r = t.post("/v1/survey-links/revoke", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["link_generation"], 1);
    for link in [&old, &answered] {
        let r = post_json(
            "/v1/responses",
            None,
            &json!({"token": tok(link), "score": 2}),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (410, "link_revoked"),
            "{}",
            r.text
        );
        let page = request(
            "GET",
            link["url"].as_str().unwrap(),
            &[("accept", "text/html")],
            None,
        );
        assert_eq!(page.status, 410);
        assert_eq!(answer_form(&tok(link), 2, None).status, 410);
    }
    // The earlier answer still counts; the revoked links added nothing.
    assert_eq!(t.nps_now()["n"], 1);
    let fresh = t.mint(json!({}));
    assert_eq!(answer_form(&tok(&fresh), 10, None).status, 201);
    assert_eq!(answer_form(&tok(&theirs), 10, None).status, 201);
    assert_eq!(t.nps_now()["n"], 2);
    let r = t.post("/v1/survey-links/revoke", &json!({}));
    assert_eq!(r.json()["link_generation"], 2);
    assert_eq!(answer_form(&tok(&fresh), 3, None).status, 410);
}

/// `whsec_` + base64 of HMAC-SHA-256(master, "kpi-webhook-v1:{tenant}:{generation}").
fn derived(master: &str, tenant: &str, generation: u32) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(master.as_bytes()).unwrap();
    mac.update(format!("kpi-webhook-v1:{tenant}:{generation}").as_bytes());
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn webhook_secrets_come_from_their_own_master_per_tenant_and_generation() {
    let hooks = std::env::var("KPI_WEBHOOK_SECRET").expect("KPI_WEBHOOK_SECRET");
    let links = std::env::var("KPI_LINK_SECRET").expect("KPI_LINK_SECRET");
    let t = new_tenant("hook-master");
    let set = |body: Value| {
        let r = t.send("PATCH", "/v1/settings", Some(&json!({ "webhook": body })));
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["settings"]["webhook"]["secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let s0 = set(json!({"url": "https://hooks.example.com/kpi"}));
    assert_eq!(s0, derived(&hooks, &t.id, 0));
    assert_ne!(s0, derived(&links, &t.id, 0), "not from the link master");
    let s1 = set(json!({"url": "https://hooks.example.com/kpi", "rotate_secret": true}));
    assert_eq!(s1, derived(&hooks, &t.id, 1));
}

#[test]
fn the_operator_takes_a_tenant_back_from_a_leaked_secret_key() {
    let t = new_tenant("keys-leak");
    let original = key_id(&t, "secret");
    // Whoever holds the leaked key mints one of their own and revokes the tenant's.
    let thief = t.post("/v1/keys", &json!({})).json()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = request(
        "DELETE",
        &format!("/v1/keys/{original}"),
        &[("authorization", &format!("Bearer {thief}"))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(settings_status(&t.secret_key), 401);
    // The operator mints the tenant a new secret key and revokes every other one.
    let path = format!("/admin/tenants/{}/keys", t.id);
    let body = json!({"revoke_others": true});
    assert_eq!(post_json(&path, Some(&t.secret_key), &body).status, 401);
    assert_eq!(post_json(&path, Some(&thief), &body).status, 401);
    let r = post_json(&path, Some(&admin_token()), &body);
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["revoked"], 2,
        "the thief's key and the publishable key: {v}"
    );
    let fresh = v["key"].as_str().unwrap().to_string();
    assert_eq!(settings_status(&thief), 401);
    assert_eq!(settings_status(&fresh), 200);
    let r = post_json(
        "/admin/tenants/no-such-tenant-here/keys",
        Some(&admin_token()),
        &json!({}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
}
