//! Webhooks: a detractor or a bottom-box CSAT answer reaches the tenant's URL, signed the
//! Standard Webhooks way, after the answer is stored; a slow or failing receiver never fails
//! or delays the submission, and failed deliveries are retried until they land. One test
//! at a time ([`d1_file_turn`]): one of them writes the local D1 file with sqlite3.
use serde_json::{json, Value};
use tests::*;

/// Points the tenant's webhook at `url`; returns the signing secret.
fn set_webhook(t: &Tenant, url: &str) -> String {
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"webhook": {"url": url}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.json()["settings"]["webhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    secret
}

fn deliveries(t: &Tenant) -> Value {
    let r = t.get("/v1/settings");
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["settings"]["webhook"]["deliveries"].clone()
}

/// The delivery counts once the one expected delivery is recorded (or after 10 s).
fn settled(t: &Tenant) -> Value {
    let mut counts = deliveries(t);
    for _ in 0..50 {
        if counts["delivered"] == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        counts = deliveries(t);
    }
    counts
}

#[test]
fn a_detractor_reaches_the_webhook_signed_while_the_submission_does_not_wait() {
    let _turn = d1_file_turn();
    let t = new_tenant("hook");
    // The receiver holds its first request open until released.
    let rx = Receiver::start(vec![], true);
    let secret = set_webhook(&t, &rx.url);
    let promoter = t.mint(json!({"respondent": "C-9"}));
    let detractor = t.mint(json!({"respondent": "C-3", "ticket": "T-77", "channel": "zalo"}));
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": promoter["token"], "score": 9}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let comment = "Chờ lâu quá <b>!</b>";
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": detractor["token"], "score": 3, "comment": comment}),
    );
    // The answer is acknowledged while the receiver still holds the webhook request.
    assert_eq!(r.status, 201, "{}", r.text);
    let got = rx.wait_for(1, 20);
    rx.release();
    assert_eq!(got.len(), 1, "one alert, none for the promoter: {got:?}");
    let d = &got[0];
    assert!(d.header("webhook-id").starts_with("msg_"), "{d:?}");
    assert_eq!(d.header("content-type"), "application/json");
    assert_eq!(d.header("webhook-signature"), webhook_signature(&secret, d));
    let ts: i64 = d.header("webhook-timestamp").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - ts).abs() < 300, "timestamp {ts} vs now {now}");
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["type"], "survey.detractor");
    let data = &body["data"];
    assert_eq!(data["tenant"], t.id.as_str());
    assert_eq!(data["survey"], "nps");
    assert_eq!(data["score"], 3);
    assert_eq!(data["comment"], comment);
    assert_eq!(data["respondent"], "C-3");
    assert_eq!(data["ticket"], "T-77");
    assert_eq!(data["channel"], "zalo");
    // The stored answer is there whatever the webhook does.
    assert_eq!(t.nps_now()["n"], 2);
    // Exactly one message was written to the outbox, and it is delivered.
    assert_eq!(
        settled(&t),
        json!({"pending": 0, "delivered": 1, "failed": 0})
    );
    // Had the submission waited for the webhook, the held first attempt would have timed
    // out and a second one would have come: one request means it did not wait.
    assert_eq!(rx.deliveries().len(), 1);
}

#[test]
fn bottom_box_csat_raises_a_low_csat_alert_and_a_signature_checks_against_a_rotated_secret() {
    let _turn = d1_file_turn();
    let t = new_tenant("hook-csat");
    let rx = Receiver::start(vec![], false);
    let old = set_webhook(&t, &rx.url);
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"webhook": {"url": rx.url, "rotate_secret": true}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.json()["settings"]["webhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(secret, old, "rotation gives a new secret");
    let ok = t.mint(json!({"survey": "csat", "scale": 5}));
    let low = t.mint(json!({"survey": "csat", "scale": 5}));
    assert_eq!(
        answer_form(ok["token"].as_str().unwrap(), 3, None).status,
        201
    );
    assert_eq!(
        answer_form(low["token"].as_str().unwrap(), 2, None).status,
        201
    );
    let got = rx.wait_for(1, 20);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "survey.low_csat");
    assert_eq!(body["data"]["scale"], 5);
    assert_eq!(body["data"]["score"], 2);
    assert_eq!(
        got[0].header("webhook-signature"),
        webhook_signature(&secret, &got[0])
    );
    assert_ne!(
        got[0].header("webhook-signature"),
        webhook_signature(&old, &got[0])
    );
}

