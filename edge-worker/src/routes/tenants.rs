//! The operator's routes (admin token): `POST /admin/tenants` creates a tenant and its two
//! keys; `POST /admin/tenants/{id}/keys` mints a tenant a new secret key, the way back for a
//! tenant whose secret key leaked and was used to mint keys of its own or revoke the tenant's.
use std::collections::BTreeMap;

use kpi_core::period::{format_rfc3339, TimeZone};
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, Method, Response};

use crate::auth::{self, KeyKind, NewKey};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, json_body, now_ms, BODY_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};
use crate::tenant::{valid_name, valid_origin, TenantConfig};

/// The routes of this file.
pub const ROUTES: &[Route] = &[
    Route {
        path: Path::Exact("/admin/tenants"),
        endpoints: &[Endpoint {
            method: Method::Post,
            handler: Handler::Admin(|c| Box::pin(create(c))),
        }],
        cors: false,
        log: "/admin/tenants",
    },
    Route {
        path: Path::Around("/admin/tenants/", "id", "/keys"),
        endpoints: &[Endpoint {
            method: Method::Post,
            handler: Handler::Admin(|c| Box::pin(recover(c))),
        }],
        cors: false,
        log: "/admin/tenants/:id/keys",
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    id: String,
    name: String,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
}

/// The statement storing a new key of the tenant (its hash, never the key).
fn insert_key(
    db: &D1Database,
    key: &NewKey,
    tenant: &str,
    kind: KeyKind,
    created_at: &str,
) -> ApiResult<D1PreparedStatement> {
    db::keys::insert(
        db,
        &key.lookup,
        &key.hash,
        tenant,
        kind.as_str(),
        created_at,
        None,
    )
}

fn valid_slug(id: &str) -> bool {
    (3..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// `POST /admin/tenants`: creates a tenant and its two keys, shown once.
async fn create(c: Call) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
    let body: NewTenant = json_body(&mut req, BODY_LIMIT).await?;
    if !valid_slug(&body.id) {
        return Err(ApiError::Invalid(
            "`id` must be a lowercase slug of 3–40 characters.".into(),
        ));
    }
    let name = valid_name(&body.name)?;
    let timezone = body
        .timezone
        .unwrap_or_else(|| TimeZone::DEFAULT.name.to_string());
    if TimeZone::from_name(&timezone).is_none() {
        return Err(ApiError::Invalid(format!(
            "unsupported time zone `{timezone}`"
        )));
    }
    let locale = body.locale.unwrap_or_else(|| "vi".into());
    if locale != "vi" && locale != "en" {
        return Err(ApiError::Invalid("`locale` must be `vi` or `en`.".into()));
    }
    if body.allowed_origins.len() > 50 || !body.allowed_origins.iter().all(|o| valid_origin(o)) {
        return Err(ApiError::Invalid(
            "`allowed_origins` must be up to 50 origins like `https://crm.example.com`.".into(),
        ));
    }
    let tenant = TenantConfig {
        id: body.id,
        name,
        timezone,
        locale,
        allowed_origins: body.allowed_origins,
        targets: BTreeMap::new(),
        business_hours: None,
        webhook_url: None,
        webhook_gen: 0,
        link_gen: 0,
        kpi_settings: Default::default(),
        hours_since: None,
        alerts: None,
    };
    let sk = auth::generate(KeyKind::Secret)?;
    let pk = auth::generate(KeyKind::Publishable)?;
    let now = kpi_core::period::format_rfc3339(now_ms());
    let db = db::open(env)?;
    let stmts = vec![
        crate::tenant::insert(&db, &tenant, &now)?,
        insert_key(&db, &sk, &tenant.id, KeyKind::Secret, &now)?,
        insert_key(&db, &pk, &tenant.id, KeyKind::Publishable, &now)?,
    ];
    if let Err(e) = db.batch(stmts).await {
        let msg = e.to_string();
        if msg.contains("UNIQUE") || msg.contains("constraint") {
            return Err(ApiError::Conflict(format!(
                "tenant `{}` already exists",
                tenant.id
            )));
        }
        return Err(ApiError::Internal(msg));
    }
    crate::log::event("tenant_created", &[("tenant", &tenant.id)]);
    http::json(
        201,
        &json!({"tenant": tenant, "secret_key": sk.plaintext, "publishable_key": pk.plaintext}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverRequest {
    #[serde(default)]
    revoke_others: bool,
}

/// `POST /admin/tenants/{id}/keys`: mints a secret key for a tenant, and with
/// `revoke_others` revokes every other key it has.
async fn recover(c: Call) -> ApiResult<Response> {
    let Call { mut req, env, .. } = c;
    let env = &env;
    let path = req.path();
    let tenant = path
        .strip_prefix("/admin/tenants/")
        .and_then(|p| p.strip_suffix("/keys"))
        .unwrap_or("")
        .to_string();
    let body: RecoverRequest = json_body(&mut req, BODY_LIMIT).await?;
    // 404 for a tenant that does not exist, before anything is written.
    crate::tenant::config(env, &tenant).await?;
    let db = db::open(env)?;
    let now = now_ms() as f64;
    let key = auth::generate(KeyKind::Secret)?;
    let created_at = format_rfc3339(now as i64);
    let mut stmts = Vec::new();
    if body.revoke_others {
        stmts.push(db::keys::revoke_all(&db, &tenant, now)?);
    }
    stmts.push(insert_key(
        &db,
        &key,
        &tenant,
        KeyKind::Secret,
        &created_at,
    )?);
    let results = db::batch(&db, stmts).await?;
    let revoked = if body.revoke_others {
        db::changes(&results, 0)
    } else {
        0
    };
    // Every cached resolution of the tenant's keys goes, with its configuration.
    auth::invalidate(env, &tenant).await?;
    crate::log::event(
        "keys_recovered",
        &[("tenant", &tenant), ("revoked", &revoked.to_string())],
    );
    http::json(
        201,
        &json!({"id": key.lookup, "kind": "secret", "key": key.plaintext,
                "created_at": created_at, "expires_at": null, "revoked": revoked}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(valid_slug("hoa-sen-spa"));
        assert!(!valid_slug("ab"));
        assert!(!valid_slug("Hoa-Sen"));
        assert!(!valid_slug("-abc"));
        assert!(!valid_slug(&"a".repeat(41)));
    }
}
