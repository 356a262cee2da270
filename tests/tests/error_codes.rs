//! Every code a rejected fact can carry reaches the client: one bad input per code of
//! `kpi_core::FactError`, each through the route a CRM would use, the code read from the
//! JSON error body (or a batch's per-item rejection), never from the English message.
use serde_json::{json, Value};
use tests::*;

/// The error code of a one-ticket call.
fn ticket_code(t: &Tenant, ticket: Value) -> String {
    let r = t.post("/v1/tickets", &ticket);
    assert_eq!(r.status, 422, "{ticket}: {}", r.text);
    r.error_code()
}

/// The code of the one rejection of a one-event batch.
fn event_code(t: &Tenant, event: Value) -> String {
    let r = t.post("/v1/events", &json!([event]));
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["stored"], 0, "{event}: {body}");
    body["rejected"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{event}: no code in {body}"))
        .to_string()
}

#[test]
fn each_domain_error_reaches_the_client_with_its_own_code() {
    let t = new_tenant("codes");
    let mut seen = Vec::new();
    let mut check = |code: String, want: &str| {
        assert_eq!(code, want);
        seen.push(want.to_string());
    };

    // Surveys.
    let link = t.mint(json!({"survey": "csat", "scale": 5}));
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": link["token"], "score": 6}),
    );
    check(r.error_code(), "score_out_of_range");
    for (body, want) in [
        (json!({"survey": "csat", "scale": 7}), "unsupported_scale"),
        (
            json!({"survey": "nps", "channel": "fax"}),
            "unknown_channel",
        ),
        (json!({"survey": "mood"}), "unknown_survey"),
    ] {
        let r = t.post("/v1/survey-links", &body);
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        check(r.error_code(), want);
    }

    // Tickets.
    let at = "2026-03-12T10:00:00+07:00";
    check(
        ticket_code(
            &t,
            json!({"id": "D", "channel": "chat", "opened_at": "2026-02-30T10:00:00+07:00"}),
        ),
        "invalid_date",
    );
    check(
        ticket_code(
            &t,
            json!({"id": "C", "channel": "chat", "opened_at": at, "contacts": 0}),
        ),
        "count_out_of_range",
    );
    check(
        ticket_code(
            &t,
            json!({"id": "F", "channel": "chat", "opened_at": at,
                   "first_response_at": "2026-03-12T09:00:00+07:00"}),
        ),
        "first_response_before_opening",
    );
    check(
        ticket_code(
            &t,
            json!({"id": "R", "channel": "chat", "opened_at": at,
                   "resolved_at": "2026-03-12T09:00:00+07:00"}),
        ),
        "resolved_before_opening",
    );
    check(
        ticket_code(&t, json!({"id": "M", "opened_at": at})),
        "missing_field",
    );
    check(
        ticket_code(&t, json!({"id": "", "channel": "chat", "opened_at": at})),
        "invalid_text",
    );

    // Events.
    let order = |extra: Value| {
        let mut e = json!({"id": "o1", "type": "order.placed", "at": at, "customer": "c1",
                           "amount": 120000, "currency": "VND"});
        for (k, v) in extra.as_object().into_iter().flatten() {
            e[k] = v.clone();
        }
        e
    };
    check(
        event_code(&t, order(json!({"currency": "VN"}))),
        "unknown_currency",
    );
    check(
        event_code(&t, order(json!({"amount": -1}))),
        "amount_out_of_range",
    );
    check(
        event_code(&t, json!({"id": "x1", "type": "lead.teleported", "at": at})),
        "unknown_event_type",
    );
    check(
        event_code(
            &t,
            json!({"id": "s1", "type": "deal.stage", "at": at, "deal": "D-1", "stage": "vibe check"}),
        ),
        "unknown_stage",
    );

    // Settings.
    let r = t.send(
        "PATCH",
        "/v1/settings",
        Some(&json!({"business_hours": {"mon": [["12:00", "08:00"]]}})),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    check(r.error_code(), "invalid_hours");

    // Every code of the domain was seen, and the OpenAPI document lists each.
    let doc = request("GET", "/openapi.json", &[], None).json();
    let listed =
        &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
    let readme = include_str!("../../README.md");
    for code in kpi_core::FactError::CODES {
        assert!(seen.iter().any(|s| s == code), "no test input gives {code}");
        assert!(
            readme.contains(&format!("`{code}`")),
            "README does not name {code}"
        );
        assert!(
            listed
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c == code)),
            "{code} is not listed in OpenAPI"
        );
    }
    // A KPI id the catalog does not have has its own code too.
    let r = t.get("/v1/kpis?metrics=nps,no_such_kpi");
    assert_eq!((r.status, r.error_code().as_str()), (422, "unknown_kpi"));
}
