//! The seal endpoints.
//!
//! - `GET /tresor/operator/seal-status` and `POST /tresor/operator/unseal`
//!   (`{"Share": "..."}` or `{"Reset": true}`) are **unauthenticated**: while sealed no
//!   access-key secret can be decrypted, so SigV4 cannot be checked; the share is the
//!   credential (as in Vault). A refused share counts as a failed authentication of its
//!   source (the `--auth-failure-*` limits), and a refusal says only why the share was
//!   refused (malformed, another share set, duplicate, wrong combination).
//! - `TresorOperator.Seal`, `.Rekey`, `.RotateRoot` and `.Backup` on `POST /` are
//!   SigV4-signed, operator only, and audited like every admin operation.

use crate::api::refuse;
use crate::{response, AppState};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::Request;
use axum::response::Response;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tresor_core::{Caller, KmsError};

/// What the server can do with its seal; implemented by the binary, which knows the
/// data directory and the sealer.
pub trait SealControl: Send + Sync {
    /// `{Sealed, Threshold, Progress, Sealer}`.
    fn status(&self) -> Value;
    /// Submits one unseal share; answers the status, or why the share was refused.
    fn unseal(&self, share: &str) -> Result<Value, KmsError>;
    /// Drops the shares submitted so far.
    fn reset(&self) -> Value;
    /// Seals the running server.
    fn seal(&self) -> Result<Value, KmsError>;
    /// One rekey step (start, a share, or cancel); the last share answers the new shares.
    fn rekey(&self, request: &Value) -> Result<Value, KmsError>;
    /// A new root key; everything re-wrapped under it.
    fn rotate_root(&self) -> Result<Value, KmsError>;
    /// A consistent copy of the database and the seal file, answered as
    /// `{Backup (base64), Bytes, Sha256}`.
    fn backup(&self) -> Result<Value, KmsError>;
}

/// What an operator call's audit record says of its answer: counts and identifiers,
/// never shares or the backup itself.
fn audit_details(op: &str, answer: &Value) -> Option<Value> {
    let pick = |names: &[&str]| {
        let picked: serde_json::Map<String, Value> = names
            .iter()
            .filter_map(|n| answer.get(*n).map(|v| (lower_first(n), v.clone())))
            .collect();
        Some(Value::Object(picked))
    };
    match op {
        "Seal" => pick(&["Sealed"]),
        "Rekey" => {
            let mut v = pick(&["Started", "Threshold", "Progress"])?;
            if let (Some(o), Some(shares)) = (
                v.as_object_mut(),
                answer.get("Shares").and_then(Value::as_array),
            ) {
                o.insert("newShareCount".into(), json!(shares.len()));
            }
            Some(v)
        }
        "RotateRoot" => pick(&["Generation", "Rewrapped", "Seconds"]),
        "Backup" => pick(&["Bytes", "Sha256"]),
        _ => None,
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn not_production() -> KmsError {
    KmsError::UnsupportedOperation(
        "This server runs with --dev (file sealer): it has no seal to manage.".into(),
    )
}

/// `GET /tresor/operator/seal-status`.
pub async fn seal_status(State(state): State<Arc<AppState>>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match &state.seal {
        Some(s) => s.status(),
        None => json!({ "Sealed": state.kms.is_sealed(), "Sealer": "file" }),
    };
    response::ok(body.to_string().into_bytes(), &request_id)
}

/// `POST /tresor/operator/unseal`.
pub async fn unseal(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<axum::body::Body>,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    if !state.rejections.admit(peer.ip(), Instant::now()) {
        let e = KmsError::Throttling("Rate exceeded".into());
        return refuse(
            &state,
            &parts,
            peer,
            &request_id,
            &e,
            response::status_of(&e),
        );
    }
    let Some(seal) = state.seal.clone() else {
        return response::error(&not_production(), &request_id);
    };
    let body: Bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return response::error(
                &KmsError::Validation("The body is too large.".into()),
                &request_id,
            )
        }
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return response::error(
                &KmsError::Serialization(
                    "Body must be {\"Share\": \"...\"} or {\"Reset\": true}".into(),
                ),
                &request_id,
            )
        }
    };
    if request.get("Reset").and_then(Value::as_bool) == Some(true) {
        return response::ok(seal.reset().to_string().into_bytes(), &request_id);
    }
    let Some(share) = request
        .get("Share")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return response::error(
            &KmsError::Validation("Share is required.".into()),
            &request_id,
        );
    };
    let result = tokio::task::spawn_blocking(move || seal.unseal(&share)).await;
    match result {
        Ok(Ok(v)) => response::ok(v.to_string().into_bytes(), &request_id),
        Ok(Err(e)) => {
            tracing::warn!(source = %peer.ip(), "unseal share refused: {e}");
            if matches!(e, KmsError::Internal(_)) {
                response::error(&e, &request_id)
            } else {
                refuse(
                    &state,
                    &parts,
                    peer,
                    &request_id,
                    &e,
                    response::status_of(&e),
                )
            }
        }
        Err(e) => response::error(&KmsError::internal(e), &request_id),
    }
}

/// `TresorOperator.<name>` from an authenticated caller.
pub(crate) async fn signed(
    state: Arc<AppState>,
    name: &str,
    body: Bytes,
    caller: Caller,
    request_id: &str,
) -> Response {
    if !caller.operator {
        let e = KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: tresor:{name}; only the service operator is.",
            caller.principal_arn
        ));
        state
            .kms
            .audit_rejected(&format!("TresorOperator.{name}"), &caller, &e);
        return response::error(&e, request_id);
    }
    let seal = state.seal.clone();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let op: String = name.chars().take(64).collect();
    tracing::info!(operation = %op, access_key_id = %caller.access_key_id, "operator call");
    let app = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let event = format!("TresorOperator.{op}");
        app.kms.audited_operator_call(
            &event,
            &caller,
            &body,
            || {
                let seal = seal.ok_or_else(not_production)?;
                match op.as_str() {
                    "Seal" => {
                        let r = seal.seal();
                        // Derived SigV4 signing keys come from decrypted secrets: gone too.
                        app.signing_keys.clear();
                        r
                    }
                    "Rekey" => seal.rekey(&request),
                    "RotateRoot" => seal.rotate_root(),
                    "Backup" => seal.backup(),
                    other => Err(KmsError::UnknownOperation(format!(
                        "Unknown operation TresorOperator.{other}"
                    ))),
                }
            },
            |answer| audit_details(&op, answer),
        )
    })
    .await;
    match result {
        Ok(Ok(v)) => response::ok(v.to_string().into_bytes(), request_id),
        Ok(Err(e)) => response::error(&e, request_id),
        Err(e) => response::error(&KmsError::internal(e), request_id),
    }
}
