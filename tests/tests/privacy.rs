//! What we keep about people: a survey link names its respondent only by an opaque
//! reference; the tenant still gets its own CRM id back; erasure removes the id from every
//! row, remembers the erased person only as a keyed hash, and a later answer through a link
//! sent before is stored anonymously. CRM events keep only the fields that were validated.
use serde_json::{json, Value};
use tests::*;

fn answer(token: &Value, score: u64, comment: Option<&str>) -> Reply {
    post_json(
        "/v1/responses",
        None,
        &json!({"token": token, "score": score, "comment": comment}),
    )
}

/// The decoded payload of a token (its claims as JSON text).
fn payload(token: &str) -> String {
    use base64::Engine;
    let (p, _) = token.split_once('.').expect("payload.mac");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .expect("base64url");
    String::from_utf8(bytes).expect("UTF-8 claims")
}

/// The response row of `link_id`.
fn row(t: &Tenant, link_id: &Value) -> Value {
    t.walk("/v1/responses", "responses", 100)
        .into_iter()
        .find(|r| &r["link_id"] == link_id)
        .unwrap_or_else(|| panic!("no response for {link_id}"))
}

/// Every row of every table of the local D1, as SQL text.
fn whole_database() -> String {
    sql(".dump")
}

#[test]
fn a_link_carries_no_crm_id_yet_the_tenant_gets_its_id_back() {
    let t = new_tenant("opaque");
    let who = unique_id("crm-contact");
    let link = t.mint(json!({"respondent": who, "ticket": "T-9"}));
    let tok = link["token"].as_str().unwrap();
    let claims = payload(tok);
    assert!(
        !claims.contains(&who),
        "the token shows the CRM id: {claims}"
    );
    assert!(!link["url"].as_str().unwrap().contains(&who));
    // Two links to the same person carry the same reference (so one mint of 1000 links
    // stays one reference), and another person gets another.
    let again = t.mint(json!({"respondent": who}));
    let other = t.mint(json!({"respondent": unique_id("crm-contact")}));
    let reference = |l: &Value| -> Value {
        serde_json::from_str::<Value>(&payload(l["token"].as_str().unwrap())).unwrap()["p"].clone()
    };
    assert!(reference(&link).is_string(), "{claims}");
    assert_eq!(reference(&link), reference(&again));
    assert_ne!(reference(&link), reference(&other));

    assert_eq!(answer(&link["token"], 4, Some("slow")).status, 201);
    let r = row(&t, &link["link_id"]);
    assert_eq!(
        r["respondent"],
        who.as_str(),
        "the tenant gets its CRM id back"
    );
    let csv = t.get("/v1/export.csv?kind=responses").text;
    assert!(csv.contains(&who), "{csv}");
}

