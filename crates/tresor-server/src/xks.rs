//! The XKS proxy listener (`tresor serve --xks-listen`): the XKS proxy API v1 at
//! `POST {prefix}/kms/xks/v1/health` and `…/keys/{externalKeyId}/{metadata,encrypt,
//! decrypt}`, SigV4-signed for service `kms-xks-proxy` with an XKS credential.
//!
//! Order of checks: the path names a call, else 404 `InvalidUriPathException`; a
//! method other than POST on a call's path is 405; then, as on the KMS listener, the
//! per-source limit on failed authentications, the bounded body (larger →
//! `ValidationException`) and the signature (401 `AuthenticationFailedException`).
//! The call then runs through the core's pipeline ([`tresor_core::xks`]) and its errors
//! are answered as the specification names them: `{"errorName", "errorMessage"}` with
//! the specification's HTTP status.

use crate::api::{authenticate_for, record_refusal};
use crate::metrics::Outcome;
use crate::transport::Transport;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tresor_core::KmsError;

/// The SigV4 service name of the XKS proxy API.
pub const SERVICE: &str = "kms-xks-proxy";

/// The largest request body accepted: the specification's largest request (4300 bytes
/// of plaintext, 8192 of AAD, Base64, and ARNs of 2048 characters) fits well within.
pub const MAX_XKS_BODY_BYTES: usize = 64 * 1024;

/// The API's version path, after the optional prefix.
const API_PATH: &str = "/kms/xks/v1";

/// What the XKS listener shares between requests.
struct XksState {
    app: Arc<AppState>,
    prefix: String,
}

/// Checks an `--xks-uri-prefix`: empty, or `/` followed by letters, digits, `/`, `-`
/// and `_`, not ending in `/`, and short enough that `{prefix}/kms/xks/v1` keeps to the
/// 128 characters AWS KMS allows for `XksProxyUriPath`.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Ok(());
    }
    let chars_ok = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c));
    if !prefix.starts_with('/') || prefix.ends_with('/') || !chars_ok || prefix.contains("//") {
        return Err(format!(
            "--xks-uri-prefix {prefix:?}: must start with '/', not end with '/', and hold only letters, digits, '/', '-' and '_'"
        ));
    }
    if prefix.len() + API_PATH.len() > 128 {
        return Err(format!(
            "--xks-uri-prefix: {prefix}{API_PATH} is longer than the 128 characters of XksProxyUriPath"
        ));
    }
    Ok(())
}

/// The router of the XKS listener: every path goes to one handler.
pub fn router(app: Arc<AppState>, prefix: String) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Arc::new(XksState { app, prefix }))
}

/// A call a path names: the operation, and the `externalKeyId` of a key call.
struct Route {
    op: &'static str,
    external_key_id: Option<String>,
}

fn route(prefix: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix(prefix)?.strip_prefix(API_PATH)?;
    if rest == "/health" {
        return Some(Route {
            op: "XksGetHealthStatus",
            external_key_id: None,
        });
    }
    let (id, action) = rest.strip_prefix("/keys/")?.split_once('/')?;
    let op = match action {
        "metadata" => "XksGetKeyMetadata",
        "encrypt" => "XksEncrypt",
        "decrypt" => "XksDecrypt",
        _ => return None,
    };
    (!id.is_empty()).then(|| Route {
        op,
        external_key_id: Some(id.to_string()),
    })
}

async fn handle(
    State(xks): State<Arc<XksState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let started = Instant::now();
    let found = route(&xks.prefix, req.uri().path());
    let label = found.as_ref().map_or("XksUnknown", |r| r.op);
    let resp = call(&xks, peer, req, found).await;
    let outcome = resp.extensions().get::<Outcome>().map_or("ok", |o| o.0);
    xks.app.metrics.observe(label, outcome, started.elapsed());
    resp
}

