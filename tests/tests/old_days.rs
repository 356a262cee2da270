//! Days folded by an older version: service level counts each ticket against its channel's
//! target when the ticket is folded (the exact `TICKET_SLA` counters); days folded before
//! those counters existed are estimated from the first-response sketches by channel, which
//! a read loads only when the days it read lack the exact counts. Both ways, `GET /v1/kpis`
//! equals kpi-core on the day rollups.
//!
//! Alone in its file: it rewrites the local D1 file with sqlite3 while the worker runs.
use kpi_core::days::DayRollups;
use kpi_core::period::{CivilDate, Period, PeriodKind};
use serde_json::{json, Value};
use tests::*;

const METRICS: &str = "service_level";

/// `GET /v1/kpis` against kpi-core on the tenant's day rollups, in the totals and by each
/// segment service level accepts; the value in the totals.
fn agree(t: &Tenant, today: &str, what: &str) -> f64 {
    let day = CivilDate::parse(today).unwrap();
    let yesterday = day.add_days(-1).unwrap();
    let r = t.get(&format!("/v1/rollups?from={yesterday}&to={today}"));
    assert_eq!(r.status, 200, "{}", r.text);
    let data: DayRollups = serde_json::from_str(&r.text).unwrap();
    let period = Period::containing(PeriodKind::Day, day).unwrap();
    for segment in [None, Some("channel"), Some("agent")] {
        let seg = segment.map(|s| format!("&segment={s}")).unwrap_or_default();
        let api = t.kpis(&format!(
            "metrics={METRICS}&period=day&at={today}&compare=previous&lang=en{seg}"
        ));
        assert_eq!(
            offline_kpis(&data, METRICS, period, segment),
            api["kpis"],
            "{what} {seg}"
        );
    }
    t.kpi(METRICS, &format!("period=day&at={today}"))["value"]
        .as_f64()
        .expect("a service level")
}

#[test]
fn days_without_exact_service_level_counts_are_estimated_from_the_sketches() {
    let _turn = d1_file_turn();
    let t = new_tenant("old-days");
    let now = now_ms();
    // Chat's target is 5 minutes, e-mail's 1 hour (the defaults): answers from 1 to 90
    // minutes, so some are late on each channel.
    let tickets: Vec<Value> = (0..24i64)
        .map(|i| {
            let opened = now - 10_000 * (i + 1);
            json!({"id": format!("t{i}"), "channel": (["chat", "email", "zalo"][(i % 3) as usize]),
                "opened_at": kpi_core::period::format_rfc3339(opened),
                "first_response_at": kpi_core::period::format_rfc3339(opened + (1 + i * 4) * 60_000),
                "agent": (["lan", "minh"][(i % 2) as usize])})
        })
        .collect();
    let r = t.post("/v1/tickets", &json!({ "tickets": tickets }));
    assert_eq!(r.status, 200, "{}", r.text);
    let today = t.kpis("metrics=nps&period=day")["period"]["from"]
        .as_str()
        .unwrap()
        .to_string();
    let exact = agree(&t, &today, "exact counts");
    // As an older version left them: the same days without the exact counters.
    sql(&format!(
        "DELETE FROM cells WHERE tenant_id = {} AND family = 6 AND key IN (7, 8);",
        sql_lit(&t.id)
    ));
    // Without the sketches the estimate would read 0 %: the read loaded them. The sketch
    // is exact to ±2 s at 5 minutes, so one ticket on a threshold may count differently.
    let estimate = agree(&t, &today, "estimated");
    assert!(estimate > 0.0, "{estimate}");
    assert!(
        (estimate - exact).abs() <= 100.0 / 24.0 + 1e-9,
        "{estimate} vs {exact}"
    );
}
