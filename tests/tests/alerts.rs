//! `kpi.status_changed`: a tenant watches CSAT over the month; when CSAT leaves its target,
//! the cron sends one signed message with both statuses, the value, the target, n and the
//! period — and never twice for the same move.
use serde_json::{json, Value};
use tests::*;

fn answers(t: &Tenant, from: usize, scores: &[i64]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let items: Vec<Value> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"id": format!("a{}", from + i), "survey": "csat", "scale": 5, "score": s,
                   "at": now - 60_000})
        })
        .collect();
    let r = t.post("/v1/responses/import", &json!({"responses": items}));
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_kpi_leaving_its_target_is_announced_once() {
    let t = new_tenant("alerts");
    let rx = Receiver::start(vec![], false);
    let r = t.send(
        "PUT",
        "/v1/targets",
        Some(&json!({"targets": {"csat": {"min": 70, "goal": 80}}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // Bad watches are refused.
    for (bad, code) in [
        (
            json!({"kpis": ["no_such_kpi"], "period": "month"}),
            "unknown_kpi",
        ),
        (json!({"kpis": ["csat"], "period": "fortnight"}), "invalid"),
        (json!({"kpis": [], "period": "month"}), "invalid"),
    ] {
        let r = t.send("PATCH", "/v1/settings", Some(&json!({"alerts": bad})));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, code),
            "{}",
            r.text
        );
    }
    let watch = json!({"kpis": ["csat"], "period": "month"});
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"webhook": {"url": rx.url}, "alerts": watch})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.json()["settings"]["webhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.json()["settings"]["alerts"], watch);

    // 9 of 10 satisfied: on track. The first status seen is recorded, not announced.
    answers(&t, 0, &[5, 5, 5, 4, 4, 5, 5, 4, 5, 1]);
    run_cron();
    // 9 of 20: off track. One message.
    answers(&t, 10, &[1, 2, 1, 1, 2, 1, 3, 1, 2, 1]);
    run_cron();
    let got = rx.wait_for(1, 20);
    assert_eq!(got.len(), 1, "{got:?}");
    let d = &got[0];
    assert_eq!(d.header("webhook-signature"), webhook_signature(&secret, d));
    let m: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(m["type"], "kpi.status_changed", "{m}");
    let data = &m["data"];
    assert_eq!(data["kpi"], "csat");
    assert_eq!(
        (data["from"].as_str(), data["to"].as_str()),
        (Some("on_track"), Some("off_track")),
        "{m}"
    );
    assert_near(&data["value"], 45.0, 0.001, "CSAT in the message");
    assert_eq!(data["n"], 20);
    assert_eq!(data["target"], json!({"min": 70.0, "goal": 80.0}));
    assert_eq!(data["period"]["kind"], "month");

    // The same status again: nothing more, however often the cron runs.
    run_cron();
    run_cron();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(rx.deliveries().len(), 1);

    // Back on track: announced.
    answers(&t, 20, &[5; 40]);
    run_cron();
    let got = rx.wait_for(2, 20);
    let m: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(
        (m["data"]["from"].as_str(), m["data"]["to"].as_str()),
        (Some("off_track"), Some("on_track")),
        "{m}"
    );
}
