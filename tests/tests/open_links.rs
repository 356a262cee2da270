//! Open survey links (issue 15): one link for every walk-in customer — a QR code at the
//! counter, on a receipt, in a Zalo OA post. Each browser's answer is its own response and
//! can be changed from that browser; the tenant's cap holds, also under concurrent answers;
//! the response rate stays answers per link issued; the link's QR code reads back as its URL.
use serde_json::{json, Value};
use tests::*;

/// Answers through the page's form from a browser holding `cookie` (none: a new browser);
/// returns the reply and the cookie the browser holds afterwards.
fn answer_as(token: &str, cookie: Option<&str>, score: i64) -> (Reply, Option<String>) {
    let mut headers = vec![("accept", "text/html")];
    let jar = cookie.map(|c| format!("kpi_open={c}"));
    if let Some(j) = &jar {
        headers.push(("cookie", j));
    }
    let r = request(
        "POST",
        &format!("/s/{token}"),
        &headers,
        Some((
            "application/x-www-form-urlencoded",
            &format!("score={score}"),
        )),
    );
    let set = r.header("set-cookie").map(str::to_string);
    let held = set
        .as_deref()
        .and_then(|c| c.strip_prefix("kpi_open="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .or_else(|| cookie.map(str::to_string));
    (r, held)
}

fn open_link(t: &Tenant, cap: u32) -> Value {
    let link = t.mint(json!({"open": true, "max_responses": cap, "channel": "zalo"}));
    assert_eq!(link["open"], true, "{link}");
    assert_eq!(link["max_responses"], cap);
    link
}

#[test]
fn each_browser_answers_an_open_link_once_and_can_change_it_up_to_the_cap() {
    let t = new_tenant("open");
    let link = open_link(&t, 3);
    let tok = link["token"].as_str().unwrap();

    // A first browser answers: a new response, and a cookie scoped to this link's path.
    let (r, a) = answer_as(tok, None, 9);
    assert_eq!(r.status, 201, "{}", r.text);
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(set.contains(&format!("Path=/s/{tok}")), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let a = a.unwrap();
    // The same browser changes its mind: the same response, updated.
    let (r, _) = answer_as(tok, Some(&a), 4);
    assert_eq!(r.status, 200, "an update answers 200: {}", r.text);
    // Opening the page again shows that browser its answer; a GET records nothing.
    let page = request(
        "GET",
        &format!("/s/{tok}"),
        &[
            ("accept", "text/html"),
            ("cookie", &format!("kpi_open={a}")),
        ],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(page.text.contains("value=\"4\" checked"), "{}", page.text);
    assert!(page.text.contains("id=\"earlier\""));
    // A second browser, and a program through the JSON route.
    let (r, b) = answer_as(tok, None, 10);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(b.as_deref(), Some(a.as_str()), "each browser its own id");
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 6}));
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["response"]["response_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": tok, "score": 8, "response_id": id}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["response"]["updated"], true);
    let r = post_json(
        "/v1/responses",
        None,
        &json!({"token": tok, "score": 8, "response_id": "short"}),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid"));

    // Three responses: the cap. A fourth browser is refused, as a page and as JSON; the
    // browsers that answered can still change their answers.
    let (r, _) = answer_as(tok, None, 10);
    assert_eq!(r.status, 410, "{}", r.text);
    assert!(r.text.contains("all the answers"), "{}", r.text);
    let r = post_json("/v1/responses", None, &json!({"token": tok, "score": 1}));
    assert_eq!((r.status, r.error_code().as_str()), (410, "link_full"));
    let (r, _) = answer_as(tok, Some(&a), 5);
    assert_eq!(r.status, 200, "{}", r.text);

    // Stored: three responses of the link, each with its latest score.
    let rows = t.walk("/v1/responses", "responses", 100);
    let mut scores: Vec<i64> = rows.iter().map(|r| r["score"].as_i64().unwrap()).collect();
    scores.sort_unstable();
    assert_eq!(scores, [5, 8, 10]);
    let link_id = link["link_id"].as_str().unwrap();
    assert!(rows.iter().all(|r| r["link_id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{link_id}:"))));
    assert_eq!(rows[0]["channel"], "zalo");
    let nps = t.nps_now();
    assert_eq!(nps["n"], 3);
    assert_eq!(
        nps["breakdown"],
        json!({"promoters": 1, "passives": 1, "detractors": 1})
    );
}

#[test]
fn the_response_rate_counts_issued_links_only_and_shows_open_answers_apart() {
    let t = new_tenant("open-rate");
    // Four links e-mailed, two answered: 50 %.
    let mailed = t.post("/v1/survey-links", &json!({"survey": "nps", "count": 4}));
    assert_eq!(mailed.status, 201);
    for l in mailed.json()["links"].as_array().unwrap().iter().take(2) {
        assert_eq!(
            answer_form(l["token"].as_str().unwrap(), 9, None).status,
            201
        );
    }
    // An open link at the counter, answered by five customers: no link issued, no rate.
    let tok = open_link(&t, 100)["token"].as_str().unwrap().to_string();
    for s in [10, 9, 3, 8, 10] {
        assert_eq!(answer_as(&tok, None, s).0.status, 201);
    }
    let rate = t.kpi("survey_response_rate", "period=month");
    assert_eq!(rate["value"].as_f64(), Some(50.0), "{rate}");
    assert_eq!(rate["n"], 4);
    assert_eq!(rate["breakdown"]["open_link_answers"], 5);
    // NPS counts every answer.
    assert_eq!(t.nps_now()["n"], 7);
}

