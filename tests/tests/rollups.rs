//! `GET /v1/rollups`: the day rollups a CRM backend inlines for the widget's offline
//! `mount(el, { data })`. Read back with kpi-core (as the offline module does in the browser)
//! they give exactly the KPIs `GET /v1/kpis` answers, stocks included.
use kpi_core::days::DayRollups;
use kpi_core::kpi::{self, ReportOptions};
use kpi_core::period::{CivilDate, Period, PeriodKind};
use serde_json::{json, Value};
use tests::*;

const METRICS: &str = "nps,backlog,first_response_time,average_order_value";

fn iso(ms: i64) -> String {
    kpi_core::period::format_rfc3339(ms)
}

/// A tenant with answers and tickets now, and one ticket opened 50 days ago still open.
fn seeded() -> (Tenant, String) {
    let t = new_tenant("rollups");
    let now = now_ms();
    let responses: Vec<Value> = (0..12)
        .map(|i| json!({"id": format!("r{i}"), "survey": "nps", "score": i % 11, "at": now - i * 1000}))
        .collect();
    let r = t.post("/v1/responses/import", &json!({ "responses": responses }));
    assert_eq!(r.status, 200, "{}", r.text);
    let old = now - 50 * 86_400_000;
    let r = t.post(
        "/v1/tickets",
        &json!({"tickets": [
            {"id": "old", "channel": "email", "opened_at": iso(old)},
            {"id": "new", "channel": "chat", "opened_at": iso(now - 600_000),
             "first_response_at": iso(now - 300_000), "agent": "Lan"}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.post(
        "/v1/events",
        &json!([{"id": "o1", "type": "order.placed", "at": iso(now - 1000), "amount": 250_000}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The tenant's today, as the API counts it.
    let today = t.kpis("metrics=nps&period=day")["period"]["from"]
        .as_str()
        .unwrap()
        .to_string();
    (t, today)
}

fn offline(data: &DayRollups, kind: PeriodKind, today: &str, segment: Option<&str>) -> Value {
    let day = CivilDate::parse(today).unwrap();
    offline_kpis(
        data,
        METRICS,
        Period::containing(kind, day).unwrap(),
        segment,
    )
}

#[test]
fn default_span_gives_the_kpis_of_the_api_for_every_period_kind() {
    let (t, today) = seeded();
    let r = t.get("/v1/rollups");
    assert_eq!(r.status, 200, "{}", r.text);
    let data: DayRollups = serde_json::from_str(&r.text).expect("kpi-core reads its own format");
    assert_eq!(data.to, today);
    assert_eq!(data.tz, "Asia/Ho_Chi_Minh");
    assert!(data.days.contains_key(&today), "{:?}", data.days.keys());
    for (kind, name) in [
        (PeriodKind::Day, "day"),
        (PeriodKind::Week, "week"),
        (PeriodKind::Month, "month"),
        (PeriodKind::Quarter, "quarter"),
    ] {
        let api = t.kpis(&format!(
            "metrics={METRICS}&period={name}&compare=previous&lang=en&segment=channel"
        ));
        assert_eq!(
            offline(&data, kind, &today, Some("channel")),
            api["kpis"],
            "{name}"
        );
    }
    // The stock: both tickets, one opened 50 days ago, are still open today.
    let backlog = t.kpi("backlog", "period=day");
    assert_eq!(backlog["value"], 2);
}

#[test]
fn a_short_span_carries_older_stocks_in_its_opening_rollup() {
    let (t, today) = seeded();
    let r = t.get(&format!(
        "/v1/rollups?from={today}&to={today}&metrics=backlog"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let data: DayRollups = serde_json::from_str(&r.text).unwrap();
    assert_eq!(
        (data.from.as_str(), data.to.as_str()),
        (today.as_str(), today.as_str())
    );
    assert!(
        !data.opening.is_empty(),
        "the old ticket is in the opening balance"
    );
    let day = CivilDate::parse(&today).unwrap();
    let period = Period::containing(PeriodKind::Day, day).unwrap();
    let opts = ReportOptions {
        period: Some(period),
        ..Default::default()
    };
    let got = data.reports(period, false, &[kpi::find("backlog").unwrap()], &opts);
    assert_eq!(got[0].measure.value, Some(2.0));
    assert_eq!(t.kpi("backlog", "period=day")["value"], 2);
}

#[test]
fn only_the_secret_key_reads_rollups_and_bad_spans_are_422() {
    let (t, _) = seeded();
    let r = request("GET", "/v1/rollups", &[], None);
    assert_eq!(r.status, 401, "{}", r.text);
    let r = request(
        "GET",
        &format!("/v1/rollups?key={}", t.publishable_key),
        &[("origin", &t.origin)],
        None,
    );
    assert_eq!(
        r.status, 403,
        "a publishable key never reads raw rollups: {}",
        r.text
    );
    for (q, code) in [
        ("from=2026-13-01&to=2026-12-31", "invalid"),
        ("from=2026-03-10&to=2026-03-01", "invalid"),
        ("from=2020-01-01&to=2026-01-01", "invalid"),
        ("metrics=nope", "unknown_kpi"),
    ] {
        let r = t.get(&format!("/v1/rollups?{q}"));
        assert_eq!(r.status, 422, "{q}: {}", r.text);
        assert_eq!(r.error_code(), code, "{q}");
    }
}
