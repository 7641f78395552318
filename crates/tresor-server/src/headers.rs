//! Header names the request path looks up or sets on every request, parsed once
//! (a lookup by `&str` validates and lower-cases the name each time).

use axum::http::HeaderName;

/// The operation: `TrentService.Encrypt`.
pub static X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
/// The signing time in ISO-8601 basic format.
pub static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
/// The request id of a response.
pub static X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