#[test]
fn erasure_forgets_the_person_and_links_sent_before_answer_anonymously() {
    let t = new_tenant("forget");
    let who = unique_id("crm-erased");
    let answered = t.mint(json!({"respondent": who}));
    let unanswered = t.mint(json!({"respondent": who}));
    assert_eq!(answer(&answered["token"], 9, Some("first")).status, 201);

    let r = t.send("DELETE", &format!("/v1/respondents/{who}"), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["erased"], 1);

    // Links sent before the erasure still count, anonymously.
    assert_eq!(answer(&unanswered["token"], 3, Some("later")).status, 201);
    assert_eq!(
        answer(&answered["token"], 2, Some("changed my mind")).status,
        200
    );
    for link in [&answered, &unanswered] {
        let r = row(&t, &link["link_id"]);
        assert!(r["respondent"].is_null(), "{r}");
    }
    assert_eq!(t.nps_now()["n"], 2);
    let db = whole_database();
    assert!(
        !db.contains(&who),
        "the CRM id is still stored: {}",
        db.lines()
            .filter(|l| l.contains(&who))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Remembered, as a keyed hash only.
    let remembered = sql(&format!(
        "SELECT hash FROM erased_respondents WHERE tenant_id = {}",
        sql_lit(&t.id)
    ));
    assert_eq!(remembered.lines().count(), 1, "{remembered}");
    assert!(!remembered.contains(&who));

    // A link minted after the erasure is the tenant naming the person again: it counts as
    // theirs, and the links from before stay anonymous.
    let fresh = t.mint(json!({"respondent": who}));
    assert_eq!(answer(&fresh["token"], 10, None).status, 201);
    assert_eq!(row(&t, &fresh["link_id"])["respondent"], who.as_str());
    assert_eq!(answer(&unanswered["token"], 5, None).status, 200);
    assert!(row(&t, &unanswered["link_id"])["respondent"].is_null());
}

#[test]
fn links_sent_before_this_version_keep_their_respondent_until_it_is_erased() {
    // A token as the previous version signed it: the respondent id in clear (`r`).
    let t = new_tenant("legacy");
    let who = unique_id("crm-legacy");
    let claims = |l: &str| {
        json!({"v": 1, "t": t.id, "k": "nps", "s": 10, "l": l, "r": who, "c": "email",
               "g": "en", "e": 4_000_000_000i64})
    };
    let (one, two) = (
        sign_token(&claims("legacy-1")),
        sign_token(&claims("legacy-2")),
    );
    assert_eq!(answer(&json!(one), 8, None).status, 201);
    assert_eq!(row(&t, &json!("legacy-1"))["respondent"], who.as_str());
    let r = t.send("DELETE", &format!("/v1/respondents/{who}"), None);
    assert_eq!(r.json()["erased"], 1, "{}", r.text);
    assert_eq!(answer(&json!(two), 6, None).status, 201);
    assert!(row(&t, &json!("legacy-2"))["respondent"].is_null());
    assert!(!whole_database().contains(&who));
}

#[test]
fn events_keep_only_their_validated_fields() {
    let t = new_tenant("event-fields");
    let secret = unique_id("pii");
    let events = json!([
        {"id": "ev-lead", "type": "lead.created", "at": "2026-11-20T09:00:00+07:00",
         "source": "zalo", "campaign": "tet", "email": format!("{secret}@example.com"),
         "phone": "0909 123 456", "user": format!("{secret}-user"), "customer": secret,
         "note": {"free": secret}},
        {"id": "ev-order", "type": "order.placed", "at": "2026-11-20T10:00:00+07:00",
         "amount": 150000, "currency": "VND", "customer": format!("{secret}-customer"),
         "deal": format!("{secret}-deal")},
        {"id": "ev-user", "type": "crm.user_active", "at": "2026-11-20T11:00:00+07:00",
         "user": "agent-7", "source": "web", "address": secret}
    ]);
    let r = t.post("/v1/events", &events);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["stored"], 3, "{}", r.text);
    let bodies = sql(&format!(
        "SELECT id, body FROM events WHERE tenant_id = {} ORDER BY id",
        sql_lit(&t.id)
    ));
    assert!(
        !bodies.contains(&secret),
        "unvalidated fields were stored:\n{bodies}"
    );
    let body = |id: &str| -> Value {
        let line = bodies
            .lines()
            .find(|l| l.starts_with(&format!("{id}|")))
            .unwrap_or_else(|| panic!("no {id} in {bodies}"));
        serde_json::from_str(&line[id.len() + 1..]).expect("a JSON body")
    };
    let lead = body("ev-lead");
    assert_eq!(lead["source"], "zalo");
    assert_eq!(lead["campaign"], "tet");
    assert_eq!(lead["type"], "lead.created");
    let order = body("ev-order");
    assert_eq!(order["amount"], 150000);
    assert_eq!(order["currency"], "VND");
    assert_eq!(body("ev-user")["user"], "agent-7");
    // A replay stores nothing new and the KPIs saw the same events.
    let r = t.post("/v1/events", &events);
    assert_eq!(r.json()["duplicates"], 3, "{}", r.text);
}
