//! The worker's one error type and its one mapping to HTTP: status, `code` and message.
//! Every handler returns `Result<Response, ApiError>`; nothing else builds error responses.
use kpi_core::FactError;
use serde_json::json;
use worker::Response;

/// Everything a request can fail with, as the API contract names it.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the body or query cannot be parsed. The caller fixes the request.
    Malformed(String),
    /// 401: no key, or a key that matches nothing. The caller sends a valid key.
    Unauthorized(&'static str),
    /// 401: a survey token whose signature does not verify (forged or altered).
    BadToken,
    /// 403: a valid key used where it is not allowed (wrong origin, publishable on a secret
    /// route, wrong tenant).
    Forbidden(&'static str),
    /// 404: no such route or record.
    NotFound(&'static str),
    /// 405: the route exists, the method does not; carries the methods it answers (`Allow`).
    MethodNotAllowed(String),
    /// 409: the record already exists.
    Conflict(String),
    /// 410: the survey link has expired.
    Expired,
    /// 410: the tenant revoked its survey links (`POST /v1/survey-links/revoke`) after this
    /// one was minted; the tenant sends a new link.
    Revoked,
    /// 410: an open survey link has received the answers its tenant allowed
    /// (`max_responses`); a browser that answered it can still change its answer.
    LinkFull,
    /// 413: the body is over the route's limit.
    TooLarge(usize),
    /// 415: the content type is not one the route reads.
    UnsupportedMediaType(&'static str),
    /// 422: a parameter of the request is invalid (an unknown period, `to` before `from`, a
    /// count out of bounds…): code `invalid`.
    Invalid(String),
    /// 422: a fact the domain rejects, with the domain's own code (`score_out_of_range`,
    /// `unknown_stage`… [`FactError::code`]) and its message.
    Rejected(&'static str, String),
    /// 422: an export would hold more rows than the cap; the caller narrows `from`/`to`.
    ExportTooLarge(usize),
    /// 429: too many requests from this client, link or key; retry after that many seconds.
    RateLimited(u32),
    /// 500: storage or runtime failure; never caused by input. The text is for the log only:
    /// the response says nothing about storage (D1's messages name tables and SQL).
    Internal(String),
}

impl ApiError {
    /// Status, code and message of this error.
    pub fn parts(&self) -> (u16, &'static str, String) {
        match self {
            ApiError::Malformed(m) => (400, "malformed", m.clone()),
            ApiError::Unauthorized(m) => (401, "unauthorized", (*m).to_string()),
            ApiError::BadToken => (
                401,
                "invalid_token",
                "This survey link is not valid.".to_string(),
            ),
            ApiError::Forbidden(m) => (403, "forbidden", (*m).to_string()),
            ApiError::NotFound(m) => (404, "not_found", (*m).to_string()),
            ApiError::MethodNotAllowed(_) => (
                405,
                "method_not_allowed",
                "This route does not accept that method.".to_string(),
            ),
            ApiError::Conflict(m) => (409, "conflict", m.clone()),
            ApiError::Expired => (
                410,
                "link_expired",
                "This survey link has expired.".to_string(),
            ),
            ApiError::Revoked => (
                410,
                "link_revoked",
                "This survey link has been withdrawn.".to_string(),
            ),
            ApiError::LinkFull => (
                410,
                "link_full",
                "This survey link has received all the answers it accepts.".to_string(),
            ),
            ApiError::TooLarge(limit) => (
                413,
                "body_too_large",
                format!("The body is larger than {limit} bytes."),
            ),
            ApiError::UnsupportedMediaType(m) => (415, "unsupported_media_type", (*m).to_string()),
            ApiError::Invalid(m) => (422, "invalid", m.clone()),
            ApiError::Rejected(code, m) => (422, code, m.clone()),
            ApiError::ExportTooLarge(cap) => (
                422,
                "export_too_large",
                format!("The export has more than {cap} rows; narrow `from`/`to`."),
            ),
            ApiError::RateLimited(s) => (
                429,
                "rate_limited",
                format!("Too many requests; retry in {s} seconds."),
            ),
            ApiError::Internal(_) => (
                500,
                "internal",
                "Something went wrong on our side; it has been logged.".to_string(),
            ),
        }
    }

    /// What the log says about this error: the message, or for a 500 the detail the response
    /// leaves out.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(m) => m.clone(),
            e => e.parts().2,
        }
    }

    /// The JSON error response: `{"error": {"code", "message"}}` with the right status.
    pub fn to_response(&self) -> worker::Result<Response> {
        let (status, code, message) = self.parts();
        if status >= 500 {
            crate::log::event("error", &[("code", code), ("message", &self.detail())]);
        }
        let body = json!({"error": {"code": code, "message": message}});
        let mut resp = Response::from_json(&body)?.with_status(status);
        if let ApiError::RateLimited(s) = self {
            resp.headers_mut().set("retry-after", &s.to_string())?;
        }
        if let ApiError::MethodNotAllowed(allow) = self {
            resp.headers_mut().set("allow", allow)?;
        }
        Ok(resp)
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<worker::KvError> for ApiError {
    fn from(e: worker::KvError) -> Self {
        ApiError::Internal(format!("KV: {e}"))
    }
}

impl From<FactError> for ApiError {
    fn from(e: FactError) -> Self {
        ApiError::Rejected(e.code(), e.to_string())
    }
}

impl ApiError {
    /// The same error, its message prefixed with where in the request it was found
    /// (`responses[3]: …`).
    pub fn at(self, place: &str) -> ApiError {
        match self {
            ApiError::Invalid(m) => ApiError::Invalid(format!("{place}: {m}")),
            ApiError::Rejected(c, m) => ApiError::Rejected(c, format!("{place}: {m}")),
            e => e,
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_says_nothing_of_its_cause_and_the_log_keeps_it() {
        let e = ApiError::Internal("D1_ERROR: no such table: responses: SQLITE_ERROR".into());
        let (status, code, message) = e.parts();
        assert_eq!((status, code), (500, "internal"));
        assert!(!message.contains("D1") && !message.contains("responses"));
        assert!(e.detail().contains("no such table"));
    }
}