#[test]
fn a_failing_receiver_never_fails_the_submission_and_the_message_is_retried_until_it_lands() {
    let _turn = d1_file_turn();
    let t = new_tenant("hook-retry");
    // Three quick attempts fail, then the cron's retry succeeds.
    let rx = Receiver::start(vec![500, 503, 500], false);
    let secret = set_webhook(&t, &rx.url);
    let link = t.mint(json!({}));
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": link["token"], "score": 0}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let got = rx.wait_for(4, 60);
    let ids: Vec<&str> = got.iter().map(|d| d.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one message id: {ids:?}");
    for d in &got {
        assert_eq!(d.header("webhook-signature"), webhook_signature(&secret, d));
    }
    assert_eq!(
        settled(&t),
        json!({"pending": 0, "delivered": 1, "failed": 0})
    );
    assert_eq!(t.nps_now()["n"], 1);
}

#[test]
fn an_unreachable_webhook_leaves_answers_stored_and_counts_them_pending() {
    let _turn = d1_file_turn();
    let t = new_tenant("hook-down");
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_webhook(&t, &format!("http://127.0.0.1:{port}/hook"));
    for score in [0, 1, 2] {
        let link = t.mint(json!({"respondent": format!("C-{}", score % 2)}));
        let r = answer_form(link["token"].as_str().unwrap(), score, Some("tệ"));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(t.nps_now()["n"], 3);
    let counts = deliveries(&t);
    assert_eq!(counts["pending"], 3, "{counts}");
    assert_eq!(counts["delivered"], 0, "{counts}");
    // Erasing a respondent also drops the alerts that carry their comment.
    let r = t.send("DELETE", "/v1/respondents/C-0", None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["erased"], 2);
    let counts = deliveries(&t);
    assert_eq!(counts["pending"], 1, "{counts}");
    assert_eq!(t.nps_now()["n"], 3, "the answers still count");
}

#[test]
fn webhook_urls_are_parsed_and_refused_where_they_would_reach_us_or_a_private_network() {
    let _turn = d1_file_turn();
    let t = new_tenant("hook-url");
    let own = format!("{}/v1/responses", base());
    for bad in [
        "https://bad host/hook",
        "https://",
        "not a url",
        "ftp://hooks.example.com/kpi",
        "https://hooks.example.com:8443/kpi",
        "https://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://167772161/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://user:pass@hooks.example.com/kpi",
        own.as_str(),
    ] {
        let r = t.send(
            "PATCH",
            "/v1/settings",
            Some(&json!({"webhook": {"url": bad}})),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "invalid"),
            "{bad}: {}",
            r.text
        );
    }
    assert!(t.get("/v1/settings").json()["settings"]["webhook"].is_null());
    for good in [
        "https://hooks.example.com/kpi",
        "https://hooks.example.com:443/kpi?tenant=1",
        "https://93.184.215.14/hook",
    ] {
        let r = t.send(
            "PATCH",
            "/v1/settings",
            Some(&json!({"webhook": {"url": good}})),
        );
        assert_eq!(r.status, 200, "{good}: {}", r.text);
    }
}

#[test]
fn a_bad_stored_url_is_a_recorded_failed_attempt_and_the_cron_delivers_the_others() {
    let _turn = d1_file_turn();
    let marker = unique_id("hookmarker");
    let bad = new_tenant("hook-bad");
    let good = new_tenant("hook-good");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_webhook(&bad, &format!("http://127.0.0.1:{dead}/{marker}"));
    // A URL as an earlier version accepted it, written where the worker keeps it. The PATCH
    // above emptied the configuration cache, so the next request reads this row.
    sql(&format!(
        "UPDATE tenants SET webhook_url = {} WHERE id = {}",
        sql_lit(&format!("https://bad host-{marker}/hook")),
        sql_lit(&bad.id)
    ));
    let rx = Receiver::start(vec![500, 500, 500], false);
    set_webhook(&good, &rx.url);
    for t in [&bad, &good] {
        let link = t.mint(json!({}));
        let r = answer_form(link["token"].as_str().unwrap(), 0, None);
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // The good tenant's three quick attempts fail (500); its message goes to the cron.
    rx.wait_for(3, 30);
    std::thread::sleep(std::time::Duration::from_secs(1));
    // Both messages due, the bad tenant's first.
    let lit = |t: &Tenant| sql_lit(&t.id);
    sql(&format!(
        "UPDATE webhook_outbox SET next_at = 0 WHERE tenant_id = {}; \
         UPDATE webhook_outbox SET next_at = 1 WHERE tenant_id = {};",
        lit(&bad),
        lit(&good)
    ));
    let got = rx.wait_for(4, 30);
    assert_eq!(got.len(), 4);
    let mut counts = deliveries(&good);
    for _ in 0..50 {
        if counts["delivered"] == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        counts = deliveries(&good);
    }
    assert_eq!(counts, json!({"pending": 0, "delivered": 1, "failed": 0}));
    // The bad URL's attempts are recorded as failed attempts, as any other failure.
    let row = sql(&format!(
        "SELECT attempts, last_error FROM webhook_outbox WHERE tenant_id = {}",
        lit(&bad)
    ));
    let attempts: i64 = row
        .split('|')
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(attempts >= 2, "attempts recorded: {row}");
    assert!(!row.contains(&marker), "{row}");
    // Neither the bad URL nor the unreachable one ever reaches the log.
    let log = worker_log();
    assert!(
        log.contains("webhook_failed"),
        "the log has the worker's lines"
    );
    assert!(
        !log.contains(&marker),
        "the hook URL is in the log: {}",
        log.lines()
            .filter(|l| l.contains(&marker))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
