//! The walking skeleton's path: a survey link answered on the real worker, read back as NPS.
use serde_json::json;
use tests::*;

#[test]
fn health_answers() {
    let r = request("GET", "/healthz", &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ok"], true);
}

#[test]
fn nps_from_form_answers_equals_the_answers_given() {
    let t = new_tenant("flow");
    // 3 promoters, 1 passive, 2 detractors of 6 → (3 − 2) ÷ 6 = 16.7.
    let scores = [10, 9, 9, 7, 6, 0];
    for s in scores {
        let link = t.mint(json!({}));
        let r = answer_form(link["token"].as_str().unwrap(), s, None);
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(r.text.contains("Thank you"), "thank-you state: {}", r.text);
    }
    let nps = t.nps_now();
    assert_eq!(nps["n"], 6);
    assert_eq!(nps["value"].as_f64(), Some(16.7));
    assert_eq!(
        nps["breakdown"],
        json!({"promoters": 3, "passives": 1, "detractors": 2})
    );
    assert_eq!(nps["insufficient_sample"], true);
    assert_eq!(nps["unit"], "score");
    assert_eq!(
        (
            nps["target"]["min"].as_f64(),
            nps["target"]["goal"].as_f64()
        ),
        (Some(0.0), Some(50.0))
    );
    assert_eq!(nps["status"], "at_risk");
}

#[test]
fn resubmitting_a_token_changes_the_score_not_the_count() {
    let t = new_tenant("resubmit");
    let link = t.mint(json!({}));
    let tok = link["token"].as_str().unwrap();
    assert_eq!(answer_form(tok, 0, None).status, 201);
    assert_eq!(t.nps_now()["value"].as_f64(), Some(-100.0));
    let r = answer_form(tok, 10, Some("Đổi ý: rất tốt!"));
    assert_eq!(r.status, 200, "an update answers 200: {}", r.text);
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 9}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["response"]["updated"], true);
    let nps = t.nps_now();
    assert_eq!(nps["n"], 1);
    assert_eq!(nps["value"].as_f64(), Some(100.0));
}

#[test]
fn a_get_never_records_even_with_a_score() {
    let t = new_tenant("scanner");
    let link = t.mint(json!({}));
    for url in [
        link["url"].as_str().unwrap(),
        link["score_urls"]["3"].as_str().unwrap(),
    ] {
        let r = request("GET", url, &[("accept", "text/html")], None);
        assert_eq!(r.status, 200);
        assert!(r
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/html"));
    }
    assert_eq!(t.nps_now()["n"], 0);
    assert_eq!(t.nps_now()["value"], serde_json::Value::Null);
}

#[test]
fn one_click_page_preselects_and_runs_no_script() {
    let t = new_tenant("oneclick");
    let link = t.mint(json!({"lang": "vi"}));
    let r = request(
        "GET",
        link["score_urls"]["9"].as_str().unwrap(),
        &[("accept", "text/html")],
        None,
    );
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("name=\"score\" value=\"9\" checked"),
        "{}",
        r.text
    );
    assert!(r.text.contains("<textarea"));
    assert!(r.text.contains("<html lang=\"vi\">"));
    assert!(
        !r.text.contains("<script"),
        "the page runs nothing by itself"
    );
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    assert!(
        r.text.len() < 8 * 1024,
        "the page weighs {} bytes",
        r.text.len()
    );
    assert_eq!(t.nps_now()["n"], 0);
}

#[test]
fn json_answers_record_and_scores_off_the_scale_are_422() {
    let t = new_tenant("json");
    let link = t.mint(json!({"survey": "csat", "scale": 5}));
    let tok = link["token"].as_str().unwrap();
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 6}));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "score_out_of_range"),
        "{}",
        r.text
    );
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 0}));
    assert_eq!(r.status, 422);
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 5}));
    assert_eq!(r.status, 201, "{}", r.text);
    let nps_link = t.mint(json!({}));
    let r = answer_form(nps_link["token"].as_str().unwrap(), 11, None);
    assert_eq!(r.status, 422);
}
