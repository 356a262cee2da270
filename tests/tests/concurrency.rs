//! Nothing lost, nothing counted twice: many connections answering one link at once.
use serde_json::json;
use tests::*;

#[test]
fn fifty_concurrent_answers_to_one_link_make_one_response() {
    let t = new_tenant("race");
    let link = t.mint(json!({}));
    let tok = link["token"].as_str().unwrap().to_string();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let tok = tok.clone();
            std::thread::spawn(move || {
                let score = if i % 2 == 0 { 10 } else { 0 };
                post_json(
                    "/v1/responses",
                    None,
                    &json!({"token": tok, "score": score}),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "exactly one creation: {statuses:?}"
    );
    let nps = t.nps_now();
    assert_eq!(nps["n"], 1, "{nps}");
    let b = &nps["breakdown"];
    assert_eq!(
        b["promoters"].as_u64().unwrap() + b["detractors"].as_u64().unwrap(),
        1
    );
}

#[test]
fn concurrent_answers_to_distinct_links_are_all_counted() {
    let t = new_tenant("many");
    let tokens: Vec<String> = (0..40)
        .map(|_| t.mint(json!({}))["token"].as_str().unwrap().to_string())
        .collect();
    let handles: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, tok)| std::thread::spawn(move || answer_form(&tok, (i % 11) as i64, None).status))
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 201);
    }
    let nps = t.nps_now();
    assert_eq!(nps["n"], 40);
    // Scores 0..=10 cycling over 40 answers: 0–6 detractors, 9–10 promoters.
    let (mut p, mut d) = (0, 0);
    for i in 0..40 {
        match i % 11 {
            9 | 10 => p += 1,
            0..=6 => d += 1,
            _ => {}
        }
    }
    assert_eq!(nps["breakdown"]["promoters"], p);
    assert_eq!(nps["breakdown"]["detractors"], d);
}

#[test]
fn imported_history_lands_on_its_own_days_and_reimport_changes_nothing() {
    let t = new_tenant("import");
    let items = json!({"responses": [
        {"id": "a", "survey": "nps", "score": 10, "at": "2026-03-10T03:00:00Z", "channel": "zalo"},
        {"id": "b", "survey": "nps", "score": 2, "at": "2026-03-10T18:00:00+07:00", "channel": "email"},
        {"id": "c", "survey": "nps", "score": 9, "at": 1_773_100_800_000i64, "channel": "sms"},
        {"id": "d", "survey": "nps", "score": 8, "at": "2041-01-01T00:00:00Z"}
    ]});
    for _ in 0..2 {
        let r = post_json("/v1/responses/import", Some(&t.secret_key), &items);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let k = t.kpis("metrics=nps&period=month&at=2026-03&segment=channel");
    let nps = &k["kpis"][0];
    assert_eq!(nps["n"], 3, "{nps}");
    assert_eq!(nps["segments"]["zalo"]["value"].as_f64(), Some(100.0));
    assert_eq!(nps["segments"]["email"]["value"].as_f64(), Some(-100.0));
    let after_2038 = t.kpis("metrics=nps&period=year&at=2041");
    assert_eq!(after_2038["kpis"][0]["n"], 1);
    let bad = post_json(
        "/v1/responses/import",
        Some(&t.secret_key),
        &json!({"responses": [{"id": "z", "survey": "nps", "score": 12, "at": 0}]}),
    );
    assert_eq!(bad.status, 422);
}
