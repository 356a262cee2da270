//! `cargo xtask tenant create …`: the project's CLI for `POST /admin/tenants`.
use serde_json::{json, Value};

use crate::sh::Result;
use crate::{run, server};

const USAGE: &str =
    "usage: cargo xtask tenant create --id SLUG --name NAME [--timezone ZONE] [--locale vi|en]
                    [--origin URL]... [--url WORKER_URL]
  The admin token comes from $ADMIN_TOKEN, else from edge-worker/.dev.vars.
  --url defaults to $KPI_URL, else http://127.0.0.1:8787.";

/// Parsed `tenant create` arguments.
pub struct NewTenant {
    pub url: String,
    pub body: Value,
}

/// Parses `create --id … --name …`.
pub fn parse(args: &[String]) -> Result<NewTenant> {
    if args.first().map(String::as_str) != Some("create") {
        return Err(USAGE.into());
    }
    let mut url = std::env::var("KPI_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let (mut id, mut name, mut tz, mut locale, mut origins) = (None, None, None, None, Vec::new());
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?
            .clone();
        match flag.as_str() {
            "--id" => id = Some(value),
            "--name" => name = Some(value),
            "--timezone" => tz = Some(value),
            "--locale" => locale = Some(value),
            "--origin" => origins.push(value),
            "--url" => url = value,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    let (Some(id), Some(name)) = (id, name) else {
        return Err(USAGE.into());
    };
    let mut body = json!({"id": id, "name": name, "allowed_origins": origins});
    if let Some(tz) = tz {
        body["timezone"] = json!(tz);
    }
    if let Some(l) = locale {
        body["locale"] = json!(l);
    }
    Ok(NewTenant {
        url: url.trim_end_matches('/').to_string(),
        body,
    })
}

/// Creates the tenant and returns the reply (with the keys, shown once).
pub fn create(t: &NewTenant, admin: &str) -> Result<Value> {
    let (status, reply) =
        server::send("POST", &format!("{}/admin/tenants", t.url), admin, &t.body)?;
    if status != 201 {
        return Err(format!("POST /admin/tenants answered {status}: {reply}"));
    }
    Ok(reply)
}

/// `cargo xtask tenant …`.
pub fn main(args: &[String]) -> Result<()> {
    let t = parse(args)?;
    let admin = match std::env::var("ADMIN_TOKEN") {
        Ok(a) => a,
        Err(_) => run::dev_vars()?
            .into_iter()
            .find(|(k, _)| k == "ADMIN_TOKEN")
            .map(|(_, v)| v)
            .ok_or("no ADMIN_TOKEN in the environment or edge-worker/.dev.vars")?,
    };
    let reply = create(&t, &admin)?;
    println!(
        "{}\n\nKeep the secret key on your servers; it is not shown again.",
        serde_json::to_string_pretty(&reply).unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_flags_into_the_api_body() {
        let t = parse(&args("create --id hoa-sen --name Spa --origin https://a.vn --origin https://b.vn --locale en --url http://x:1/")).unwrap();
        assert_eq!(t.url, "http://x:1");
        assert_eq!(
            t.body["allowed_origins"],
            json!(["https://a.vn", "https://b.vn"])
        );
        assert_eq!(t.body["locale"], "en");
        assert!(parse(&args("create --id x")).is_err());
        assert!(parse(&args("delete --id x --name y")).is_err());
        assert!(parse(&args("create --id x --name")).is_err());
    }
}
