//! `GET`/`PATCH /v1/settings`: what a tenant changes after creation, validated, applied at
//! once — and business hours, which turn response times into business time.
use serde_json::json;
use tests::*;

#[test]
fn business_hours_measure_response_times_in_opening_hours() {
    let t = new_tenant("hours");
    // Before opening hours exist, durations are calendar time.
    let ticket = json!({"id": "T-1", "channel": "chat",
        "opened_at": "2026-11-23T11:30:00+07:00", "first_response_at": "2026-11-23T14:00:00+07:00",
        "resolved_at": "2026-11-24T09:00:00+07:00"});
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"business_hours": {
            "mon": [["08:00", "12:00"], ["13:30", "17:30"]], "tue": [["08:00", "12:00"], ["13:30", "17:30"]],
            "wed": [["08:00", "12:00"], ["13:30", "17:30"]], "thu": [["08:00", "12:00"], ["13:30", "17:30"]],
            "fri": [["08:00", "12:00"], ["13:30", "17:30"]]}})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["settings"]["business_hours"]["mon"][1],
        json!(["13:30", "17:30"])
    );
    let r = t.post("/v1/tickets", &ticket);
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    let q = "period=day&at=2026-11-23";
    // Monday 11:30 → 14:00 is 2.5 h of clock time but 1 h of opening hours (lunch closed).
    let k = t.kpi("first_response_time", q);
    assert_near(&k["value"], 3600.0, 0.02, "business first response");
    let all = t.kpis(&format!("metrics=first_response_time&{q}"));
    assert_eq!(all["period"]["hours"], "business");
    let k = t.kpi("first_response_time", &format!("{q}&hours=calendar"));
    assert_near(&k["value"], 9000.0, 0.02, "calendar first response");
    // Resolution Monday 11:30 → Tuesday 09:00: 30 + 240 min Monday, 60 min Tuesday.
    let k = t.kpi("resolution_time", q);
    assert_near(&k["value"], 330.0 * 60.0, 0.02, "business resolution");
    let r = request(
        "GET",
        &format!(
            "/v1/kpis?metrics=first_response_time&{q}&hours=weekly&key={}",
            t.publishable_key
        ),
        &[("origin", &t.origin)],
        None,
    );
    assert_eq!(r.status, 422, "{}", r.text);
    // Clearing the hours goes back to calendar time by default.
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"business_hours": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["settings"]["business_hours"].is_null());
    assert_eq!(
        t.kpis(&format!("metrics=first_response_time&{q}"))["period"]["hours"],
        "calendar"
    );
}

#[test]
fn settings_changes_apply_at_once_and_bad_values_change_nothing() {
    let t = new_tenant("settings");
    let r = t.get("/v1/settings");
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.json()["settings"];
    assert_eq!(s["id"], t.id.as_str());
    assert_eq!(s["timezone"], "Asia/Ho_Chi_Minh");
    assert!(s["webhook"].is_null());
    // A new allowed origin works for the publishable key on the next request.
    let origin = "https://new-crm.example";
    let kpis = |o: &str| {
        request(
            "GET",
            &format!("/v1/kpis?metrics=nps&key={}", t.publishable_key),
            &[("origin", o)],
            None,
        )
        .status
    };
    assert_eq!(kpis(origin), 403);
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"allowed_origins": [t.origin, origin], "name": "Hoa Sen 2", "locale": "en"})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(kpis(origin), 200);
    // The default label language follows the new locale.
    let v = t.kpis("metrics=nps");
    assert_eq!(v["kpis"][0]["label"], "Net Promoter Score");
    for (bad, status) in [
        (json!({"locale": "fr"}), 422),
        (json!({"allowed_origins": ["crm.example.com"]}), 422),
        (
            json!({"business_hours": {"mon": [["17:00", "08:00"]]}}),
            422,
        ),
        (
            json!({"business_hours": {"someday": [["08:00", "17:00"]]}}),
            422,
        ),
        (json!({"webhook": {"url": "ftp://example.com/hook"}}), 422),
        (json!({"timezone": "Europe/Paris"}), 400),
    ] {
        let r = t.send("PATCH", "/v1/settings", Some(&bad));
        assert_eq!(r.status, status, "{bad}: {}", r.text);
    }
    let s = t.get("/v1/settings").json()["settings"].clone();
    assert_eq!(s["locale"], "en");
    assert_eq!(s["name"], "Hoa Sen 2");
    assert!(s["business_hours"].is_null());
    // Only the secret key changes settings.
    let r = request(
        "PATCH",
        &format!("/v1/settings?key={}", t.publishable_key),
        &[("origin", &t.origin)],
        Some(("application/json", "{}")),
    );
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn a_json_array_is_not_a_settings_object() {
    let t = new_tenant("settings-array");
    let auth = format!("Bearer {}", t.secret_key);
    let r = request(
        "PATCH",
        "/v1/settings",
        &[("authorization", &auth)],
        Some(("application/json", "[null, null]")),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_code(), "malformed");
}
