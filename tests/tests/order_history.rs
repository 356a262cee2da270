//! Repeat purchase, ARPU and upsell from a CRM that never sends `previous_order_at`: the
//! worker finds each order's previous orders among the customer's own, and an earlier order
//! that arrives late revises the ones after it, the rollups still equal to the rows.
use serde_json::{json, Value};
use tests::*;

fn order(id: &str, customer: &str, at: &str) -> Value {
    json!({"id": id, "type": "order.placed", "at": at, "customer": customer,
           "amount": 500000, "currency": "VND"})
}

fn store(t: &Tenant, events: Value) {
    let r = t.post("/v1/events", &events);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rejected"], json!([]), "{}", r.text);
}

#[test]
fn previous_orders_are_found_when_the_crm_does_not_send_them() {
    let t = new_tenant("orders");
    let q = "period=month&at=2026-11";
    // Lan bought in October and twice in November, Minh once in November; no event says
    // which order came before which.
    store(
        &t,
        json!([
            order("o1", "lan", "2026-10-05T10:00:00+07:00"),
            order("o2", "lan", "2026-11-03T10:00:00+07:00")
        ]),
    );
    store(
        &t,
        json!([order("o3", "minh", "2026-11-04T10:00:00+07:00")]),
    );
    store(&t, json!([order("o4", "lan", "2026-11-20T10:00:00+07:00")]));
    // November: three orders from two customers, both of Lan's from a returning customer.
    let repeat = t.kpi("repeat_purchase_rate", q);
    assert!(repeat["value"].is_number(), "{repeat}");
    assert!(repeat["value"].as_f64().unwrap() > 0.0, "{repeat}");
    let aov = t.kpi("average_order_value", q);
    let arpu = t.kpi("arpu", q);
    assert!(arpu["value"].is_number(), "{arpu}");
    assert_ne!(
        arpu["value"], aov["value"],
        "ARPU is per customer, not per order"
    );
    let before = t.kpis(&format!("metrics=repeat_purchase_rate,arpu&{q}"));

    // Repeat purchase is the share of the month's customers who bought again within it:
    // Lan did (3 and 20 November), Minh did not.
    assert_near(
        &before["kpis"][0]["value"],
        50.0,
        0.001,
        "repeat purchase before",
    );
    assert_near(&before["kpis"][1]["value"], 750_000.0, 0.001, "ARPU before");
    // Minh's order of 2 November arrives late: his order of the 4th becomes his second of
    // the month, which only a revision of the stored order can tell.
    store(
        &t,
        json!([order("o0", "minh", "2026-11-02T10:00:00+07:00")]),
    );
    let after = t.kpis(&format!("metrics=repeat_purchase_rate,arpu&{q}"));
    assert_near(
        &after["kpis"][0]["value"],
        100.0,
        0.001,
        "repeat purchase after",
    );
    assert_near(&after["kpis"][1]["value"], 1_000_000.0, 0.001, "ARPU after");

    // Replaying everything changes nothing.
    store(
        &t,
        json!([
            order("o0", "minh", "2026-11-02T10:00:00+07:00"),
            order("o1", "lan", "2026-10-05T10:00:00+07:00"),
            order("o2", "lan", "2026-11-03T10:00:00+07:00"),
            order("o3", "minh", "2026-11-04T10:00:00+07:00"),
            order("o4", "lan", "2026-11-20T10:00:00+07:00")
        ]),
    );
    assert_eq!(
        t.kpis(&format!("metrics=repeat_purchase_rate,arpu&{q}"))["kpis"],
        after["kpis"]
    );

    // The same facts sent with their history give the same figures.
    let u = new_tenant("orders-told");
    let told = |id: &str, c: &str, at: &str, prev: Option<&str>, prev2: Option<&str>| {
        let mut e = order(id, c, at);
        if let Some(p) = prev {
            e["previous_order_at"] = json!(p);
        }
        if let Some(p) = prev2 {
            e["second_previous_order_at"] = json!(p);
        }
        e
    };
    store(
        &u,
        json!([
            told("o0", "minh", "2026-11-02T10:00:00+07:00", None, None),
            told("o1", "lan", "2026-10-05T10:00:00+07:00", None, None),
            told(
                "o2",
                "lan",
                "2026-11-03T10:00:00+07:00",
                Some("2026-10-05T10:00:00+07:00"),
                None
            ),
            told(
                "o3",
                "minh",
                "2026-11-04T10:00:00+07:00",
                Some("2026-11-02T10:00:00+07:00"),
                None
            ),
            told(
                "o4",
                "lan",
                "2026-11-20T10:00:00+07:00",
                Some("2026-11-03T10:00:00+07:00"),
                Some("2026-10-05T10:00:00+07:00")
            )
        ]),
    );
    let told = u.kpis(&format!("metrics=repeat_purchase_rate,arpu&{q}"));
    for i in 0..2 {
        assert_eq!(told["kpis"][i]["value"], after["kpis"][i]["value"]);
    }
    // The customer id itself is never stored.
    let csv = u.get("/v1/export.csv?kind=kpis&period=month&at=2026-11");
    assert!(!csv.text.contains("minh"));
}

