//! Issue 13 item 5: a target states the period it is meant for, and status compares like with
//! like. A monthly churn target read over a quarter compounds; a window share (repeat
//! purchase) stated per month is not judged over a quarter.
use serde_json::json;
use tests::*;

#[test]
fn a_monthly_target_is_scaled_to_a_quarter_or_not_judged_there() {
    let t = new_tenant("tperiod");
    // 1000 customers won in June; 130 lost on 20 November: 13 % of them, within a month
    // and within the fourth quarter. Two November orders, one by a returning customer.
    let r = t.post(
        "/v1/events",
        &json!([
            {"id": "won", "type": "customer.won", "at": "2026-06-01T09:00:00+07:00", "count": 1000},
            {"id": "lost", "type": "customer.lost", "at": "2026-11-20T09:00:00+07:00", "count": 130},
            {"id": "o1", "type": "order.placed", "at": "2026-11-02T10:00:00+07:00", "customer": "c1",
             "amount": 100_000, "currency": "VND", "previous_order_at": "2026-09-01T10:00:00+07:00"},
            {"id": "o2", "type": "order.placed", "at": "2026-11-07T10:00:00+07:00", "customer": "c2",
             "amount": 100_000, "currency": "VND"}
        ]),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    // Churn at most 3 % a month, 5 % at the least; repeat purchase 30–50 % a month.
    let r = t.send(
        "PUT",
        "/v1/targets",
        Some(&json!({"targets": {
            "churn_rate": {"min": 5, "goal": 3, "period": "month"},
            "repeat_purchase_rate": {"min": 30, "goal": 50, "period": "month"}}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["targets"]["churn_rate"]["period"], "month");
    // A period that is not a period is refused.
    let bad = t.send(
        "PUT",
        "/v1/targets",
        Some(&json!({"targets": {"churn_rate": {"min": 5, "goal": 3, "period": "fortnight"}}})),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);

    // November: 13 % against the month's own 5 % / 3 %: off track.
    let month = t.kpis("metrics=churn_rate,repeat_purchase_rate&period=month&at=2026-11");
    let churn = &month["kpis"][0];
    assert_near(&churn["value"], 13.0, 1e-9, "churn over November");
    assert_eq!(
        churn["target"],
        json!({"min": 5, "goal": 3, "period": "month"})
    );
    assert_eq!(churn["target_applied"], json!({"min": 5, "goal": 3}));
    assert_eq!(churn["status"], "off_track");
    let repeat = &month["kpis"][1];
    assert!(repeat["value"].is_number(), "{repeat}");
    assert!(repeat["status"].is_string(), "{repeat}");
    assert!(repeat.get("status_reason").is_none(), "{repeat}");

    // The fourth quarter: the same 13 % against 1 − 0.95³ = 14.263 % and 1 − 0.97³ =
    // 8.733 %: at risk, not off track.
    let quarter = t.kpis("metrics=churn_rate,repeat_purchase_rate&period=quarter&at=2026-Q4");
    let churn = &quarter["kpis"][0];
    assert_near(&churn["value"], 13.0, 1e-9, "churn over the quarter");
    assert_near(&churn["target_applied"]["min"], 14.263, 1e-9, "quarter min");
    assert_near(
        &churn["target_applied"]["goal"],
        8.733,
        1e-9,
        "quarter goal",
    );
    assert_eq!(churn["status"], "at_risk");
    // A month's share of repeat buyers says nothing of a quarter's: no status, and why.
    let repeat = &quarter["kpis"][1];
    assert!(repeat["value"].is_number(), "{repeat}");
    assert!(repeat.get("status").is_none(), "{repeat}");
    assert!(repeat.get("target_applied").is_none(), "{repeat}");
    assert_eq!(repeat["status_reason"], "target_period_differs");

    // The catalog states the rule and the period of its defaults.
    let cat = t.get("/v1/kpis/catalog").json();
    let find = |id: &str| {
        cat["kpis"]
            .as_array()
            .and_then(|a| a.iter().find(|k| k["id"] == id).cloned())
            .unwrap_or_default()
    };
    assert_eq!(find("churn_rate")["target_rule"]["scaling"], "compound");
    assert_eq!(find("churn_rate")["default_target"]["period"], "month");
    assert_eq!(
        find("repeat_purchase_rate")["default_target"]["period"],
        "half"
    );
    assert_eq!(find("nps")["target_rule"]["scaling"], "as_is");
}
