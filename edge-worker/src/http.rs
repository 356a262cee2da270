//! Request plumbing shared by the routes: bounded bodies, content types, JSON replies,
//! query strings, randomness and the clock. Knows HTTP, not the domain.
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Request, Response};

use crate::error::{ApiError, ApiResult};

/// Body limit of single-record routes.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Body limit of batch ingest routes.
pub const BATCH_LIMIT: usize = 1024 * 1024;

/// The request's media type, lower-cased and without parameters.
pub fn media_type(req: &Request) -> String {
    let ct = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Reads the body, refusing it with 413 as soon as it passes `limit` bytes: a declared
/// `Content-Length` over the limit is refused before reading, and the stream itself is read
/// chunk by chunk, each chunk's length checked before it is copied into wasm memory, so a
/// chunked body of any size costs at most `limit` bytes plus one runtime chunk.
///
/// Past the limit the reader lets go of the stream without cancelling it: the runtime then
/// discards the rest outside the isolate. (Cancelling makes `wrangler dev`'s proxy lose the
/// connection and answer a bare 500 instead of the 413.)
pub async fn body_bytes(req: &mut Request, limit: usize) -> ApiResult<Vec<u8>> {
    use wasm_bindgen::JsCast;

    let unreadable = || ApiError::Malformed("unreadable body".into());
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.trim().parse::<u64>().ok());
    match declared {
        Some(l) if l > limit as u64 => return Err(ApiError::TooLarge(limit)),
        // The runtime holds the connection to the declared length: read it in one call.
        Some(_) => return req.bytes().await.map_err(|_| unreadable()),
        None => {}
    }
    let Some(body) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let mut stream = wasm_streams::ReadableStream::from_raw(body.unchecked_into());
    let mut reader = stream.try_get_reader().map_err(|_| unreadable())?;
    let mut out = Vec::new();
    while let Some(chunk) = reader.read().await.map_err(|_| unreadable())? {
        let chunk: js_sys::Uint8Array = chunk.dyn_into().map_err(|_| unreadable())?;
        let len = chunk.length() as usize;
        if out.len().saturating_add(len) > limit {
            return Err(ApiError::TooLarge(limit));
        }
        let at = out.len();
        out.resize(at + len, 0);
        chunk.copy_to(&mut out[at..]);
    }
    Ok(out)
}

/// A body as text: every JSON the worker decodes is read from text (bodies, KV, D1,
/// tokens), through serde_json's one text reader: one copy of each type's decoder.
pub fn utf8(bytes: &[u8]) -> ApiResult<&str> {
    std::str::from_utf8(bytes).map_err(|_| ApiError::Malformed("the body is not UTF-8".into()))
}

/// A JSON body checked once, with no tree built, and kept as text (trimmed): the batch
/// routes split it into items ([`json_items`], [`json_member`]), each decoded once, from
/// its text, by the same deserializer as the rest of the worker.
pub fn checked_json(text: &str) -> ApiResult<&str> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| ApiError::Malformed(format!("invalid JSON: {e}")))?;
    Ok(text.trim_matches(JSON_WS))
}

const JSON_WS: &[char] = &[' ', '\t', '\n', '\r'];

/// The index of the quote closing the JSON string that `s` opens with.
fn string_end(s: &[u8]) -> Option<usize> {
    let mut escaped = false;
    s.iter().enumerate().skip(1).find_map(|(i, &c)| match c {
        _ if escaped => {
            escaped = false;
            None
        }
        b'\\' => {
            escaped = true;
            None
        }
        b'"' => Some(i),
        _ => None,
    })
}

/// The top-level values of `inner`, the inside of a checked JSON array or object without its
/// brackets: split at the commas outside strings and nested brackets, each trimmed.
fn split_top(inner: &str) -> Vec<&str> {
    let b = inner.as_bytes();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    let mut out = Vec::new();
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => i += string_end(b.get(i..).unwrap_or_default()).unwrap_or(b.len()),
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                out.push(
                    inner
                        .get(start..i)
                        .unwrap_or_default()
                        .trim_matches(JSON_WS),
                );
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = inner.get(start..).unwrap_or_default().trim_matches(JSON_WS);
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

/// The inside of checked JSON text that is `open`…`close`.
fn inside(text: &str, open: char, close: char) -> Option<&str> {
    text.strip_prefix(open)?.strip_suffix(close)
}

/// The items of checked JSON text that is an array, each as its own text; `None` when it is
/// not an array.
pub fn json_items(text: &str) -> Option<Vec<&str>> {
    inside(text, '[', ']').map(split_top)
}

/// The text of member `name` of checked JSON text that is an object (the last one, as a
/// parser into a map keeps); `None` when it is absent or `text` is not an object.
pub fn json_member<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    for m in split_top(inside(text, '{', '}')?) {
        // `"key": value`.
        let end = string_end(m.as_bytes())?;
        let (key, rest) = (m.get(..=end)?, m.get(end + 1..)?);
        let same = match key.contains('\\') {
            false => key.get(1..end) == Some(name),
            true => serde_json::from_str::<String>(key).is_ok_and(|k| k == name),
        };
        if same {
            found = rest.trim_start_matches(JSON_WS).strip_prefix(':');
        }
    }
    found.map(|v| v.trim_matches(JSON_WS))
}

