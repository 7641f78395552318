//! STS `GetCallerIdentity` on the KMS endpoint, because tools and test harnesses probe
//! their credentials with it (`aws sts get-caller-identity --endpoint-url …`, Terraform).
//!
//! AWS's Query protocol: a form-encoded `POST /` (`Action=GetCallerIdentity&Version=
//! 2011-06-15`) signed with SigV4 for service `sts`, answered in XML. Authentication, the
//! per-source failure limit and the audit record are those of every KMS request; any
//! other STS action is refused with `InvalidAction`.

use crate::api::{authenticate_for, event_name, record_refusal};
use crate::metrics::Outcome;
use crate::transport::Transport;
use crate::{AppState, MAX_BODY_BYTES};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tresor_core::{Caller, KmsError};

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const EVENT: &str = "GetCallerIdentity";

/// True for a Query-protocol request: a form body and no `X-Amz-Target`.
pub(crate) fn is_sts(req: &Request<Body>) -> bool {
    let headers = req.headers();
    !headers.contains_key(&crate::headers::X_AMZ_TARGET)
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// Answers one STS request.
pub(crate) async fn call(state: Arc<AppState>, peer: SocketAddr, req: Request<Body>) -> Response {
    let secure = req
        .extensions()
        .get::<Transport>()
        .is_some_and(|t| t.secure);
    let request_id = uuid::Uuid::new_v4().to_string();
    if state.kms.is_sealed() {
        let e = KmsError::Sealed(tresor_core::seal::SEALED_MESSAGE.into());
        return error(&e, StatusCode::SERVICE_UNAVAILABLE, &request_id);
    }
    let (parts, body) = req.into_parts();
    let refused = |e: KmsError, status: StatusCode| {
        let event = match event_name(&parts).as_str() {
            "Unknown" => EVENT.to_string(),
            other => other.to_string(),
        };
        record_refusal(&state, &parts, peer, &request_id, &e, event);
        error(&e, status, &request_id)
    };
    if !state.rejections.admit(peer.ip(), Instant::now()) {
        return refused(
            KmsError::Throttling("Rate exceeded".into()),
            StatusCode::BAD_REQUEST,
        );
    }
    let body = match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return refused(
                KmsError::Validation("The request body is too large.".into()),
                StatusCode::PAYLOAD_TOO_LARGE,
            )
        }
    };
    let caller = match authenticate_for("sts", &state, &parts, &body, peer, &request_id, secure) {
        Ok(c) => c,
        Err(e) => {
            let status = crate::response::status_of(&e);
            return refused(e, status);
        }
    };
    let form = Form::parse(&body);
    let action = form.get("Action").unwrap_or_default();
    if action != EVENT || form.get("Version") != Some("2011-06-15") {
        let e = KmsError::UnsupportedOperation(format!(
            "Tresor answers only the STS action GetCallerIdentity (Version 2011-06-15), not '{}'.",
            action.chars().take(64).collect::<String>()
        ));
        return error(&e, StatusCode::BAD_REQUEST, &request_id);
    }
    if let Err(e) = state.kms.audit_call(EVENT, &caller) {
        let status = crate::response::status_of(&e);
        return error(&e, status, &request_id);
    }
    identity(&caller, &request_id)
}

/// The answer: account, ARN and a stable user id (the account id for a root, else
/// `AIDA` and 17 characters derived from the ARN, in the shape IAM's user ids have).
fn identity(caller: &Caller, request_id: &str) -> Response {
    let user_id = user_id(caller);
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{XMLNS}\">\n  <GetCallerIdentityResult>\n    \
         <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  \
         </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
         </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&caller.principal_arn),
        escape(&user_id),
        escape(&caller.account),
    );
    xml(StatusCode::OK, body, request_id)
}

fn user_id(caller: &Caller) -> String {
    if caller.principal_arn.ends_with(":root") {
        return caller.account.clone();
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, caller.principal_arn.as_bytes());
    let tail: String = digest
        .as_ref()
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET.get(usize::from(b % 32)).copied().unwrap_or(b'A')))
        .collect();
    format!("AIDA{tail}")
}

/// STS's error names for Tresor's errors (the Query protocol's `Error/Code`).
fn code(e: &KmsError) -> &'static str {
    match e {
        KmsError::UnrecognizedClient(_) => "InvalidClientTokenId",
        KmsError::InvalidSignature(_) => "SignatureDoesNotMatch",
        KmsError::IncompleteSignature(_) => "IncompleteSignature",
        KmsError::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
        KmsError::Throttling(_) => "Throttling",
        KmsError::UnsupportedOperation(_) => "InvalidAction",
        KmsError::Validation(_) => "ValidationError",
        KmsError::AccessDenied(_) => "AccessDenied",
        _ => "InternalFailure",
    }
}

fn error(e: &KmsError, status: StatusCode, request_id: &str) -> Response {
    let code = code(e);
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
         <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
         <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        escape(&e.to_string())
    );
    let mut resp = xml(status, body, request_id);
    resp.extensions_mut().insert(Outcome(code));
    resp
}

fn xml(status: StatusCode, body: String, request_id: &str) -> Response {
    crate::response::typed(status, body, "text/xml", request_id)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An `application/x-www-form-urlencoded` body.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        Form(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The value of `name`, when it is given exactly once.
    fn get(&self, name: &str) -> Option<&str> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Some(v.as_str()),
            _ => None,
        }
    }
}

/// Percent-decoding with `+` as a space; invalid escapes are kept as written.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_repeated_names_are_not_an_answer() {
        let f = Form::parse(b"Action=GetCallerIdentity&Version=2011-06-15&X=a%2Bb+c%zz");
        assert_eq!(f.get("Action"), Some("GetCallerIdentity"));
        assert_eq!(f.get("X"), Some("a+b c%zz"));
        let twice = Form::parse(b"Action=GetCallerIdentity&Action=AssumeRole");
        assert_eq!(twice.get("Action"), None);
        assert_eq!(escape("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
