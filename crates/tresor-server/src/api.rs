//! The handlers: read the body (bounded), authenticate, dispatch, respond.

use crate::metrics::Outcome;
use crate::rejection::Suppressed;
use crate::response;
use crate::sigv4::{self, SignedRequest};
use crate::transport::Transport;
use crate::{AppState, MAX_BODY_BYTES};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;
use tresor_core::{error_name, operation, Caller, KmsError, KmsResult, OperationEntry};

/// `POST /`: one KMS API call, counted and timed for `/metrics`.
pub async fn kms_api(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let started = Instant::now();
    if crate::sts::is_sts(&req) {
        let resp = crate::sts::call(state.clone(), peer, req).await;
        let outcome = resp.extensions().get::<Outcome>().map_or("ok", |o| o.0);
        state
            .metrics
            .observe("GetCallerIdentity", outcome, started.elapsed());
        return resp;
    }
    // Looked up once: the label for the metrics and the operation to run.
    let op = named_operation(req.headers());
    let resp = call(state.clone(), peer, req, op).await;
    let outcome = resp.extensions().get::<Outcome>().map_or("ok", |o| o.0);
    let label = op.map_or("Unknown", |o| o.name);
    state.metrics.observe(label, outcome, started.elapsed());
    resp
}

/// The API or admin operation the `X-Amz-Target` header names, if any.
fn named_operation(headers: &axum::http::HeaderMap) -> Option<OperationEntry> {
    let target = headers
        .get(&crate::headers::X_AMZ_TARGET)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match target.split_once('.') {
        Some(("TrentService", name)) => operation(name),
        Some(("TresorAdmin", name)) => tresor_core::admin::operation(name),
        _ => None,
    }
}

async fn call(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: Request<Body>,
    op: Option<OperationEntry>,
) -> Response {
    let secure = req
        .extensions()
        .get::<Transport>()
        .is_some_and(|t| t.secure);
    let mut id_buf = uuid::Uuid::encode_buffer();
    let request_id: &str = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut id_buf);
    if state.kms.is_sealed() {
        // Nothing can be authenticated, decrypted or written until unsealed.
        let e = KmsError::Sealed(tresor_core::seal::SEALED_MESSAGE.into());
        return response::error(&e, request_id);
    }
    let (parts, body) = req.into_parts();
    // A source that keeps failing to authenticate is refused before its body is read
    // or its access key looked up, unless it signs with a key already known to be good.
    if !state.rejections.admit(peer.ip(), Instant::now()) && !signs_with_cached_key(&state, &parts)
    {
        let e = KmsError::Throttling("Rate exceeded".into());
        return refuse(
            &state,
            &parts,
            peer,
            request_id,
            &e,
            response::status_of(&e),
        );
    }
    let body = match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = KmsError::Validation(format!(
                "The request body exceeds the maximum size of {MAX_BODY_BYTES} bytes."
            ));
            return refuse(
                &state,
                &parts,
                peer,
                request_id,
                &e,
                StatusCode::PAYLOAD_TOO_LARGE,
            );
        }
    };
    let caller = match authenticate(&state, &parts, &body, peer, request_id, secure) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(request_id, "authentication failed: {e}");
            return refuse(
                &state,
                &parts,
                peer,
                request_id,
                &e,
                response::status_of(&e),
            );
        }
    };
    let target = parts
        .headers
        .get(&crate::headers::X_AMZ_TARGET)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(name) = target.strip_prefix("TresorOperator.") {
        return crate::operator::signed(state.clone(), name, body, caller, request_id).await;
    }
    let Some(op) = op else {
        let e = KmsError::UnknownOperation(format!("Unknown operation {target}"));
        state.kms.audit_rejected(&event_name(&parts), &caller, &e);
        return response::error(&e, request_id);
    };
    let result = if op.uses_storage {
        let kms = state.kms.clone();
        match tokio::task::spawn_blocking(move || kms.handle(op, &body, &caller)).await {
            Ok(r) => r,
            Err(e) => Err(KmsError::internal(format!("operation task failed: {e}"))),
        }
    } else {
        state.kms.handle(op, &body, &caller)
    };
    match result {
        Ok(out) => response::ok(out, request_id),
        Err(e) => response::error(&e, request_id),
    }
}

fn authenticate(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    request_id: &str,
    secure_transport: bool,
) -> KmsResult<Caller> {
    authenticate_for(
        "kms",
        state,
        parts,
        body,
        peer,
        request_id,
        secure_transport,
    )
}

