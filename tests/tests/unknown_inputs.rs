//! A CRM that never sends a ticket's `contacts`, `transferred` or `abandoned` does not get a
//! perfect score from defaults: those KPIs are `null` with a reason, and count only the
//! tickets that carry the input once some do.
use serde_json::json;
use tests::*;

#[test]
fn inputs_never_sent_are_unknown_not_perfect() {
    let t = new_tenant("unknown");
    for id in ["U-1", "U-2"] {
        let r = t.post(
            "/v1/tickets",
            &json!({"id": id, "channel": "chat", "opened_at": "2026-11-02T09:00:00+07:00",
                    "first_response_at": "2026-11-02T09:03:00+07:00",
                    "resolved_at": "2026-11-02T10:00:00+07:00"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let q = "metrics=fcr,transfer_rate,abandonment_rate&period=month&at=2026-11";
    let k = t.kpis(q);
    for (i, reason) in [
        "contacts_not_sent",
        "transferred_not_sent",
        "abandoned_not_sent",
    ]
    .iter()
    .enumerate()
    {
        let r = &k["kpis"][i];
        assert!(r["value"].is_null(), "{r}");
        assert_eq!(r["reason"], *reason, "{r}");
    }
    // The stored rows say so too.
    let rows = t.get("/v1/tickets").json()["tickets"].clone();
    assert!(
        rows[0]["contacts"].is_null() && rows[0]["transferred"].is_null(),
        "{rows}"
    );

    // A later call that sends them makes them known for that ticket only.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "U-1", "contacts": 1, "transferred": false, "abandoned": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let k = t.kpis(q);
    assert_near(
        &k["kpis"][0]["value"],
        100.0,
        0.001,
        "FCR of the one ticket that says",
    );
    assert_eq!(k["kpis"][0]["n"], 1);
    assert_near(&k["kpis"][1]["value"], 0.0, 0.001, "transfer rate");
    assert_near(&k["kpis"][2]["value"], 100.0, 0.001, "abandonment rate");
    // A correction that leaves the input out keeps it known.
    let r = t.post("/v1/tickets", &json!({"id": "U-1", "agent": "lan"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.kpis(q)["kpis"][0]["n"], 1);
}
