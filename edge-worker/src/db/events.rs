//! `events`: one row per CRM event, by `(tenant, id)`, only the fields its type reads. Its
//! triggers add the event's contribution to the rollup cells, and move them by the net
//! change when an order's history is revised (migration 0009).
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement};

use super::stmt;
use crate::error::ApiResult;

/// Inserts the events of each payload (a JSON array of `{id, type, at, day, body, contrib,
/// customer_key, derived}`)
/// in one batch, an id already stored inserting nothing (so its trigger adds nothing).
/// Returns how many rows were inserted.
pub async fn insert(db: &D1Database, tenant: &str, payloads: &[String]) -> ApiResult<usize> {
    let mut stmts = Vec::with_capacity(payloads.len());
    for payload in payloads {
        stmts.push(stmt(
            db,
            "INSERT INTO events (tenant_id, id, type, at, day, body, contrib, customer_key, \
                                 derived) \
             SELECT ?1, j.value->>'id', j.value->>'type', CAST(j.value->>'at' AS REAL), \
                    j.value->>'day', j.value->>'body', j.value->>'contrib', \
                    j.value->>'customer_key', coalesce(j.value->>'derived', 0) \
             FROM json_each(?2) j WHERE true \
             ON CONFLICT (tenant_id, id) DO NOTHING RETURNING 1 AS stored",
            &[&tenant, payload],
        )?);
    }
    let results = db.batch(stmts).await?;
    // Each inserted row comes back (D1's `changes` also counts the triggers' rows).
    let mut stored = 0;
    for r in &results {
        stored += r.results::<serde_json::Value>()?.len();
    }
    Ok(stored)
}

/// What the stored orders of a customer say about an order's history: the instants of the
/// previous order, of the one before it, and of the previous upsell order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Previous {
    /// The latest order strictly before.
    pub p1: Option<i64>,
    /// The latest order strictly before `p1`.
    pub p2: Option<i64>,
    /// The latest upsell order strictly before.
    pub upsell: Option<i64>,
}

/// For each `(customer key, instant)`, in the order asked, what the stored orders say of
/// its history ([`Previous`]).
pub async fn previous_orders(
    db: &D1Database,
    tenant: &str,
    asks: &[(&str, i64)],
) -> ApiResult<Vec<Previous>> {
    #[derive(Deserialize)]
    struct Row {
        i: f64,
        p1: Option<f64>,
        p2: Option<f64>,
        pu: Option<f64>,
    }
    let list = json!(asks
        .iter()
        .map(|(k, at)| json!([k, at]))
        .collect::<Vec<_>>())
    .to_string();
    let rows: Vec<Row> = stmt(
        db,
        "SELECT i, p1, (SELECT max(e.at) FROM events e WHERE e.tenant_id = ?1 \
                        AND e.customer_key = k AND e.at < p1) AS p2, pu \
         FROM (SELECT j.key AS i, j.value->>0 AS k, \
                      (SELECT max(e.at) FROM events e WHERE e.tenant_id = ?1 \
                       AND e.customer_key = j.value->>0 AND e.at < j.value->>1) AS p1, \
                      (SELECT max(e.at) FROM events e WHERE e.tenant_id = ?1 \
                       AND e.customer_key = j.value->>0 AND e.at < j.value->>1 \
                       AND e.body->>'upsell' = 1) AS pu \
               FROM json_each(?2) j)",
        &[&tenant, &list],
    )?
    .all()
    .await?
    .results()?;
    let mut out = vec![Previous::default(); asks.len()];
    for r in rows {
        if let Some(slot) = out.get_mut(r.i as usize) {
            *slot = Previous {
                p1: r.p1.map(|v| v as i64),
                p2: r.p2.map(|v| v as i64),
                upsell: r.pu.map(|v| v as i64),
            };
        }
    }
    Ok(out)
}

/// A stored order of a known customer.
#[derive(Deserialize)]
pub struct OrderRow {
    /// Event id.
    pub id: String,
    /// The customer's key.
    pub customer_key: String,
    /// Unix ms.
    pub at: f64,
    /// 1 when the worker found its previous orders.
    pub derived: f64,
    /// The kept event, JSON.
    pub body: String,
    /// Its contribution, JSON.
    pub contrib: String,
}

/// Every stored order of these customers (at most 2000), by customer then instant.
pub async fn orders_of(db: &D1Database, tenant: &str, keys: &[&str]) -> ApiResult<Vec<OrderRow>> {
    let list = json!(keys).to_string();
    Ok(stmt(
        db,
        "SELECT id, customer_key, at, derived, body, contrib FROM events \
         WHERE tenant_id = ?1 AND customer_key IN (SELECT value FROM json_each(?2)) \
         ORDER BY customer_key, at, id LIMIT 2000",
        &[&tenant, &list],
    )?
    .all()
    .await?
    .results()?)
}

/// The statement revising an order's body and contribution, if it still holds `old` (a
/// concurrent revision got there first otherwise, with the same outcome).
pub fn revise(
    db: &D1Database,
    tenant: &str,
    id: &str,
    old: &str,
    body: &str,
    contrib: &str,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "UPDATE events SET body = ?3, contrib = ?4 WHERE tenant_id = ?1 AND id = ?2 \
         AND contrib = ?5",
        &[&tenant, &id, &body, &contrib, &old],
    )
}
