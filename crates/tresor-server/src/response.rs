//! Building AWS JSON 1.1 responses: success bodies and `{"__type", "message"}` errors.

use crate::headers::X_AMZN_REQUESTID;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tresor_core::{error_name, KmsError};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The HTTP status AWS KMS uses for an error: 400 for every client error, 500 for
/// internal faults, 503 while the audit log or the database cannot be written.
pub fn status_of(e: &KmsError) -> StatusCode {
    match e {
        KmsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        KmsError::AuditUnavailable(_)
        | KmsError::Sealed(_)
        | KmsError::StoreUnavailable(_)
        | KmsError::DependencyTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn with_headers(status: StatusCode, body: Vec<u8>, request_id: &str) -> Response {
    typed(status, body, CONTENT_TYPE, request_id)
}

/// `body` as `content_type`, with the `x-amzn-RequestId` header.
pub(crate) fn typed(
    status: StatusCode,
    body: impl IntoResponse,
    content_type: &'static str,
    request_id: &str,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(X_AMZN_REQUESTID.clone(), v);
    }
    resp
}

/// A 200 with a JSON body.
pub fn ok(body: Vec<u8>, request_id: &str) -> Response {
    with_headers(StatusCode::OK, body, request_id)
}

/// An AWS-style error response.
pub fn error(e: &KmsError, request_id: &str) -> Response {
    error_with_status(e, status_of(e), request_id)
}

/// An AWS-style error response with an explicit status.
pub fn error_with_status(e: &KmsError, status: StatusCode, request_id: &str) -> Response {
    let name = error_name(e);
    let message = e.to_string();
    // Where AWS sends no message (InvalidCiphertext, KMSInvalidSignature, KMSInvalidMac)
    // the member is absent, not an empty string.
    let body = if message.is_empty() {
        serde_json::json!({ "__type": name })
    } else {
        serde_json::json!({ "__type": name, "message": message })
    };
    let mut resp = with_headers(status, body.to_string().into_bytes(), request_id);
    resp.extensions_mut().insert(crate::metrics::Outcome(name));
    resp
}
