//! The survey page customers answer: server-rendered HTML, a few KB, no external requests,
//! no script at all (`script-src 'none'`). A GET never records, and neither does anything the
//! page does by itself: mail scanners open every link of an e-mail, some in a headless
//! browser that runs scripts. Only a person pressing a button POSTs. `?score=N` (the one-click
//! links of an e-mail) opens with N selected, the comment box shown and one large Send button.
//!
//! An open link (one QR code for every walk-in customer) keeps one answer per browser: the
//! first answer sets a first-party cookie, scoped to the link's own path, holding a random
//! response id; answering again from that browser changes that answer, and the page shows it.
use kpi_core::SurveyKind;
use worker::{Method, Request, Response};

use crate::answers::{self, Stored};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{self, b64url, html_escape, query, query_pairs, random_bytes, BODY_LIMIT};
use crate::route::{Call, Endpoint, Handler, Path, Route};

/// The routes of this file: the token in the path is the credential.
pub const ROUTES: &[Route] = &[Route {
    path: Path::Under("/s/", "token"),
    endpoints: &[
        Endpoint {
            method: Method::Get,
            handler: Handler::Survey(|c| Box::pin(show(c))),
        },
        Endpoint {
            method: Method::Post,
            handler: Handler::Survey(|c| Box::pin(submit(c))),
        },
    ],
    cors: false,
    log: "/s/:token",
}];

struct Texts {
    question: &'static str,
    low: &'static str,
    high: &'static str,
    comment: &'static str,
    send: &'static str,
    thanks: &'static str,
    thanks_comment: &'static str,
    your_score: &'static str,
    add_comment: &'static str,
    expired: &'static str,
    revoked: &'static str,
    invalid: &'static str,
    full: &'static str,
    change: &'static str,
}

fn texts(kind: SurveyKind, lang: &str) -> Texts {
    let vi = lang == "vi";
    let (question, low, high) = match (kind, vi) {
        (SurveyKind::Nps, true) => (
            "Bạn có sẵn lòng giới thiệu {name} cho bạn bè hoặc đồng nghiệp không?",
            "Hoàn toàn không",
            "Chắc chắn có",
        ),
        (SurveyKind::Nps, false) => (
            "How likely are you to recommend {name} to a friend or colleague?",
            "Not at all likely",
            "Extremely likely",
        ),
        (SurveyKind::Csat { .. }, true) => (
            "Bạn hài lòng thế nào với dịch vụ của {name}?",
            "Rất không hài lòng",
            "Rất hài lòng",
        ),
        (SurveyKind::Csat { .. }, false) => (
            "How satisfied are you with {name}?",
            "Very dissatisfied",
            "Very satisfied",
        ),
        (SurveyKind::Ces, true) => (
            "{name} đã giúp bạn giải quyết vấn đề dễ dàng đến mức nào?",
            "Rất khó khăn",
            "Rất dễ dàng",
        ),
        (SurveyKind::Ces, false) => (
            "How easy did {name} make it to handle your request?",
            "Very difficult",
            "Very easy",
        ),
    };
    if vi {
        Texts {
            question,
            low,
            high,
            comment: "Bạn muốn chia sẻ thêm điều gì không? (không bắt buộc)",
            send: "Gửi",
            thanks: "Cảm ơn bạn đã phản hồi!",
            thanks_comment: "Chúng tôi đã nhận được góp ý của bạn.",
            your_score: "Điểm của bạn",
            add_comment: "Gửi góp ý",
            expired: "Liên kết khảo sát này đã hết hạn.",
            revoked: "Liên kết khảo sát này đã bị thu hồi.",
            invalid: "Liên kết khảo sát này không hợp lệ.",
            full: "Khảo sát này đã nhận đủ số phản hồi. Cảm ơn bạn!",
            change: "Bạn đã trả lời khảo sát này. Bạn có thể đổi câu trả lời rồi bấm Gửi.",
        }
    } else {
        Texts {
            question,
            low,
            high,
            comment: "Anything you would like to add? (optional)",
            send: "Send",
            thanks: "Thank you for your feedback!",
            thanks_comment: "We have received your comment.",
            your_score: "Your score",
            add_comment: "Send comment",
            expired: "This survey link has expired.",
            revoked: "This survey link has been withdrawn.",
            invalid: "This survey link is not valid.",
            full: "This survey has received all the answers it takes. Thank you!",
            change: "You have answered this survey. You can change your answer and press Send.",
        }
    }
}

const STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f6f8;color:#1b1f24}\
main{max-width:640px;margin:0 auto;padding:24px 16px}\
h1{font-size:1.25rem;margin:0 0 20px}\
.scale{display:flex;flex-wrap:wrap;gap:8px;border:0;padding:0;margin:16px 0 8px}\
.scale button{flex:1 0 44px;min-width:44px;min-height:48px;font-size:1.1rem;border:2px solid #2f5bd3;border-radius:10px;background:#fff;color:#1d3f9e;cursor:pointer}\
.scale button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}\
.ends{display:flex;justify-content:space-between;font-size:.85rem;color:#4a5562;margin-bottom:20px}\
label{display:block;margin:0 0 6px}\
textarea{box-sizing:border-box;width:100%;min-height:96px;font:inherit;padding:8px;border:1px solid #8a94a3;border-radius:8px}\
.pick input{position:absolute;opacity:0;width:1px;height:1px}\
.pick label{flex:1 0 44px;min-width:44px;min-height:48px;margin:0;display:flex;align-items:center;justify-content:center;font-size:1.1rem;border:2px solid #2f5bd3;border-radius:10px;background:#fff;color:#1d3f9e;cursor:pointer}\
.pick input:checked+label{background:#2f5bd3;color:#fff}\
.pick input:focus-visible+label{outline:3px solid #f5a623;outline-offset:2px}\
.send{margin-top:12px;min-height:48px;padding:0 28px;font-size:1.05rem;border:0;border-radius:10px;background:#2f5bd3;color:#fff;cursor:pointer}\
.big{display:block;width:100%;min-height:56px;font-size:1.2rem}\
.done{font-size:1.3rem;color:#146c2e}";

fn page(lang: &str, title: &str, nonce: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style nonce=\"{nonce}\">{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
}

fn html_response(status: u16, html: String, nonce: &str) -> ApiResult<Response> {
    let mut resp = Response::from_html(html)?.with_status(status);
    let h = resp.headers_mut();
    h.set(
        "content-security-policy",
        &format!(
            "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'none'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
    )?;
    h.set("cache-control", "no-store")?;
    h.set("referrer-policy", "no-referrer")?;
    h.set("x-content-type-options", "nosniff")?;
    Ok(resp)
}

fn wants_html(req: &Request) -> bool {
    let accept = req
        .headers()
        .get("accept")
        .ok()
        .flatten()
        .unwrap_or_default();
    accept.contains("text/html")
}

/// An error on a survey route: an HTML page for a person, the JSON error for a program.
fn error_page(req: &Request, err: ApiError, lang: &str) -> ApiResult<Response> {
    if !wants_html(req) {
        return Err(err);
    }
    let (status, _, _) = err.parts();
    let t = texts(SurveyKind::Nps, lang);
    let msg = match err {
        ApiError::Expired => t.expired,
        ApiError::Revoked => t.revoked,
        ApiError::LinkFull => t.full,
        _ => t.invalid,
    };
    let nonce = b64url(&random_bytes::<16>()?);
    html_response(
        status,
        page(lang, msg, &nonce, &format!("<h1>{msg}</h1>")),
        &nonce,
    )
}

/// Whether an error is about the link itself (shown as a page to a person).
fn link_error(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BadToken | ApiError::Expired | ApiError::Revoked | ApiError::LinkFull
    )
}

/// The cookie holding a browser's response id to an open link.
const COOKIE: &str = "kpi_open";

/// The response id this browser holds for the open link at this path, if any.
fn cookie_response_id(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .and_then(|(_, v)| answers::response_id(v))
}

/// Keeps `response_id` in this browser for the open link at `/s/<tok>` until it expires:
/// first-party, never sent anywhere but this link's own page, unreadable by scripts.
fn set_cookie(
    resp: &mut Response,
    req: &Request,
    tok: &str,
    id: &str,
    expires: i64,
) -> ApiResult<()> {
    let max_age = (expires - http::now_ms() / 1000).max(0);
    let secure = if req.url()?.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    resp.headers_mut().set(
        "set-cookie",
        &format!("{COOKIE}={id}; Path=/s/{tok}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"),
    )?;
    Ok(())
}

fn token_of(path: &str) -> &str {
    path.trim_start_matches("/s/")
}

/// `GET /s/<token>`: the question. Never records anything.
async fn show(c: Call) -> ApiResult<Response> {
    let Call { req, env, .. } = c;
    let env = &env;
    let path = req.path();
    let tok = token_of(&path);
    let link = match answers::open_link(env, tok).await {
        Ok(l) => l,
        Err(e) if link_error(&e) => return error_page(&req, e, "vi"),
        Err(e) => return Err(e),
    };
    let (kind, lang) = (link.kind, link.claims.lang.as_str());
    let t = texts(kind, lang);
    let pairs = query_pairs(&req);
    // A browser that answered this open link sees its answer, to change it.
    let earlier = match (link.claims.open, cookie_response_id(&req)) {
        (Some(_), Some(id)) => {
            let key = answers::open_row_key(&link.claims.link, &id);
            db::responses::score_of(&db::open(env)?, &link.claims.tenant, &key).await?
        }
        _ => None,
    };
    let pre = query(&pairs, "score")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| kind.check_score(s).ok())
        .or(earlier.and_then(|s| kind.check_score(s).ok()));
    let nonce = b64url(&random_bytes::<16>()?);
    let question = html_escape(&t.question.replace("{name}", &link.tenant.name));
    let (min, max) = kind.range();
    let action = format!("/s/{}", html_escape(tok));
    let ends = format!(
        "<div class=\"ends\"><span>{min} = {}</span><span>{max} = {}</span></div>",
        t.low, t.high
    );
    let comment = format!(
        "<label for=\"c\">{}</label><textarea id=\"c\" name=\"comment\" maxlength=\"4000\"></textarea>",
        t.comment
    );
    let body = match pre {
        // A one-click link from an e-mail: the score is chosen, not sent. The scale stays
        // changeable (radio buttons) and only the Send button records.
        Some(chosen) => {
            let mut radios = String::new();
            for s in min..=max {
                let checked = if s == chosen { " checked" } else { "" };
                radios.push_str(&format!(
                    "<input type=\"radio\" name=\"score\" value=\"{s}\"{checked} id=\"s{s}\">\
                     <label for=\"s{s}\">{s}</label>"
                ));
            }
            let note = match earlier {
                Some(_) => format!("<p id=\"earlier\">{}</p>", t.change),
                None => String::new(),
            };
            format!(
                "<h1 id=\"q\">{question}</h1>{note}<form method=\"post\" action=\"{action}\">\
                 <fieldset class=\"scale pick\" aria-labelledby=\"q\">{radios}</fieldset>{ends}\
                 {comment}<button class=\"send big\" type=\"submit\">{}</button></form>",
                t.send
            )
        }
        None => {
            let mut buttons = String::new();
            for s in min..=max {
                buttons.push_str(&format!(
                    "<button type=\"submit\" name=\"score\" value=\"{s}\">{s}</button>"
                ));
            }
            format!(
                "<h1 id=\"q\">{question}</h1><form method=\"post\" action=\"{action}\">{comment}\
                 <fieldset class=\"scale\" aria-labelledby=\"q\">{buttons}</fieldset>{ends}</form>"
            )
        }
    };
    html_response(200, page(lang, &question, &nonce, &body), &nonce)
}

/// `POST /s/<token>` (form `score`, `comment`): records the answer, shows the thank-you state
/// with a box to add or change the comment (posting again updates the same response).
async fn submit(c: Call) -> ApiResult<Response> {
    let Call {
        mut req, env, ctx, ..
    } = c;
    let env = &env;
    let path = req.path();
    let tok = token_of(&path).to_string();
    // A browser posts this form urlencoded; multipart is refused rather than parsed whole.
    if http::media_type(&req) != "application/x-www-form-urlencoded" {
        return Err(ApiError::UnsupportedMediaType(
            "Post the survey form as application/x-www-form-urlencoded.",
        ));
    }
    // The link is checked before a byte of the body is read.
    let link = match answers::open_link(env, &tok).await {
        Ok(l) => l,
        Err(e) if link_error(&e) => return error_page(&req, e, "vi"),
        Err(e) => return Err(e),
    };
    let bytes = http::body_bytes(&mut req, BODY_LIMIT).await?;
    let (mut score, mut comment) = (None, None);
    for (k, v) in form_urlencoded::parse(&bytes) {
        match &*k {
            "score" => score = Some(v.into_owned()),
            "comment" => comment = Some(v.into_owned()),
            _ => {}
        }
    }
    let score: i64 = match score.as_deref().map(str::trim).map(str::parse) {
        Some(Ok(s)) => s,
        _ => {
            return Err(ApiError::Invalid(
                "`score` is required and must be an integer".into(),
            ))
        }
    };
    let expires = link.claims.expires;
    let lang = link.claims.lang.clone();
    let earlier = link.claims.open.and_then(|_| cookie_response_id(&req));
    let (answer, tenant) = answers::answer_link(env, link, score, comment, earlier).await?;
    let kind = answer.kind;
    let had_comment = answer.comment.clone();
    let response_id = answer.open.as_ref().map(|o| o.response_id.clone());
    let (stored, written) = match answers::store_answer(env, &ctx, answer, &tenant).await {
        Ok(s) => s,
        Err(e) if link_error(&e) => return error_page(&req, e, &lang),
        Err(e) => return Err(e),
    };
    let t = texts(kind, &lang);
    let nonce = b64url(&random_bytes::<16>()?);
    let action = format!("/s/{}", html_escape(&tok));
    let comment_html = match &had_comment {
        Some(_) => format!("<p>{}</p>", t.thanks_comment),
        None => format!(
            "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"score\" value=\"{score}\">\
             <label for=\"c\">{}</label><textarea id=\"c\" name=\"comment\" maxlength=\"4000\"></textarea>\
             <button class=\"send\" type=\"submit\">{}</button></form>",
            t.comment, t.add_comment
        ),
    };
    let body = format!(
        "<p class=\"done\" role=\"status\" id=\"thanks\">{}</p><p>{}: <strong>{score}</strong></p>{comment_html}",
        t.thanks, t.your_score
    );
    let status = if stored == Stored::Created { 201 } else { 200 };
    let mut resp = html_response(status, page(&lang, t.thanks, &nonce, &body), &nonce)?;
    if let Some(id) = &response_id {
        set_cookie(&mut resp, &req, &tok, id, expires)?;
    }
    crate::http::set_d1_rows(&mut resp, 0, written)?;
    Ok(resp)
}
