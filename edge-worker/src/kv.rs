//! Values kept in KV as JSON text: the cached key resolutions (`auth`), tenant
//! configurations (`tenant`) and the demo's registration (`routes/demo.rs`). Written and read
//! as text: workers-rs's `put` of a `Serialize` value and `get().json()` go through
//! serde_wasm_bindgen (and `f64`'s `Display` for numbers), a second decoding path in the
//! wasm for the same bytes.
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{KvError, KvStore};

/// The value at `key`, if there is one and it reads as a `T`.
pub async fn get<T: DeserializeOwned>(kv: &KvStore, key: &str) -> Option<T> {
    let text = kv.get(key).text().await.ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Writes `value` at `key`, expiring after `ttl_s` seconds when given.
pub async fn put<T: Serialize>(
    kv: &KvStore,
    key: &str,
    value: &T,
    ttl_s: Option<u64>,
) -> Result<(), KvError> {
    let text = serde_json::to_string(value)?;
    let put = kv.put_bytes(key, text.as_bytes())?;
    match ttl_s {
        Some(s) => put.expiration_ttl(s).execute().await,
        None => put.execute().await,
    }
}
