//! Rate limits (wrangler.toml `[[ratelimits]]`): per client address and per link on the
//! public survey routes, per key on the API; 429 with `Retry-After`, and others unaffected.
//!
//! The limiter counts in fixed one-minute windows, so a window may turn during a test: each
//! test sends until the first 429 and checks that at least the limit got through before it.
use serde_json::json;
use tests::*;

/// Sends `send()` from 8 threads until one answers 429 (or `max` were sent); returns the
/// number of answers with a status in `counted` (2xx, or the 401s of wrong tokens) before
/// the first 429, and that 429. Any other status fails the test.
fn until_limited(
    max: usize,
    counted: std::ops::RangeInclusive<u16>,
    send: impl Fn() -> Reply + Sync,
) -> (usize, Reply) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    let (ok, sent, stop) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicBool::new(false),
    );
    let limited: Mutex<Option<Reply>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) && sent.fetch_add(1, Ordering::SeqCst) < max {
                    let r = send();
                    match r.status {
                        429 => {
                            stop.store(true, Ordering::SeqCst);
                            limited.lock().unwrap().get_or_insert(r);
                        }
                        s if counted.contains(&s) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        other => panic!("unexpected {other}: {}", r.text),
                    }
                }
            });
        }
    });
    let r = limited
        .into_inner()
        .unwrap()
        .unwrap_or_else(|| panic!("no 429 after {max} requests"));
    (ok.into_inner(), r)
}

fn assert_429(r: &Reply) {
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "rate_limited", "{}", r.text);
    let after: u32 = r.header("retry-after").unwrap_or("").parse().unwrap();
    assert!((1..=60).contains(&after), "Retry-After {after}");
}

#[test]
fn one_client_address_is_limited_on_the_survey_routes_and_others_are_not() {
    let t = new_tenant("rl-ip");
    // Page views and answers from one address count together; each answer is to its own
    // link, so only the address limit applies.
    let links = t.post("/v1/survey-links", &json!({"survey": "nps", "count": 400}));
    assert_eq!(links.status, 201, "{}", links.text);
    let tokens: Vec<String> = links.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["token"].as_str().unwrap().to_string())
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let acknowledged = std::sync::atomic::AtomicU64::new(0);
    let ip = [("cf-connecting-ip", "198.51.100.7")];
    let (ok, r) = until_limited(400, 200..=299, || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if i.is_multiple_of(2) {
            request("GET", &format!("/s/{}", tokens[i]), &ip, None)
        } else {
            let body = json!({"token": tokens[i], "score": 5}).to_string();
            let r = request(
                "POST",
                "/v1/responses",
                &ip,
                Some(("application/json", &body)),
            );
            if r.status == 201 {
                acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            r
        }
    });
    assert!(ok >= 120, "only {ok} requests before the 429");
    assert_429(&r);
    // Another customer still gets the page.
    let other = request(
        "GET",
        &format!("/s/{}", tokens[399]),
        &[("cf-connecting-ip", "198.51.100.8")],
        None,
    );
    assert_eq!(other.status, 200);
    // Every acknowledged answer is stored, and nothing else.
    // (The 2xx before the first 429 split between views and answers as the threads raced, so
    // the answers are counted as they were acknowledged.)
    let stored = t.walk("/v1/responses", "responses", 200).len() as u64;
    assert_eq!(
        stored,
        acknowledged.into_inner(),
        "acknowledged answers are stored"
    );
    assert!(stored > 0);
    assert_eq!(t.nps_now()["n"].as_u64(), Some(stored));
}

#[test]
fn one_link_is_limited_and_still_holds_one_response() {
    let t = new_tenant("rl-link");
    let tok = t.mint(json!({}))["token"].as_str().unwrap().to_string();
    let (ok, r) = until_limited(300, 200..=299, || {
        post_json("/v1/responses", None, &json!({"token": tok, "score": 10}))
    });
    assert!(ok >= 60, "only {ok} answers before the 429");
    assert_429(&r);
    assert_eq!(t.nps_now()["n"], 1);
    let fresh = t.mint(json!({}));
    let r = answer_form(fresh["token"].as_str().unwrap(), 7, None);
    assert_eq!(r.status, 201, "another link is not limited: {}", r.text);
}

#[test]
fn one_key_is_limited_on_the_api_and_another_tenant_is_not() {
    let t = new_tenant("rl-key");
    let (ok, r) = until_limited(2000, 200..=299, || t.get("/v1/targets"));
    assert!(ok >= 600, "only {ok} API calls before the 429");
    assert_429(&r);
    let other = new_tenant("rl-key-other");
    assert_eq!(other.get("/v1/targets").status, 200);
}

#[test]
fn a_publishable_key_is_counted_after_the_origin_check_and_per_address() {
    let t = new_tenant("rl-pk");
    let kpis = format!("/v1/kpis?metrics=nps&key={}", t.publishable_key);
    // A script on another site spends nothing of the tenant's budget: 700 refused reads.
    let sent = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                while sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 700 {
                    let r = request(
                        "GET",
                        &kpis,
                        &[
                            ("origin", "https://evil.example"),
                            ("cf-connecting-ip", "203.0.113.9"),
                        ],
                        None,
                    );
                    assert_eq!(r.status, 403, "{}", r.text);
                }
            });
        }
    });
    let page = [
        ("origin", t.origin.as_str()),
        ("cf-connecting-ip", "203.0.113.10"),
    ];
    assert_eq!(request("GET", &kpis, &page, None).status, 200);
    // One address exhausting the key's budget leaves the widget on other addresses alone.
    let (ok, r) = until_limited(2000, 200..=299, || {
        request(
            "GET",
            &kpis,
            &[
                ("origin", t.origin.as_str()),
                ("cf-connecting-ip", "203.0.113.11"),
            ],
            None,
        )
    });
    assert!(ok >= 600, "only {ok} reads before the 429");
    assert_429(&r);
    assert_eq!(request("GET", &kpis, &page, None).status, 200);
}

#[test]
fn admin_routes_are_limited_per_address_whatever_the_token() {
    let ip = [("cf-connecting-ip", "198.51.100.77")];
    let wrong = "Bearer wrong-token-wrong-token-wrong";
    let right = format!("Bearer {}", admin_token());
    let body = json!({"id": unique_id("rl-adm"), "name": "X"}).to_string();
    // The limiter counts in windows of a minute: a window that ends between the 429 and the
    // next request lets that one through, so a run that straddles it goes once more (two
    // boundaries never fall within seconds of each other).
    for attempt in 0..2 {
        let (refused, r) = until_limited(400, 401..=401, || {
            request(
                "POST",
                "/admin/tenants",
                &[ip[0], ("authorization", wrong)],
                Some(("application/json", "{}")),
            )
        });
        assert_429(&r);
        assert!(
            (1..400).contains(&refused) && (attempt > 0 || refused >= 30),
            "{refused} refusals before the 429"
        );
        // Once limited, the address is refused even with the right token: guessing stops.
        let r = request(
            "POST",
            "/admin/tenants",
            &[ip[0], ("authorization", &right)],
            Some(("application/json", &body)),
        );
        if r.status == 429 {
            break;
        }
        assert!(attempt == 0 && r.status == 201, "{}: {}", r.status, r.text);
    }
    // Other addresses are not limited.
    let body = json!({"id": unique_id("rl-adm"), "name": "X"}).to_string();
    let r = request(
        "POST",
        "/admin/tenants",
        &[
            ("cf-connecting-ip", "198.51.100.78"),
            ("authorization", &right),
        ],
        Some(("application/json", &body)),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}
