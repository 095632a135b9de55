//! The one place errors become HTTP: `{"error": {"code", "message"}}` with a status.
//! Engine errors map kind by kind; internal details are logged, not sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rolecall_engine::EngineError;
use rolecall_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable message, naming what is wrong and where.
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`), for 503s and 429s.
    pub retry_after: Option<u32>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `not_found`, `forbidden`, `invalid`.
    pub code: String,
    /// What is wrong and where.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 503: try again after `seconds`.
    pub fn unavailable(code: &'static str, message: impl Into<String>, seconds: u32) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// 429: too many requests; try again after `seconds`.
    pub fn too_many(message: impl Into<String>, seconds: u32) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
        }
    }

    /// 400: malformed or invalid input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401: no or bad token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: authenticated, not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500: logged in full, sent as a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        use StatusCode as S;
        let (status, code, message) = match e {
            EngineError::BadRequest(m) => (S::BAD_REQUEST, "bad_request", m),
            EngineError::Invalid(m) => (S::UNPROCESSABLE_ENTITY, "invalid", m),
            EngineError::NotFound(m) => (S::NOT_FOUND, "not_found", m),
            EngineError::Unauthenticated(m) => (S::UNAUTHORIZED, "unauthorized", m),
            EngineError::Forbidden(m) => (S::FORBIDDEN, "forbidden", m),
            EngineError::Conflict(m) => (S::CONFLICT, "conflict", m),
            EngineError::Exists(m) => (S::CONFLICT, "exists", m),
            EngineError::ReadOnly(m) => (S::CONFLICT, "read_only", m),
            EngineError::Invariant(m) => (S::UNPROCESSABLE_ENTITY, "invariant", m),
            EngineError::SeparationOfDuty(m) => (S::UNPROCESSABLE_ENTITY, "separation_of_duty", m),
            EngineError::Throttled(m) => return ApiError::too_many(m, 1),
            EngineError::RevisionUnavailable(m) => {
                return ApiError::unavailable("revision_unavailable", m, 1);
            }
            EngineError::RateLimited(seconds, m) => {
                return Self {
                    retry_after: Some(seconds),
                    ..Self::new(S::TOO_MANY_REQUESTS, "rate_limited", m)
                };
            }
            EngineError::Store(s) => return s.into(),
            // Already logged by the engine.
            EngineError::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the server log".into(),
            ),
        };
        ApiError::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database is unavailable");
            return ApiError::unavailable(
                "store_unavailable",
                "the database is unavailable; nothing was written. Retry later",
                2,
            );
        }
        match e {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Exists(m) => ApiError::new(
                StatusCode::CONFLICT,
                "exists",
                format!("already exists: {m}"),
            ),
            StoreError::Conflict { expected, current } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("revision conflict: expected {expected}, the tenant is at {current}"),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s),
            );
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
