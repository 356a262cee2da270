//! Tickets and CRM events in, KPIs out: `POST /v1/tickets` (upsert, fill in, correct),
//! `POST /v1/events` (JSON array or NDJSON, idempotent on id), and the KPIs they feed.
//! Expected values are worked out by hand in each test, never with kpi-core.
use serde_json::{json, Value};
use tests::*;

/// Durations come from a sketch whose answers are within 0.8 % of the exact value.
const SKETCH: f64 = 0.01;

fn march(q: &str) -> String {
    format!("period=month&at=2026-03{q}")
}

fn ids_of(rejected: &Value) -> Vec<u64> {
    rejected
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect()
}

#[test]
fn tickets_fill_in_and_correct_first_response_per_channel() {
    let t = new_tenant("tix");
    let open = "2026-03-10T09:00:00+07:00";
    // C1 opens without a first response; the others arrive complete.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "C1", "channel": "chat", "opened_at": open}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["created"], true);
    let r = t.post(
        "/v1/tickets",
        &json!({"tickets": [
            {"id": "C2", "channel": "chat", "opened_at": open, "first_response_at": "2026-03-10T09:02:00+07:00"},
            {"id": "C3", "channel": "chat", "opened_at": open, "first_response_at": "2026-03-10T02:05:00Z"},
            {"id": "P1", "channel": "phone", "opened_at": open, "first_response_at": "2026-03-10T09:00:30+07:00"},
            {"id": "P2", "channel": "phone", "opened_at": open, "first_response_at": "2026-03-10T09:01:30+07:00"}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"stored": 4, "created": 4, "updated": 0, "rejected": []})
    );
    let frt = t.kpi("first_response_time", &march(""));
    assert_eq!(frt["n"], 4, "C1 is not answered yet: {frt}");

    // A later call fills in C1's first response (10 min) and sends nothing else…
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "C1", "first_response_at": "2026-03-10T09:10:00+07:00"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["created"], false);
    let chat = &t.kpi("first_response_time", &march("&segment=channel"))["segments"]["chat"];
    assert_eq!(chat["n"], 3, "{chat}");
    // chat: 120 s, 300 s, 600 s → nearest-rank median 300 s, p90 600 s.
    assert_near(&chat["value"], 300.0, SKETCH, "chat median after fill-in");
    assert_near(&chat["p90"], 600.0, SKETCH, "chat p90 after fill-in");

    // …and another corrects it to 1 min, keeping channel and opening.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "C1", "first_response_at": "2026-03-10T09:01:00+07:00"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let k = t.kpi("first_response_time", &march("&segment=channel"));
    assert_eq!(k["n"], 5, "{k}");
    // chat: 60, 120, 300 s → median 120 s (rank 2 of 3), p90 300 s (rank 3 of 3).
    let chat = &k["segments"]["chat"];
    assert_eq!(chat["n"], 3);
    assert_near(&chat["value"], 120.0, SKETCH, "chat median");
    assert_near(&chat["p90"], 300.0, SKETCH, "chat p90");
    assert_near(&chat["mean"], 160.0, SKETCH, "chat mean");
    // phone: 30, 90 s → median 30 s (rank 1 of 2), p90 90 s.
    let phone = &k["segments"]["phone"];
    assert_eq!(phone["n"], 2);
    assert_near(&phone["value"], 30.0, SKETCH, "phone median");
    assert_near(&phone["p90"], 90.0, SKETCH, "phone p90");
    // Five tickets, counted once each however often they were sent.
    assert_eq!(t.kpi("ticket_volume", &march(""))["value"], 5);
}