#[test]
fn concurrent_new_browsers_never_pass_an_open_links_cap() {
    let t = new_tenant("open-race");
    let tok = open_link(&t, 5)["token"].as_str().unwrap().to_string();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let tok = &tok;
                s.spawn(move || answer_as(tok, None, i % 11).0.status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 410).count(),
        11,
        "{statuses:?}"
    );
    assert_eq!(t.nps_now()["n"], 5);
    assert_eq!(t.walk("/v1/responses", "responses", 100).len(), 5);
}

#[test]
fn stuffing_an_open_link_from_one_address_is_rate_limited() {
    let t = new_tenant("open-stuff");
    let tok = open_link(&t, 1000)["token"].as_str().unwrap().to_string();
    // One address, a fresh "browser" (no cookie) each time: the survey limits stop it. The
    // limiter counts 120 an address in fixed one-minute windows, and a window may turn during
    // the test (188 answers were once stored before the 429): at most two windows' worth.
    let mut stored = 0;
    let mut limited = None;
    for _ in 0..250 {
        let r = request(
            "POST",
            &format!("/s/{tok}"),
            &[("cf-connecting-ip", "203.0.113.77")],
            Some(("application/x-www-form-urlencoded", "score=10")),
        );
        match r.status {
            201 => stored += 1,
            429 => {
                limited = Some(r);
                break;
            }
            other => panic!("{other}: {}", r.text),
        }
    }
    let r = limited.expect("no 429 in 250 answers from one address");
    assert_eq!(r.error_code(), "rate_limited");
    assert!(stored < 240, "{stored} answers before the limit");
}

#[test]
fn open_links_name_no_one_and_take_a_cap_in_range() {
    let t = new_tenant("open-422");
    for body in [
        json!({"survey": "nps", "open": true, "respondent": "C-1"}),
        json!({"survey": "nps", "open": true, "ticket": "T-1"}),
        json!({"survey": "nps", "open": true, "max_responses": 0}),
        json!({"survey": "nps", "open": true, "max_responses": 100_001}),
        json!({"survey": "nps", "max_responses": 10}),
    ] {
        let r = t.post("/v1/survey-links", &body);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "invalid"),
            "{body}"
        );
    }
    // The default cap.
    let link = t.mint(json!({"open": true}));
    assert_eq!(link["max_responses"], 1000);
    // A link for one person says nothing of it.
    let one = t.mint(json!({}));
    assert!(one.get("open").is_none() && one.get("max_responses").is_none());
}

/// The dark modules of an SVG the worker drew, as rows of booleans.
fn modules(svg: &str) -> Vec<Vec<bool>> {
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let side: usize = view.split(' ').next().unwrap().parse().unwrap();
    let mut grid = vec![vec![false; side]; side];
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split_once('v').unwrap().0.parse().unwrap();
        for cell in &mut grid[y][x..x + len] {
            *cell = true;
        }
    }
    grid
}

#[test]
fn qr_code_of_an_open_link_is_an_svg_that_reads_back_as_its_url() {
    let t = new_tenant("qr");
    let link = open_link(&t, 50);
    let tok = link["token"].as_str().unwrap();
    let qr_url = link["qr_url"].as_str().unwrap();
    assert!(qr_url.ends_with(&format!("/v1/survey-links/qr.svg?token={tok}")));
    let r = t.get(qr_url);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    assert!(r.header("cache-control").unwrap().starts_with("private"));
    assert!(r
        .text
        .starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(r.text.contains("shape-rendering=\"crispEdges\""));
    assert_eq!(r.text.matches("<path").count(), 1);
    // What a phone's camera reads: the link's page.
    let grid = modules(&r.text);
    let px = 4;
    let side = grid.len();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side * px, side * px, |x, y| {
        if grid[y / px][x / px] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, link["url"].as_str().unwrap());
    // A link for one person prints too (a receipt for one customer).
    let one = t.mint(json!({}));
    assert_eq!(t.get(one["qr_url"].as_str().unwrap()).status, 200);

    // Only the tenant's secret key, only its own links, only links that still answer.
    let path = format!("/v1/survey-links/qr.svg?token={tok}");
    assert_eq!(request("GET", &path, &[], None).status, 401);
    let other = new_tenant("qr-other");
    let r = other.get(&path);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let r = t.get("/v1/survey-links/qr.svg?token=not.a-token");
    assert_eq!((r.status, r.error_code().as_str()), (401, "invalid_token"));
    let r = t.get("/v1/survey-links/qr.svg");
    assert_eq!((r.status, r.error_code().as_str()), (422, "invalid"));
    assert_eq!(t.post("/v1/survey-links/revoke", &json!({})).status, 200);
    let r = t.get(&path);
    assert_eq!((r.status, r.error_code().as_str()), (410, "link_revoked"));
}