/// [`authenticate`] for a request signed for `service`.
pub(crate) fn authenticate_for(
    service: &str,
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &[u8],
    peer: SocketAddr,
    request_id: &str,
    secure_transport: bool,
) -> KmsResult<Caller> {
    let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(KmsError::MissingAuthenticationToken(
            "Missing Authentication Token".into(),
        ));
    };
    let header = header
        .to_str()
        .map_err(|_| KmsError::IncompleteSignature("Authorization header is not ASCII".into()))?;
    let auth = sigv4::parse_authorization(header)?;
    // Everything that needs no credential is checked before the store is read.
    let checked = sigv4::precheck_for(service, &parts.headers, &auth, OffsetDateTime::now_utc())?;
    let invalid_token = || {
        KmsError::UnrecognizedClient(
            "The security token included in the request is invalid.".into(),
        )
    };
    if !state.accept_example_key && auth.access_key_id == crate::EXAMPLE_ACCESS_KEY_ID {
        return Err(invalid_token());
    }
    let Some(cred) = state.kms.credential(auth.access_key_id)? else {
        return Err(invalid_token());
    };
    // An XKS proxy credential signs XKS proxy requests and nothing else; no other
    // access key signs those. A leaked proxy credential opens no KMS or admin call.
    if cred.xks_proxy != (service == crate::xks::SERVICE) {
        return Err(invalid_token());
    }
    // AWS's documented example secret is public: outside dev mode it opens nothing,
    // whatever access key id it was stored under.
    if !state.accept_example_key
        && cred.secret.expose() == crate::EXAMPLE_SECRET_ACCESS_KEY.as_bytes()
    {
        return Err(invalid_token());
    }
    state.signing_keys.sync(state.kms.credential_epoch());
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body,
    };
    sigv4::verify_prechecked(&checked, &signed, &auth, &cred, &state.signing_keys)?;
    Ok(Caller {
        account: cred.account.clone(),
        principal_arn: cred.principal_arn.clone(),
        access_key_id: cred.access_key_id.clone(),
        operator: cred.operator,
        region: auth.region.to_string(),
        source_ip: source_ip(peer.ip()),
        user_agent: user_agent(&parts.headers),
        request_id: request_id.to_string(),
        secure_transport,
    })
}

/// The peer's address as the audit record and `aws:SourceIp` see it. IPv4 is written
/// digit by digit: `Display` costs a pass through the formatting machinery per request.
fn source_ip(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut s = String::with_capacity(15);
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if o >= 100 {
            s.push(char::from(b'0' + o / 100));
        }
        if o >= 10 {
            s.push(char::from(b'0' + o / 10 % 10));
        }
        s.push(char::from(b'0' + o % 10));
    }
    s
}

/// The User-Agent header as the audit record keeps it: its first 1,024 characters.
fn user_agent(headers: &axum::http::HeaderMap) -> String {
    const MAX_CHARS: usize = 1024;
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // No more bytes than the bound means no more characters (a header is ASCII).
    if ua.len() <= MAX_CHARS {
        ua.to_string()
    } else {
        ua.chars().take(MAX_CHARS).collect()
    }
}

/// Answers a request refused before authentication completed, and audits it within
/// the per-source bound (see [`crate::rejection`]).
pub(crate) fn refuse(
    state: &AppState,
    parts: &axum::http::request::Parts,
    peer: SocketAddr,
    request_id: &str,
    e: &KmsError,
    status: StatusCode,
) -> Response {
    record_refusal(state, parts, peer, request_id, e, event_name(parts));
    response::error_with_status(e, status, request_id)
}

/// The accounting of a refusal before authentication completed: the per-source
/// failure limit and its bounded audit records.
pub(crate) fn record_refusal(
    state: &AppState,
    parts: &axum::http::request::Parts,
    peer: SocketAddr,
    request_id: &str,
    e: &KmsError,
    event: String,
) {
    let code = error_name(e);
    let verdict = state
        .rejections
        .refused(peer.ip(), Instant::now(), code, || Suppressed {
            caller: unauthenticated_caller(parts, peer, request_id),
            event_name: event.clone(),
            error_code: code,
            error_message: e.to_string(),
            count: 0,
            by_error: Default::default(),
            first_ms: state.kms.now_ms(),
        });
    if let Some(s) = verdict.flushed {
        audit_suppressed(&state.kms, &s);
    }
    if verdict.record {
        let caller = unauthenticated_caller(parts, peer, request_id);
        state.kms.audit_rejected(&event, &caller, e);
    }
}

/// Writes the aggregated record of suppressed refusals.
pub(crate) fn audit_suppressed(kms: &tresor_core::Kms, s: &Suppressed) {
    kms.audit_rejected_summary(
        &s.event_name,
        &s.caller,
        s.error_code,
        s.error_message.clone(),
        s.summary(kms.now_ms()),
    );
}