#[test]
fn fcr_backlog_and_timestamps_before_opening() {
    let t = new_tenant("fcr");
    let r = t.post(
        "/v1/tickets",
        &json!({"tickets": [
            {"id": "A", "channel": "email", "opened_at": "2026-03-05T10:00:00+07:00",
             "resolved_at": "2026-03-05T12:00:00+07:00", "contacts": 1},
            {"id": "B", "channel": "email", "opened_at": "2026-03-06T10:00:00+07:00",
             "resolved_at": "2026-03-07T10:00:00+07:00", "contacts": 3, "tags": ["complaint"]},
            {"id": "C", "channel": "chat", "opened_at": "2026-03-10T10:00:00+07:00"},
            {"id": "D", "channel": "chat", "opened_at": "2026-03-31T20:00:00+07:00",
             "resolved_at": "2026-04-02T09:00:00+07:00"},
            {"id": "E", "channel": "chat", "opened_at": "2026-03-12T10:00:00+07:00",
             "first_response_at": "2026-03-12T09:00:00+07:00"},
            {"id": "F", "channel": "chat", "opened_at": "2026-03-12T10:00:00+07:00",
             "resolved_at": "2026-03-12T09:59:59+07:00"},
            {"id": "G", "channel": "fax", "opened_at": "2026-03-12T10:00:00+07:00"},
            {"channel": "chat", "opened_at": "2026-03-12T10:00:00+07:00"}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["stored"], 4, "{v}");
    assert_eq!(ids_of(&v["rejected"]), vec![4, 5, 6, 7], "{v}");
    assert_eq!(v["rejected"][0]["id"], "E");
    assert!(v["rejected"][0]["error"]
        .as_str()
        .unwrap()
        .contains("first response"));

    // Resolved A, B, D; D never sent `contacts`, so it is left out rather than counted as
    // one contact (issue 13 item 2): A of A and B (B took 3 contacts) → 50 %.
    assert_eq!(t.kpi("fcr", &march(""))["value"], 50);
    // Open at the end of March: C (open) and D (resolved 2 April) → 2. At the end of April: C.
    assert_eq!(t.kpi("backlog", &march(""))["value"], 2);
    assert_eq!(t.kpi("backlog", "period=month&at=2026-04")["value"], 1);
    let vol = t.kpi("ticket_volume", &march(""));
    assert_eq!(vol["value"], 4);
    assert_eq!(vol["breakdown"]["complaints"], 1);

    // A first response before opening, alone → 422 for that ticket.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "H", "channel": "chat", "opened_at": "2026-03-12T10:00:00+07:00",
                "first_response_at": "2026-03-12T09:00:00+07:00"}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.error_code(), "first_response_before_opening");
    // A correction that would resolve C before its stored opening → 422, C unchanged.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "C", "resolved_at": "2026-03-01T00:00:00Z"}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(t.kpi("backlog", &march(""))["value"], 2);

    // C is resolved on 10 April, without `contacts`: left out of FCR, still A of A and B
    // (issue 13 item 2); March backlog still 2 (C was open on 31 March), April backlog 0.
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "C", "resolved_at": "2026-04-10T10:00:00+07:00"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.kpi("fcr", &march(""))["value"], 50);
    assert_eq!(t.kpi("backlog", &march(""))["value"], 2);
    assert_eq!(t.kpi("backlog", "period=month&at=2026-04")["value"], 0);
    // `null` reopens it.
    let r = t.post("/v1/tickets", &json!({"id": "C", "resolved_at": null}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.kpi("backlog", "period=month&at=2026-04")["value"], 1);
    // Still A of A and B: D and C never sent `contacts`.
    assert_eq!(t.kpi("fcr", &march(""))["value"], 50);
}

#[test]
fn a_ticket_after_2038_keeps_its_instants() {
    let t = new_tenant("y2040");
    let r = t.post(
        "/v1/tickets",
        &json!({"tickets": [
            {"id": "far-1", "channel": "zalo", "opened_at": "2040-06-01T10:00:00Z",
             "first_response_at": "2040-06-01T10:01:30Z", "resolved_at": "2040-06-01T11:00:00Z"},
            // Integer Unix milliseconds: 2040-06-02T03:00:00Z, answered 4 minutes later.
            {"id": "far-2", "channel": "zalo", "opened_at": 2_222_218_800_000i64,
             "first_response_at": 2_222_219_040_000i64}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["stored"], 2, "{}", r.text);
    let q = "period=month&at=2040-06";
    let frt = t.kpi("first_response_time", q);
    assert_eq!(frt["n"], 2, "{frt}");
    // 90 s and 240 s: median 90 s, p90 240 s.
    assert_near(&frt["value"], 90.0, SKETCH, "median");
    assert_near(&frt["p90"], 240.0, SKETCH, "p90");
    assert_near(
        &t.kpi("resolution_time", q)["value"],
        3600.0,
        SKETCH,
        "resolution",
    );
    assert_eq!(t.kpi("ticket_volume", q)["value"], 2);
    assert_eq!(t.kpi("backlog", q)["value"], 1);
}

#[test]
fn concurrent_updates_of_one_ticket_count_it_once() {
    let t = new_tenant("tixrace");
    let key = t.secret_key.clone();
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let key = key.clone();
            std::thread::spawn(move || {
                post_json(
                    "/v1/tickets",
                    Some(&key),
                    &json!({"id": "R", "channel": "chat",
                        "opened_at": "2026-03-10T09:00:00+07:00",
                        "first_response_at": format!("2026-03-10T09:{:02}:00+07:00", i + 1),
                        "contacts": 1 + i % 2}),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| [200, 201, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1);
    assert_eq!(t.kpi("first_response_time", &march(""))["n"], 1);
    assert_eq!(t.kpi("ticket_volume", &march(""))["value"], 1);
}

/// One month of CRM events whose KPIs are worked out in the comments.
fn crm_month() -> Value {
    json!([
        // February: ten customers won before the period.
        {"id": "cw-feb", "type": "customer.won", "at": "2026-02-15T10:00:00+07:00", "count": 10},
        // March: four leads, one won customer, one lost.
        {"id": "l1", "type": "lead.created", "at": "2026-03-02T09:00:00+07:00", "source": "facebook",
         "campaign": "tet", "count": 3},
        {"id": "l2", "type": "lead.created", "at": "2026-03-03T09:00:00+07:00", "source": "zalo"},
        {"id": "cw1", "type": "customer.won", "at": "2026-03-10T09:00:00+07:00"},
        {"id": "cl1", "type": "customer.lost", "at": "2026-03-11T09:00:00+07:00"},
        // 1.500.000 ₫ spent on the campaign, which brought a 2.100.000 ₫ order.
        {"id": "s1", "type": "spend", "at": "2026-03-01T08:00:00+07:00", "channel": "web",
         "campaign": "tet", "amount": 1_500_000, "currency": "VND"},
        {"id": "o1", "type": "order.placed", "at": "2026-03-12T15:00:00+07:00", "customer": "c1",
         "campaign": "tet", "amount": 2_100_000, "currency": "VND"},
        // 200 e-mails delivered, 50 opened, 10 clicked.
        {"id": "ed", "type": "email.delivered", "at": "2026-03-05T08:00:00+07:00", "count": 200},
        {"id": "eo", "type": "email.opened", "at": "2026-03-05T09:00:00+07:00", "count": 50},
        {"id": "ec", "type": "email.clicked", "at": "2026-03-05T10:00:00+07:00", "count": 10}
    ])
}

const CRM_METRICS: &str = "total_leads,conversion_rate,cost_per_lead,roi,email_open_rate,\
                           email_click_rate,churn_rate,average_order_value";

#[test]
fn each_event_family_feeds_its_kpi() {
    let t = new_tenant("crm");
    let r = t.post("/v1/events", &crm_month());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"stored": 10, "duplicates": 0, "rejected": []})
    );
    let q = march("");
    assert_eq!(t.kpi("total_leads", &q)["value"], 4);
    // One customer won of four leads.
    assert_eq!(t.kpi("conversion_rate", &q)["value"], 25);
    // 1.500.000 ₫ / 4 leads, in major units (VND has none below).
    let cpl = t.kpi("cost_per_lead", &q);
    assert_eq!(cpl["value"], 375_000, "{cpl}");
    assert_eq!(cpl["currency"], "VND");
    // (2.100.000 − 1.500.000) / 1.500.000.
    assert_eq!(t.kpi("roi", &q)["value"], 40);
    assert_eq!(t.kpi("email_open_rate", &q)["value"], 25);
    assert_eq!(t.kpi("email_click_rate", &q)["value"], 5);
    assert_eq!(t.kpi("average_order_value", &q)["value"], 2_100_000);
    // 10 customers at the start of March (10 won in February), 1 lost → 10 %.
    let churn = t.kpi("churn_rate", &q);
    assert_eq!(churn["value"], 10, "{churn}");
    assert_eq!(churn["breakdown"]["start"], 10);
    assert_eq!(churn["breakdown"]["end"], 10);
    // By source: facebook brought 3 of the leads.
    let leads = t.kpi("total_leads", &march("&segment=source"));
    assert_eq!(leads["segments"]["facebook"]["value"], 3, "{leads}");
    assert_eq!(leads["segments"]["zalo"]["value"], 1);
}

#[test]
fn replaying_a_batch_changes_nothing() {
    let t = new_tenant("replay");
    let q = format!("metrics={CRM_METRICS}&{}&compare=previous", march(""));
    let first = t.post("/v1/events", &crm_month());
    assert_eq!(first.json()["stored"], 10, "{}", first.text);
    let before = t.kpis(&q);
    let again = t.post("/v1/events", &crm_month());
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        again.json(),
        json!({"stored": 0, "duplicates": 10, "rejected": []})
    );
    assert_eq!(t.kpis(&q), before);
    // NDJSON replay of the same events: still nothing.
    let nd: String = crm_month()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{e}\n"))
        .collect();
    let r = t.post_raw("/v1/events", "application/x-ndjson", &nd);
    assert_eq!(r.json()["duplicates"], 10, "{}", r.text);
    assert_eq!(t.kpis(&q), before);
}

#[test]
fn ndjson_is_accepted_line_by_line() {
    let t = new_tenant("ndjson");
    let body = concat!(
        r#"{"id":"n1","type":"lead.created","at":"2026-03-02T09:00:00+07:00"}"#,
        "\n\n",
        r#"{"id":"n2","type":"lead.created","at":1772416800000}"#,
        "\r\n",
        "{not json\n",
        r#"{"id":"n3","type":"ad.impression","at":"2026-03-02T09:00:00+07:00","count":400}"#,
        "\n",
        r#"{"id":"n4","type":"ad.click","at":"2026-03-02T09:00:00+07:00","count":8}"#,
    );
    let r = t.post_raw("/v1/events", "application/x-ndjson", body);
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["stored"], 4, "{v}");
    assert_eq!(ids_of(&v["rejected"]), vec![2]);
    assert_eq!(t.kpi("total_leads", &march(""))["value"], 2);
    // 8 clicks of 400 impressions.
    assert_eq!(t.kpi("ctr", &march(""))["value"], 2);
}

#[test]
fn one_bad_event_does_not_reject_its_neighbours() {
    let t = new_tenant("neigh");
    let at = "2026-03-02T09:00:00+07:00";
    let r = t.post(
        "/v1/events",
        &json!([
            {"id": "g1", "type": "lead.created", "at": at},
            {"id": "b1", "type": "lead.teleported", "at": at},
            {"id": "g2", "type": "lead.created", "at": at},
            {"type": "lead.created", "at": at},
            42,
            {"id": "b2", "type": "order.placed", "at": at, "amount": -5},
            {"id": "b3", "type": "lead.created"},
            {"id": "g1", "type": "lead.created", "at": at}
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    // g1 twice in one request: stored once, the second a duplicate.
    assert_eq!(v["stored"], 2, "{v}");
    assert_eq!(v["duplicates"], 1, "{v}");
    assert_eq!(ids_of(&v["rejected"]), vec![1, 3, 4, 5, 6], "{v}");
    assert_eq!(v["rejected"][0]["id"], "b1");
    assert!(v["rejected"][0]["error"].as_str().unwrap().contains("type"));
    assert_eq!(t.kpi("total_leads", &march(""))["value"], 2);
}

#[test]
fn ingest_limits_content_types_and_keys() {
    let t = new_tenant("limits");
    let big = format!(
        r#"[{{"id":"x","type":"lead.created","at":0,"source":"{}"}}]"#,
        "a".repeat(1024 * 1024 + 10)
    );
    for path in ["/v1/events", "/v1/tickets"] {
        let r = t.post_raw(path, "application/json", &big);
        assert_eq!(r.status, 413, "{path}: {}", r.text);
        assert_eq!(r.error_code(), "body_too_large");
        let r = t.post_raw(path, "text/plain", "[]");
        assert_eq!(r.status, 415, "{path}: {}", r.text);
        let r = post_json(path, Some(&t.publishable_key), &json!([]));
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        let r = post_json(path, None, &json!([]));
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        let r = t.post_raw(path, "application/json", "[{");
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        // GET /v1/tickets pages tickets (data_access.rs); neither route takes PATCH.
        let r = request("PATCH", path, &[], None);
        assert_eq!(r.status, 405, "{path}: {}", r.text);
    }
    // Just under the limit is fine; over 1000 events is not.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"id": format!("m{i}"), "type": "web.visit", "at": 0}))
        .collect();
    let r = t.post("/v1/events", &Value::Array(many));
    assert_eq!(r.status, 422, "{}", r.text);
    let full: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("m{i}"), "type": "web.visit", "at": "2026-03-02T09:00:00+07:00"}))
        .collect();
    let r = t.post("/v1/events", &Value::Array(full));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["stored"], 1000);
    // A thousand tickets in one request.
    let tickets: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"id": format!("t{i}"), "channel": "web",
                        "opened_at": "2026-03-02T09:00:00+07:00"})
        })
        .collect();
    let r = t.post("/v1/tickets", &json!({"tickets": tickets}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["stored"], 1000, "{}", r.text);
    assert_eq!(t.kpi("ticket_volume", &march(""))["value"], 1000);
    assert_eq!(t.kpi("backlog", &march(""))["value"], 1000);
}

