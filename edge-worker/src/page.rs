//! The survey page customers answer: server-rendered HTML, a few KB, no external requests,
//! usable without JavaScript. A GET never records (mail scanners open every link); only a
//! POST does. `?score=N` preselects N and submits it with a tiny nonce-allowed script.
use kpi_core::SurveyKind;
use worker::{Context, Env, Request, Response};

use crate::error::{ApiError, ApiResult};
use crate::http::{
    self, b64url, html_escape, now_ms, query, query_pairs, random_bytes, BODY_LIMIT,
};
use crate::surveys::{self, Stored};
use crate::tenants;
use crate::token;

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
    invalid: &'static str,
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
            invalid: "Liên kết khảo sát này không hợp lệ.",
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
            invalid: "This survey link is not valid.",
        }
    }
}

const STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f6f8;color:#1b1f24}\
main{max-width:640px;margin:0 auto;padding:24px 16px}\
h1{font-size:1.25rem;margin:0 0 20px}\
.scale{display:flex;flex-wrap:wrap;gap:8px;border:0;padding:0;margin:0 0 8px}\
.scale button{flex:1 0 44px;min-width:44px;min-height:48px;font-size:1.1rem;border:2px solid #2f5bd3;border-radius:10px;background:#fff;color:#1d3f9e;cursor:pointer}\
.scale button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}\
.scale button[aria-pressed=true]{background:#2f5bd3;color:#fff}\
.ends{display:flex;justify-content:space-between;font-size:.85rem;color:#4a5562;margin-bottom:20px}\
label{display:block;margin:0 0 6px}\
textarea{box-sizing:border-box;width:100%;min-height:96px;font:inherit;padding:8px;border:1px solid #8a94a3;border-radius:8px}\
.send{margin-top:12px;min-height:48px;padding:0 28px;font-size:1.05rem;border:0;border-radius:10px;background:#2f5bd3;color:#fff;cursor:pointer}\
.done{font-size:1.3rem;color:#146c2e}";

fn page(lang: &str, title: &str, nonce: &str, body: &str, script: Option<&str>) -> String {
    let script = script
        .map(|s| format!("<script nonce=\"{nonce}\">{s}</script>"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style nonce=\"{nonce}\">{STYLE}</style></head><body><main>{body}</main>{script}</body></html>"
    )
}

fn html_response(status: u16, html: String, nonce: &str) -> ApiResult<Response> {
    let mut resp = Response::from_html(html)?.with_status(status);
    let h = resp.headers_mut();
    h.set(
        "content-security-policy",
        &format!(
            "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
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
    let msg = if matches!(err, ApiError::Expired) {
        t.expired
    } else {
        t.invalid
    };
    let nonce = b64url(&random_bytes::<16>()?);
    html_response(
        status,
        page(lang, msg, &nonce, &format!("<h1>{msg}</h1>"), None),
        &nonce,
    )
}

fn token_of(path: &str) -> &str {
    path.trim_start_matches("/s/")
}

/// `GET /s/<token>`: the question. Never records anything.
pub async fn show(req: Request, env: &Env) -> ApiResult<Response> {
    let path = req.path();
    let tok = token_of(&path);
    let claims = match token::verify(&surveys::signing_secret(env)?, tok, now_ms() / 1000) {
        Ok(c) => c,
        Err(e) => return error_page(&req, e, "vi"),
    };
    let kind = SurveyKind::parse(&claims.k, Some(claims.s)).map_err(|_| ApiError::BadToken)?;
    let tenant = tenants::config(env, &claims.t).await?;
    let t = texts(kind, &claims.g);
    let pairs = query_pairs(&req);
    let pre = query(&pairs, "score")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| kind.check_score(s).ok());
    let nonce = b64url(&random_bytes::<16>()?);
    let question = html_escape(&t.question.replace("{name}", &tenant.name));
    let (min, max) = kind.range();
    let action = format!("/s/{}", html_escape(tok));
    let mut buttons = String::new();
    for s in min..=max {
        buttons.push_str(&format!(
            "<button type=\"submit\" name=\"score\" value=\"{s}\" aria-pressed=\"{}\">{s}</button>",
            pre == Some(s)
        ));
    }
    let body = match pre {
        // One-click link from an e-mail: the score is chosen; submit it (script), or let the
        // person press Send (no script).
        Some(s) => format!(
            "<h1>{question}</h1><form id=\"f\" method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"score\" value=\"{s}\">\
             <p>{}: <strong>{s}</strong></p>\
             <button class=\"send\" type=\"submit\">{}</button></form>",
            t.your_score, t.send
        ),
        None => format!(
            "<h1>{question}</h1><form method=\"post\" action=\"{action}\">\
             <label for=\"c\">{}</label><textarea id=\"c\" name=\"comment\" maxlength=\"4000\"></textarea>\
             <p id=\"q\">{}</p>\
             <fieldset class=\"scale\" aria-labelledby=\"q\">{buttons}</fieldset>\
             <div class=\"ends\"><span>{min} = {}</span><span>{max} = {}</span></div></form>",
            t.comment, question, t.low, t.high
        ),
    };
    let script = pre.map(|_| "document.getElementById('f').submit();");
    html_response(
        200,
        page(&claims.g, &question, &nonce, &body, script),
        &nonce,
    )
}

/// `POST /s/<token>` (form `score`, `comment`): records the answer, shows the thank-you state
/// with a box to add or change the comment (posting again updates the same response).
pub async fn submit(mut req: Request, env: &Env, ctx: &Context) -> ApiResult<Response> {
    let path = req.path();
    let tok = token_of(&path).to_string();
    let media = http::media_type(&req);
    if media != "application/x-www-form-urlencoded" && media != "multipart/form-data" {
        return Err(ApiError::UnsupportedMediaType(
            "Post the survey form as application/x-www-form-urlencoded.",
        ));
    }
    let (mut score, mut comment) = (None, None);
    if media == "multipart/form-data" {
        let form = req
            .form_data()
            .await
            .map_err(|_| ApiError::Malformed("unreadable form".into()))?;
        if let Some(worker::FormEntry::Field(s)) = form.get("score") {
            score = Some(s);
        }
        if let Some(worker::FormEntry::Field(c)) = form.get("comment") {
            comment = Some(c);
        }
    } else {
        let bytes = http::body_bytes(&mut req, BODY_LIMIT).await?;
        for (k, v) in form_urlencoded::parse(&bytes) {
            match &*k {
                "score" => score = Some(v.into_owned()),
                "comment" => comment = Some(v.into_owned()),
                _ => {}
            }
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
    let (answer, tenant) = match surveys::answer_from_token(env, &tok, score, comment).await {
        Ok(v) => v,
        Err(e @ (ApiError::BadToken | ApiError::Expired)) => return error_page(&req, e, "vi"),
        Err(e) => return Err(e),
    };
    let kind = answer.kind;
    let lang = answer.lang.clone();
    let had_comment = answer.comment.clone();
    let stored = surveys::store_answer(env, ctx, answer, &tenant).await?;
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
    html_response(status, page(&lang, t.thanks, &nonce, &body, None), &nonce)
}