async fn call(
    xks: &XksState,
    peer: SocketAddr,
    req: Request<Body>,
    found: Option<Route>,
) -> Response {
    let state = &xks.app;
    let request_id = uuid::Uuid::new_v4().to_string();
    if req.method() != Method::POST {
        return match found {
            Some(_) => method_not_allowed(),
            None => error(&invalid_path(), &request_id),
        };
    }
    let secure = req
        .extensions()
        .get::<Transport>()
        .is_some_and(|t| t.secure);
    if state.kms.is_sealed() {
        let e = KmsError::Sealed(tresor_core::seal::SEALED_MESSAGE.into());
        return error(&e, &request_id);
    }
    let event = found.as_ref().map_or("XksUnknown", |r| r.op).to_string();
    let (parts, body) = req.into_parts();
    let refused = |e: KmsError| {
        record_refusal(state, &parts, peer, &request_id, &e, event.clone());
        error(&e, &request_id)
    };
    if !state.rejections.admit(peer.ip(), Instant::now()) {
        return refused(KmsError::Throttling("Rate exceeded".into()));
    }
    let body = match http_body_util::Limited::new(body, MAX_XKS_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return refused(KmsError::Validation(format!(
                "The request body exceeds the maximum size of {MAX_XKS_BODY_BYTES} bytes."
            )))
        }
    };
    let caller = match authenticate_for(SERVICE, state, &parts, &body, peer, &request_id, secure) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(request_id, "XKS authentication failed: {e}");
            return refused(e);
        }
    };
    let Some(route) = found else {
        let e = invalid_path();
        state.kms.audit_rejected(&event, &caller, &e);
        return error(&e, &request_id);
    };
    let Some(op) = tresor_core::xks::operation(route.op) else {
        return error(&KmsError::internal("unrouted XKS call"), &request_id);
    };
    // The typed request is the body with the path's externalKeyId as a member (the
    // path wins over any such member of the body).
    let composed = match compose(&body, route.external_key_id) {
        Ok(c) => c,
        Err(e) => {
            state.kms.audit_rejected(&event, &caller, &e);
            return error(&e, &request_id);
        }
    };
    let result = if op.uses_storage {
        let kms = state.kms.clone();
        match tokio::task::spawn_blocking(move || kms.handle(op, &composed, &caller)).await {
            Ok(r) => r,
            Err(e) => Err(KmsError::internal(format!("XKS task failed: {e}"))),
        }
    } else {
        state.kms.handle(op, &composed, &caller)
    };
    match result {
        Ok(out) => json(StatusCode::OK, out, &request_id),
        Err(e) => error(&e, &request_id),
    }
}

/// The body as a JSON object with `externalKeyId` set.
fn compose(body: &[u8], external_key_id: Option<String>) -> Result<Vec<u8>, KmsError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| KmsError::Validation(format!("The request body is not valid JSON: {e}")))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(KmsError::Validation(
            "The request body must be a JSON object.".into(),
        ));
    };
    map.remove("externalKeyId");
    if let Some(id) = external_key_id {
        map.insert("externalKeyId".into(), serde_json::Value::String(id));
    }
    serde_json::to_vec(&map).map_err(KmsError::internal)
}

fn invalid_path() -> KmsError {
    KmsError::UnknownOperation(format!(
        "The request was rejected because the specified URI path is not valid; this proxy serves POST {{prefix}}{API_PATH}/health and {API_PATH}/keys/{{externalKeyId}}/{{metadata,encrypt,decrypt}}."
    ))
}