#[test]
fn thirty_concurrent_identical_batches_store_each_event_once() {
    let t = new_tenant("evrace");
    let batch: Value = (0..25)
        .map(|i| {
            json!({"id": format!("e{i}"), "type": "lead.created",
                   "at": "2026-03-02T09:00:00+07:00", "source": if i % 2 == 0 { "web" } else { "zalo" }})
        })
        .collect();
    let key = t.secret_key.clone();
    let handles: Vec<_> = (0..30)
        .map(|_| {
            let (key, batch) = (key.clone(), batch.clone());
            std::thread::spawn(move || post_json("/v1/events", Some(&key), &batch).json())
        })
        .collect();
    let replies: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let stored: u64 = replies.iter().map(|r| r["stored"].as_u64().unwrap()).sum();
    let dups: u64 = replies
        .iter()
        .map(|r| r["duplicates"].as_u64().unwrap())
        .sum();
    assert_eq!(stored, 25, "{replies:?}");
    assert_eq!(dups, 29 * 25);
    let leads = t.kpi("total_leads", &march("&segment=source"));
    assert_eq!(leads["value"], 25, "{leads}");
    assert_eq!(leads["segments"]["web"]["value"], 13);
    assert_eq!(leads["segments"]["zalo"]["value"], 12);
}