/// The `id` of a batch item that was not valid, when it has a string one (to name it among
/// the rejected).
pub fn item_id(item: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOf {
        #[serde(default)]
        id: Option<String>,
    }
    serde_json::from_str::<IdOf>(item).ok().and_then(|i| i.id)
}

/// Reads a JSON body of at most `limit` bytes into `T`.
pub async fn json_body<T: DeserializeOwned>(req: &mut Request, limit: usize) -> ApiResult<T> {
    if media_type(req) != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "Send the body as application/json.",
        ));
    }
    let bytes = body_bytes(req, limit).await?;
    // serde reads a struct from an array too (`[null, null]`): every body here is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::Malformed("the body must be a JSON object".into()));
    }
    serde_json::from_str(utf8(&bytes)?)
        .map_err(|e| ApiError::Malformed(format!("invalid JSON: {e}")))
}

/// A JSON response with `status`, serialised straight to text.
pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult<Response> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    json_text(status, text)
}

/// A response with `status` whose body is JSON text already written.
pub fn json_text(status: u16, text: String) -> ApiResult<Response> {
    let mut resp = Response::ok(text)?.with_status(status);
    resp.headers_mut().set("content-type", "application/json")?;
    Ok(resp)
}

/// The header a handler leaves the D1 rows it read and wrote in (`read,written`); the entry
/// point logs them on the request's line and takes the header off the response.
pub const D1_ROWS_HEADER: &str = "x-kpi-d1-rows";

/// Notes on `resp` the rows D1 reported as read and written for it (see [`D1_ROWS_HEADER`]).
pub fn set_d1_rows(resp: &mut Response, read: u64, written: u64) -> ApiResult<()> {
    resp.headers_mut()
        .set(D1_ROWS_HEADER, &format!("{read},{written}"))?;
    Ok(())
}

/// Query parameters of the request, in order. Read from the URL the runtime already
/// serialised, without parsing it again (the `url` crate's host parsing and IDNA tables cost
/// CPU on every request and bytes in the wasm).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of query parameter `name`.
pub fn query<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Milliseconds since the Unix epoch, from the runtime's clock.
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// `n` bytes from the platform CSPRNG.
pub fn random_bytes<const N: usize>() -> ApiResult<[u8; N]> {
    let mut b = [0u8; N];
    fill_random(&mut b)?;
    Ok(b)
}

/// Fills `buf` from the platform CSPRNG (getrandom's Web Crypto back end: a few calls into
/// JavaScript every 256 bytes, rather than every call).
pub fn fill_random(buf: &mut [u8]) -> ApiResult<()> {
    getrandom::getrandom(buf).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))
}

/// URL-safe base64 without padding.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes URL-safe base64 without padding.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// Decodes `%XX` escapes of a URL path segment (`+` stays a plus); `None` for a bad escape
/// or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("cust%2042%2Fb+c").as_deref(),
            Some("cust 42/b+c")
        );
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    /// The body splitter gives exactly the items and members a parser into `Value` gives:
    /// strings holding commas, brackets, quotes and escapes, nesting, whitespace, Unicode,
    /// an escaped key and a key written twice (the last wins, as in a map).
    #[test]
    fn split_json_reads_as_a_parser_does() {
        use serde_json::Value;
        let docs = [
            "[]",
            " [ ] ",
            "[1]",
            r#"[{"id":"a,b","x":[1,[2,{"y":"]}"}]]},  "s\"t,\\" ,null,true, -1.5e3 ,"Tết, ]"]"#,
            "\n\t[ {\"a\" : 1 } ,\r\n{ } ]\n",
            r#"{"events": [{"id": "e1"}, {"id": "e2", "n": {"events": 3}}], "x": "events"}"#,
            r#"{"events": 1, "events": [2, 3]}"#,
            r#"{"\u0065vents": ["escaped key"]}"#,
            r#"{"tickets": null}"#,
            r#"{"id": "t1", "tickets_x": []}"#,
            r#""events""#,
        ];
        for doc in docs {
            let text = checked_json(doc).expect(doc);
            let value: Value = serde_json::from_str(doc).expect(doc);
            let parsed = |t: &str| serde_json::from_str::<Value>(t).expect(t);
            let items = json_items(text).map(|v| v.into_iter().map(parsed).collect::<Vec<_>>());
            assert_eq!(items.as_ref(), value.as_array(), "{doc}");
            for name in ["events", "tickets", "id", "x"] {
                let member = json_member(text, name).map(parsed);
                assert_eq!(member.as_ref(), value.get(name), "{doc} {name}");
            }
        }
        for bad in ["[1,]", "{\"a\" 1}", "[1] 2", "\"\\x\"", ""] {
            assert!(checked_json(bad).is_err(), "{bad}");
        }
        assert!(utf8(&[b'[', 0xff, b']']).is_err());
    }
}
