//! What a KPI needs beyond targets, set through `PATCH /v1/settings` (`kpis`), and business
//! hours set after history exists: every period still reads, by the hours in force when its
//! tickets were stored.
use serde_json::json;
use tests::*;

const WEEKDAYS_9_TO_5: &str = r#"{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
    "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}"#;

#[test]
fn setting_business_hours_keeps_earlier_periods_readable() {
    let t = new_tenant("hourslater");
    // October, no opening hours yet: a chat answered in 4 minutes, an e-mail in 2 hours.
    for (id, channel, first) in [
        ("T-1", "chat", "2026-10-14T10:04:00+07:00"),
        ("T-2", "email", "2026-10-14T12:00:00+07:00"),
    ] {
        let r = t.post(
            "/v1/tickets",
            &json!({"id": id, "channel": channel, "opened_at": "2026-10-14T10:00:00+07:00",
                    "first_response_at": first}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let october = "period=month&at=2026-10";
    let before = t.kpi("first_response_time", october);
    // Then the spa sets its opening hours.
    let hours: serde_json::Value = serde_json::from_str(WEEKDAYS_9_TO_5).unwrap();
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"business_hours": hours})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let since = r.json()["settings"]["business_hours_since"].clone();
    assert!(since.is_string(), "{}", r.text);
    // October now reads in business time by default, and is what it was: those tickets
    // were measured around the clock, the calendar in force when they came.
    let all = t.kpis(&format!(
        "metrics=first_response_time,service_level&{october}"
    ));
    assert_eq!(all["period"]["hours"], "business");
    assert_eq!(all["period"]["hours_since"], since);
    let frt = &all["kpis"][0];
    assert!(frt["value"].is_number(), "{frt}");
    assert_eq!(frt["value"], before["value"]);
    assert_eq!(frt["n"], 2);
    // Chat within 5 min, e-mail within 1 h? No: 1 of 2.
    assert_near(&all["kpis"][1]["value"], 50.0, 0.001, "service level");
    // A ticket of the new calendar is measured in opening hours: Friday 16:00 → Monday
    // 09:30 is 1.5 h of opening hours.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "T-3", "channel": "email", "opened_at": "2026-11-20T16:00:00+07:00",
                "first_response_at": "2026-11-23T09:30:00+07:00"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let k = t.kpi(
        "first_response_time",
        "period=range&from=2026-11-20&to=2026-11-20",
    );
    assert_near(&k["value"], 5400.0, 0.02, "business first response");
}

#[test]
fn kpi_settings_are_validated_served_and_used() {
    let t = new_tenant("kpiset");
    // Two e-mail tickets answered in 2 h and 5 h, two CSAT answers of 4 and 5.
    for (id, first) in [
        ("E-1", "2026-11-02T12:00:00+07:00"),
        ("E-2", "2026-11-02T15:00:00+07:00"),
    ] {
        let r = t.post(
            "/v1/tickets",
            &json!({"id": id, "channel": "email", "opened_at": "2026-11-02T10:00:00+07:00",
                    "first_response_at": first}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = t.post(
        "/v1/responses/import",
        &json!({"responses": [
            {"id": "a", "survey": "csat", "scale": 5, "score": 4, "at": "2026-11-02T10:00:00+07:00"},
            {"id": "b", "survey": "csat", "scale": 5, "score": 5, "at": "2026-11-02T10:00:00+07:00"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.post(
        "/v1/events",
        &json!([{"id": "u1", "type": "crm.user_active", "at": "2026-11-02T10:00:00+07:00", "user": "lan"},
                {"id": "u2", "type": "crm.user_active", "at": "2026-11-02T10:00:00+07:00", "user": "minh"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let q = "metrics=service_level,csat,crm_adoption_rate&period=month&at=2026-11";
    let defaults = t.kpis(q);
    // Defaults: e-mail within 1 h (0 of 2), CSAT top box 4–5 (2 of 2), adoption unknown.
    assert_near(
        &defaults["kpis"][0]["value"],
        0.0,
        0.001,
        "default service level",
    );
    assert_near(&defaults["kpis"][1]["value"], 100.0, 0.001, "default CSAT");
    assert!(
        defaults["kpis"][2]["value"].is_null(),
        "{}",
        defaults["kpis"][2]
    );

    let settings = json!({"licensed_users": 4, "csat_top_box_5": 5,
                          "first_response_targets": {"email": 4 * 3600},
                          "customer_lifespan_years": 2.5, "scorecard_weights": {"nps": 2.5}});
    let r = t.send("PATCH", "/v1/settings", Some(&json!({"kpis": settings})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["settings"]["kpis"], settings);
    let set = t.kpis(q);
    assert_near(
        &set["kpis"][0]["value"],
        50.0,
        0.001,
        "service level, e-mail within 4 h",
    );
    assert_near(
        &set["kpis"][1]["value"],
        50.0,
        0.001,
        "CSAT, top box 5 only",
    );
    assert_near(
        &set["kpis"][2]["value"],
        50.0,
        0.001,
        "adoption, 2 of 4 seats",
    );

    // The scorecard of the KPIs asked for: each line's achievement against its target, and
    // their mean weighted by the tenant's weights (NPS 2.5, not asked; the others 1).
    let card = t.kpis(&format!("{q}&scorecard=true"))["scorecard"].clone();
    let lines = card["lines"].as_array().expect("scorecard lines");
    assert_eq!(lines.len(), 3, "{card}");
    let achieved: Vec<f64> = lines
        .iter()
        .filter_map(|l| l["achievement"].as_f64())
        .collect();
    assert!(!achieved.is_empty(), "{card}");
    for l in lines {
        assert_eq!(l["weight"], 1.0, "{l}");
    }
    let mean = achieved.iter().sum::<f64>() / achieved.len() as f64;
    assert_near(&card["score"], mean, 0.001, "scorecard score");
    assert!(t.kpis(q).get("scorecard").is_none());

    // Bad values are refused and change nothing.
    for (bad, code) in [
        (json!({"licensed_users": 0}), "invalid"),
        (json!({"csat_top_box_5": 7}), "invalid"),
        (json!({"first_response_targets": {"fax": 60}}), "invalid"),
        (
            json!({"scorecard_weights": {"no_such_kpi": 1}}),
            "unknown_kpi",
        ),
        (json!({"seats": 4}), "malformed"),
    ] {
        let r = t.send("PATCH", "/v1/settings", Some(&json!({"kpis": bad})));
        assert_eq!(
            (r.status / 100, r.error_code().as_str()),
            (4, code),
            "{bad}: {}",
            r.text
        );
    }
    assert_eq!(t.get("/v1/settings").json()["settings"]["kpis"], settings);
    // `null` goes back to the defaults.
    let r = t.send("PATCH", "/v1/settings", Some(&json!({"kpis": null})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_near(
        &t.kpis(q)["kpis"][1]["value"],
        100.0,
        0.001,
        "CSAT back to 4–5",
    );
}