/// Upsell counts customers, as the catalog defines it: Lan buys more twice in October, Minh
/// once, of 10 customers at the start of the month: 2 of 10 = 20 %, not 3 orders of 10.
/// The CRM sends neither previous orders nor previous upsells; Minh's first upsell arriving
/// late (after his second) revises the later one, so he stays one customer.
#[test]
fn upsell_counts_each_customer_once_also_when_orders_arrive_late() {
    let t = new_tenant("upsell-distinct");
    let q = "period=month&at=2026-10";
    let upsell = |id: &str, customer: &str, at: &str| {
        let mut o = order(id, customer, at);
        o["upsell"] = json!(true);
        o
    };
    store(
        &t,
        json!([
            {"id": "base", "type": "customer.won", "at": "2026-08-01T10:00:00+07:00", "count": 10},
            order("l0", "lan", "2026-09-01T10:00:00+07:00"),
            order("m0", "minh", "2026-09-02T10:00:00+07:00"),
            upsell("l1", "lan", "2026-10-03T10:00:00+07:00"),
            upsell("l2", "lan", "2026-10-18T10:00:00+07:00"),
            upsell("m2", "minh", "2026-10-25T10:00:00+07:00")
        ]),
    );
    let rate = t.kpi("upsell_rate", q);
    assert_near(&rate["value"], 20.0, 0.001, "Lan and Minh of 10");
    // Minh's earlier upsell of 10 October arrives late: still two customers.
    store(
        &t,
        json!([upsell("m1", "minh", "2026-10-10T10:00:00+07:00")]),
    );
    let rate = t.kpi("upsell_rate", q);
    assert_near(&rate["value"], 20.0, 0.001, "after a late upsell");
    // November sees Lan's and Minh's October upsells as before its window: a November
    // upsell of Lan's counts her once there.
    store(
        &t,
        json!([upsell("l3", "lan", "2026-11-02T10:00:00+07:00")]),
    );
    let nov = t.kpi("upsell_rate", "period=month&at=2026-11");
    assert_near(&nov["value"], 10.0, 0.001, "Lan in November");
    // The quarter holds all of them: two customers, not five orders.
    let quarter = t.kpi("upsell_rate", "period=quarter&at=2026-Q4");
    assert_near(&quarter["value"], 20.0, 0.001, "Q4");
}

/// A repeat order's key packs its previous order's day above bit 22: Lan's second order, after
/// one on 26 January 2026 (day 20 479), has the key 20 × 2^32, whose low 32 bits are zero. In
/// wasm, where an index is 32 bits wide, that key once landed in the cell of key 0 (first
/// orders) whenever the month's counters were added after another first order, and Lan
/// counted as two new customers instead of one returning. Q1 holds three orders from two
/// customers, Lan's two of them: 50 % came back, ARPU is 1 500 000 over 2 customers.
#[test]
fn a_repeat_order_keeps_its_key_whatever_its_low_bits() {
    let t = new_tenant("orders-wide-keys");
    store(
        &t,
        json!([
            order("o1", "lan", "2026-01-26T10:00:00+07:00"),
            order("o2", "minh", "2026-02-05T10:00:00+07:00"),
            order("o3", "lan", "2026-02-10T10:00:00+07:00")
        ]),
    );
    for q in ["period=quarter&at=2026-Q1", "period=year&at=2026"] {
        let k = t.kpis(&format!("metrics=repeat_purchase_rate,arpu&{q}"));
        assert_near(&k["kpis"][0]["value"], 50.0, 0.001, q);
        assert_near(&k["kpis"][1]["value"], 750_000.0, 0.001, q);
    }
}
