//! The one error type of the HTTP API. Every failure becomes an RFC 9457 problem document that
//! says what is wrong and how to fix it; internal details are logged, never sent.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::limits::BODY_LIMIT;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A rate limit: 429 with `Retry-After`.
    #[error("{detail}; retry in {} s", retry_after_secs(*.retry_after))]
    RateLimited { detail: String, retry_after: Duration },
    #[error("{0}")]
    Unavailable(String),
    #[error("org creation failed and was rolled back: {0}; fix the cause and retry with a new Idempotency-Key")]
    OrgFailed(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What is wrong and how to fix it.
    pub detail: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::OrgFailed(_) => StatusCode::BAD_GATEWAY,
            Self::Database(e) if crate::db::is_transient(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Database(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                "the database is unavailable or busy right now; retry the request after the Retry-After seconds"
                    .to_owned()
            }
            Self::Database(_) | Self::Internal(_) => {
                "an internal error occurred; it has been logged with this request's id".to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            status: status.as_u16(),
            detail,
        }
    }
}

/// Whole seconds, rounded up: `Retry-After` has no fractions, and 0 would invite a retry now.
fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.is_zero()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, source = ?std::error::Error::source(&self), "request failed");
        }
        let mut response = (status, Json(self.problem())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // Every 503 is transient (a dependency unreachable or busy): say when to come back.
        let retry_after = match self {
            Self::RateLimited { retry_after, .. } => Some(retry_after),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(Duration::from_secs(1)),
            _ => None,
        };
        if let Some(wait) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(JSON_CONTENT_TYPE_HINT.to_owned()),
            JsonRejection::JsonDataError(e) => Self::Unprocessable(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => Self::BadRequest(e.body_text()),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(format!("{}; ids in the path are UUIDs", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

/// `axum::Json` whose rejections are problem documents, and which refuses a control character
/// (other than tab, line feed and carriage return) in any string of the body, keys included:
/// none belongs in this API's text, and PostgreSQL cannot store U+0000 at all.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::UnsupportedMediaType(JSON_CONTENT_TYPE_HINT.to_owned()));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    payload_too_large()
                } else {
                    ApiError::BadRequest(rejection.body_text())
                }
            })?;
        // Parsed from the bytes as sent, so errors name the line and column the client wrote.
        let Json(typed) = Json::<T>::from_bytes(&bytes)?;
        if !may_hold_control(&bytes) {
            return Ok(Self(typed));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if let Some(pointer) = control_character(&value, &mut String::new()) {
            return Err(ApiError::Unprocessable(format!(
                "{} contains a control character; send text without them (tab, line feed and carriage \
                 return are allowed)",
                if pointer.is_empty() {
                    "the body".to_owned()
                } else {
                    format!("`{pointer}`")
                }
            )));
        }
        Ok(Self(typed))
    }
}

const JSON_CONTENT_TYPE_HINT: &str = "send the body as JSON with `Content-Type: application/json`";

/// `application/json` or `application/<anything>+json`, parameters ignored, as `axum::Json` takes.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn payload_too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the body is larger than {BODY_LIMIT} bytes; send a smaller document"
    ))
}

/// Whether valid JSON text may hold a control character in a string, so only such bodies are
/// parsed a second time: C0 controls must be escaped (`\`), DEL and the C1 controls
/// (U+0080-U+009F, `C2 80`-`C2 9F` in UTF-8) may stand raw.
fn may_hold_control(bytes: &[u8]) -> bool {
    bytes.contains(&b'\\')
        || bytes.contains(&0x7F)
        || bytes.windows(2).any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
}

/// The JSON pointer of the first string (or key) holding a refused control character.
fn control_character(value: &serde_json::Value, pointer: &mut String) -> Option<String> {
    let refused = |text: &str| text.chars().any(crate::domain::refused_control);
    match value {
        serde_json::Value::String(text) => refused(text).then(|| pointer.clone()),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let found = control_character(item, pointer);
            pointer.truncate(len);
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let found = if refused(key) {
                Some(pointer.clone())
            } else {
                control_character(item, pointer)
            };
            pointer.truncate(len);
            found
        }),
        _ => None,
    }
}

/// Refuses a control character in a text path segment, as [`JsonBody`] does in bodies.
pub fn path_text(name: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(format!(
            "the `{name}` path segment contains a control character"
        )));
    }
    Ok(())
}

/// `axum::extract::Path` whose rejections are problem documents.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParams<T>(pub T);

/// `axum::extract::Query` whose rejections are problem documents.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::{control_character, may_hold_control};

    #[test]
    fn only_bodies_that_may_hold_a_control_character_are_walked() {
        // serde_json writes C0 controls escaped and C1 controls and DEL raw: both are caught.
        for text in ["a\u{0}b", "bell\u{7}", "next\u{85}line", "del\u{7F}"] {
            let body = serde_json::to_vec(&serde_json::json!({ "name": text })).unwrap_or_default();
            assert!(may_hold_control(&body), "{text:?}");
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            assert_eq!(control_character(&value, &mut String::new()).as_deref(), Some("/name"));
        }
        let plain = serde_json::to_vec(&serde_json::json!({"name": "Acme é ü 漢字 🙂"})).unwrap_or_default();
        assert!(!may_hold_control(&plain));
        // Lines are text.
        let lines = serde_json::json!({"reason": "one\ttwo\r\nthree"});
        assert_eq!(control_character(&lines, &mut String::new()), None);
    }
}