/// The specification's error name and HTTP status for an error.
pub fn error_of(e: &KmsError) -> (StatusCode, &'static str) {
    use KmsError as E;
    match e {
        E::Validation(_) | E::Serialization(_) => (StatusCode::BAD_REQUEST, "ValidationException"),
        E::Disabled(_) | E::InvalidState(_) | E::Sealed(_) => {
            (StatusCode::BAD_REQUEST, "InvalidStateException")
        }
        E::InvalidCiphertext(_) => (StatusCode::BAD_REQUEST, "InvalidCiphertextException"),
        E::InvalidKeyUsage(_) | E::IncorrectKey(_) => {
            (StatusCode::BAD_REQUEST, "InvalidKeyUsageException")
        }
        E::MissingAuthenticationToken(_)
        | E::UnrecognizedClient(_)
        | E::InvalidSignature(_)
        | E::IncompleteSignature(_) => (StatusCode::UNAUTHORIZED, "AuthenticationFailedException"),
        E::AccessDenied(_) | E::NotAuthorized(_) => {
            (StatusCode::FORBIDDEN, "AccessDeniedException")
        }
        E::NotFound(_) => (StatusCode::NOT_FOUND, "KeyNotFoundException"),
        E::UnknownOperation(_) => (StatusCode::NOT_FOUND, "InvalidUriPathException"),
        E::Throttling(_) | E::LimitExceeded(_) => {
            (StatusCode::TOO_MANY_REQUESTS, "ThrottlingException")
        }
        E::UnsupportedOperation(_) => {
            (StatusCode::NOT_IMPLEMENTED, "UnsupportedOperationException")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalException"),
    }
}

/// `{"errorName", "errorMessage"}`; the message in printable ASCII and under 512
/// characters, as the specification requires, and never an internal detail.
fn error(e: &KmsError, request_id: &str) -> Response {
    let (status, name) = error_of(e);
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        "The proxy failed internally; see its log for this request id.".to_string()
    } else {
        e.to_string()
    };
    let message: String = message
        .chars()
        .filter(|c| (' '..='~').contains(c))
        .take(511)
        .collect();
    let body = if message.is_empty() {
        serde_json::json!({ "errorName": name })
    } else {
        serde_json::json!({ "errorName": name, "errorMessage": message })
    };
    let mut resp = json(status, body.to_string().into_bytes(), request_id);
    resp.extensions_mut().insert(Outcome(name));
    resp
}

fn method_not_allowed() -> Response {
    let mut resp = StatusCode::METHOD_NOT_ALLOWED.into_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    resp.extensions_mut().insert(Outcome("MethodNotAllowed"));
    resp
}

fn json(status: StatusCode, body: Vec<u8>, request_id: &str) -> Response {
    crate::response::typed(status, body, "application/json", request_id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_calls_under_the_prefix_only() {
        let r = route("/ks/a", "/ks/a/kms/xks/v1/keys/k-1/encrypt").unwrap();
        assert_eq!(
            (r.op, r.external_key_id.as_deref()),
            ("XksEncrypt", Some("k-1"))
        );
        assert_eq!(
            route("", "/kms/xks/v1/health").unwrap().op,
            "XksGetHealthStatus"
        );
        assert!(route("/ks/a", "/kms/xks/v1/health").is_none());
        assert!(route("", "/kms/xks/v1/keys//encrypt").is_none());
        assert!(route("", "/kms/xks/v1/keys/a/b/encrypt").is_none());
        assert!(route("", "/kms/xks/v1/keys/a/sign").is_none());
        assert!(route("", "/kms/xks/v2/health").is_none());
        assert!(route("", "/kms/xks/v1/health/").is_none());
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("/keystores/a-1_b").is_ok());
        for bad in ["ks", "/ks/", "/k s", "/k//s", "/k%2e"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
        assert!(check_prefix(&format!("/{}", "a".repeat(120))).is_err());
    }

    #[test]
    fn the_path_decides_the_key_not_the_body() {
        let out = compose(
            br#"{"externalKeyId":"other","plaintext":"AA=="}"#,
            Some("k".into()),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["externalKeyId"], "k");
        let out = compose(br#"{"externalKeyId":"other"}"#, None).unwrap();
        assert_eq!(out, b"{}");
        assert!(compose(b"[1]", None).is_err());
        assert!(compose(b"{", None).is_err());
    }
}
