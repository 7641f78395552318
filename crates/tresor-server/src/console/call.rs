//! A console action as an API call by the signed-in principal: the operation's JSON
//! body through [`tresor_core::Kms::handle`], the same pipeline as `POST /`.

use super::Ctx;
use crate::AppState;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use tresor_core::{error_name, Caller, KmsError};

/// The user agent console calls are audited with.
pub const USER_AGENT: &str = "tresor-console";

/// An API error as the API would answer it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// The exception name (`AccessDeniedException`).
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl From<&KmsError> for ApiError {
    fn from(e: &KmsError) -> Self {
        let message = match e {
            // Internal details stay in the server log.
            KmsError::Internal(_) => "An internal error occurred.".to_string(),
            other => other.to_string(),
        };
        ApiError {
            code: error_name(e),
            message,
        }
    }
}

impl ApiError {
    /// A console-side refusal of a form (before any call).
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError {
            code: "ValidationException",
            message: message.into(),
        }
    }
}

impl Ctx {
    /// The signed-in principal as the caller of one request (a fresh request id).
    pub fn caller(&self) -> Caller {
        let p = &self.session.principal;
        Caller {
            account: p.account.clone(),
            principal_arn: p.principal_arn.clone(),
            access_key_id: p.access_key_id.clone(),
            operator: p.operator,
            region: p.region.clone(),
            source_ip: self.peer.ip().to_string(),
            user_agent: USER_AGENT.into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            secure_transport: self.secure,
        }
    }

    /// Calls `op` (`Encrypt`, or `TresorAdmin.ListUsers`) with `body` as this session's
    /// principal.
    pub async fn call(
        &self,
        state: &Arc<AppState>,
        op: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        let entry = match op.strip_prefix("TresorAdmin.") {
            Some(name) => tresor_core::admin::operation(name),
            None => tresor_core::operation(op),
        };
        let Some(entry) = entry else {
            return Err(ApiError::from(&KmsError::UnknownOperation(format!(
                "Unknown operation {op}"
            ))));
        };
        let caller = self.caller();
        let body = body.to_string().into_bytes();
        let kms = state.kms.clone();
        let started = Instant::now();
        let result =
            match tokio::task::spawn_blocking(move || kms.handle(entry, &body, &caller)).await {
                Ok(r) => r,
                Err(e) => Err(KmsError::internal(format!("console task failed: {e}"))),
            };
        let outcome = result.as_ref().map_or_else(error_name, |_| "ok");
        state
            .metrics
            .observe(entry.name, outcome, started.elapsed());
        match result {
            Ok(out) => serde_json::from_slice(&out)
                .map_err(|e| ApiError::from(&KmsError::internal(format!("console: {e}")))),
            Err(e) => {
                if let KmsError::Internal(detail) = &e {
                    tracing::error!("console call {op}: {detail}");
                }
                Err(ApiError::from(&e))
            }
        }
    }
}

/// A string member of a JSON answer, or `""`.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An epoch-seconds member as `YYYY-MM-DD HH:MM UTC`, or `""`.
pub(crate) fn date(v: &Value, key: &str) -> String {
    let Some(secs) = v.get(key).and_then(Value::as_f64) else {
        return String::new();
    };
    #[allow(clippy::cast_possible_truncation)]
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
}

static NULL: Value = Value::Null;

/// Member `key` of a JSON answer, or `null`.
pub(crate) fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&NULL)
}

/// Sets member `key` of a JSON request object.
pub(crate) fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}