/// The request is signed with an access key whose credential is cached (a client
/// known to be good), so checking it costs no store read.
fn signs_with_cached_key(state: &AppState, parts: &axum::http::request::Parts) -> bool {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| sigv4::parse_authorization(h).ok())
        .is_some_and(|a| state.kms.cached_credential(a.access_key_id).is_some())
}

/// The operation a request names (`X-Amz-Target` without `TrentService.`), for the
/// audit record of a request rejected before the pipeline.
pub(crate) fn event_name(parts: &axum::http::request::Parts) -> String {
    let target = parts
        .headers
        .get(&crate::headers::X_AMZ_TARGET)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = target.strip_prefix("TrentService.").unwrap_or(target);
    if name.is_empty() {
        "Unknown".into()
    } else {
        name.chars().take(128).collect()
    }
}

/// What is known of a caller that did not authenticate: no account or principal; the
/// access key and region when the Authorization header parses.
fn unauthenticated_caller(
    parts: &axum::http::request::Parts,
    peer: SocketAddr,
    request_id: &str,
) -> Caller {
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| sigv4::parse_authorization(h).ok());
    let (access_key_id, region) = auth.map_or_else(Default::default, |a| {
        (
            a.access_key_id.chars().take(128).collect(),
            a.region.to_string(),
        )
    });
    Caller {
        account: String::new(),
        principal_arn: String::new(),
        access_key_id,
        region,
        operator: false,
        source_ip: source_ip(peer.ip()),
        user_agent: user_agent(&parts.headers),
        request_id: request_id.to_string(),
        secure_transport: false,
    }
}

/// `GET /health` (unauthenticated): `{"sealed", "storage", "audit", "version"}`, 200
/// while the service serves, 503 when it is sealed or its storage or audit log fails.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let kms = state.kms.clone();
    let probe = tokio::task::spawn_blocking(move || {
        let storage = kms.key_count().map(|_| ());
        (kms.is_sealed(), storage, kms.audit_health())
    })
    .await;
    let (sealed, storage, audit) = match probe {
        Ok((sealed, storage, audit)) => (
            sealed,
            storage.map_err(|e| e.to_string()),
            audit.map_err(|e| e.to_string()),
        ),
        Err(e) => (false, Err(e.to_string()), Err(e.to_string())),
    };
    let word = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            tracing::warn!("health check: {e}");
            "failing".to_string()
        }
    };
    let serving = !sealed && storage.is_ok() && audit.is_ok();
    let body = serde_json::json!({
        "sealed": sealed,
        "storage": word(&storage),
        "audit": word(&audit),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// `GET /metrics` (unauthenticated; see the operator guide): Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let s = state.clone();
    match tokio::task::spawn_blocking(move || s.metrics.render()).await {
        Ok(text) => {
            let mut resp = (StatusCode::OK, text).into_response();
            resp.headers_mut().insert(
                "content-type",
                axum::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            resp
        }
        Err(e) => response::error(&KmsError::internal(e), &uuid::Uuid::new_v4().to_string()),
    }
}

/// Anything else.
pub async fn not_found() -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let e = KmsError::UnknownOperation("Only POST / is served; see the AWS KMS API.".into());
    response::error_with_status(&e, StatusCode::NOT_FOUND, &request_id)
}

/// `POST /_tresor/test/advance-clock {"Seconds": N}`: moves the service clock forward and
/// runs due jobs. Only routed when the server runs with `--test-clock`.
pub async fn advance_clock(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let Some(clock) = &state.test_clock else {
        return not_found().await;
    };
    let seconds = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("Seconds").and_then(serde_json::Value::as_i64));
    let Some(seconds) = seconds.filter(|s| *s >= 0) else {
        return response::error(
            &KmsError::Validation("Body must be {\"Seconds\": N} with N >= 0".into()),
            &request_id,
        );
    };
    clock.advance(seconds.saturating_mul(1000));
    let kms = state.kms.clone();
    match tokio::task::spawn_blocking(move || kms.run_due_jobs()).await {
        Ok(Ok(_)) => {
            let now = state.kms.now_ms() / 1000;
            response::ok(
                serde_json::json!({ "Now": now }).to_string().into_bytes(),
                &request_id,
            )
        }
        Ok(Err(e)) => response::error(&e, &request_id),
        Err(e) => response::error(&KmsError::internal(e), &request_id),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn source_ip_is_written_as_display_writes_it() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "10.0.100.9",
            "1.20.3.200",
            "192.168.10.99",
            "::1",
            "::ffff:127.0.0.1",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(source_ip(ip), ip.to_string());
        }
        // Every octet value, in every position.
        for o in 0..=255u8 {
            let ip = IpAddr::from([o, 255 - o, o / 3, o.wrapping_mul(7)]);
            assert_eq!(source_ip(ip), ip.to_string());
        }
    }
}
