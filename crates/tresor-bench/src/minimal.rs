//! The second baseline: a minimal *correct* KMS Encrypt endpoint, in process. Per request
//! it verifies SigV4 with Tresor's own verifier (`tresor_server::sigv4`, signing key cached
//! per scope), parses the Encrypt request with serde_json, base64-decodes the plaintext,
//! seals it once with AES-256-GCM into a blob and answers the KMS JSON reply. No storage,
//! no authorization, no audit, no quotas: the least a real KMS must do for Encrypt, so a
//! ratio to it shows what Tresor's pipeline adds on top.

use crate::baseline::{seal, serve};
use crate::sigv4::Credentials;
use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tresor_core::{Credential, KmsError, SecretBytes};
use tresor_server::sigv4::{self, SignedRequest, SigningKeys};

/// The largest body accepted (the KMS request limit is far below it).
const MAX_BODY: usize = 64 * 1024;

/// The largest plaintext KMS Encrypt accepts.
const MAX_PLAINTEXT: usize = 4096;

/// The one `X-Amz-Target` it serves.
const TARGET: &str = "TrentService.Encrypt";

/// A running minimal KMS endpoint; stopped on drop.
pub struct MinimalKms {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

/// What every request shares: the one credential, the signing-key cache, the AES key.
struct State {
    cred: Credential,
    keys: SigningKeys,
    aead: LessSafeKey,
    region: String,
}

impl MinimalKms {
    /// Binds 127.0.0.1:0 and serves plain HTTP in the current runtime; accepts requests
    /// signed with `creds` (and only those).
    pub async fn start(creds: &Credentials) -> Result<Self, String> {
        Self::start_with(creds, None).await
    }

    /// As [`MinimalKms::start`], over TLS with `tls` when given.
    pub async fn start_with(
        creds: &Credentials,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("minimal KMS: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("minimal KMS: {e}"))?;
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(raw.as_mut())
            .map_err(|_| "minimal KMS: no randomness".to_string())?;
        let aead = UnboundKey::new(&AES_256_GCM, raw.as_ref())
            .map_err(|_| "minimal KMS: bad key".to_string())?;
        let state = Arc::new(State {
            cred: Credential {
                access_key_id: creds.access_key_id.clone(),
                secret: SecretBytes::from_slice(creds.secret_access_key.as_bytes()),
                account: "000000000000".into(),
                principal_arn: "arn:aws:iam::000000000000:root".into(),
                operator: false,
                xks_proxy: false,
            },
            keys: SigningKeys::default(),
            aead: LessSafeKey::new(aead),
            region: creds.region.clone(),
        });
        let task = tokio::spawn(serve(listener, tls, move |req| handle(req, state.clone())));
        Ok(Self { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MinimalKms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptRequest {
    key_id: String,
    plaintext: String,
    #[serde(default)]
    encryption_context: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptResponse<'a> {
    ciphertext_blob: String,
    key_id: &'a str,
    encryption_algorithm: &'static str,
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match encrypt(req, &state).await {
        Ok(body) => reply(StatusCode::OK, body),
        Err((status, kind, message)) => {
            let body = serde_json::json!({ "__type": kind, "message": message });
            reply(status, body.to_string().into_bytes())
        }
    })
}

type Failure = (StatusCode, &'static str, String);

fn bad(kind: &'static str, message: impl Into<String>) -> Failure {
    (StatusCode::BAD_REQUEST, kind, message.into())
}

fn sig_failure(e: KmsError) -> Failure {
    let kind = match e {
        KmsError::IncompleteSignature(_) => "IncompleteSignatureException",
        _ => "InvalidSignatureException",
    };
    bad(kind, e.to_string())
}

async fn encrypt(req: Request<Incoming>, state: &State) -> Result<Vec<u8>, Failure> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "ValidationException",
                "request body too large".to_string(),
            )
        })?
        .to_bytes();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or_else(|| {
        bad(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    })?;
    let auth = sigv4::parse_authorization(auth).map_err(sig_failure)?;
    if auth.access_key_id != state.cred.access_key_id {
        return Err(bad(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    sigv4::verify(
        &signed,
        &auth,
        &state.cred,
        &state.keys,
        OffsetDateTime::now_utc(),
    )
    .map_err(sig_failure)?;
    if header("x-amz-target") != Some(TARGET) {
        return Err(bad(
            "UnknownOperationException",
            "only Encrypt is served here",
        ));
    }
    let request: EncryptRequest =
        serde_json::from_slice(&body).map_err(|e| bad("SerializationException", e.to_string()))?;
    let plaintext = SecretBytes::new(
        B64.decode(request.plaintext.as_bytes())
            .map_err(|_| bad("ValidationException", "Plaintext is not base64"))?,
    );
    if request.key_id.is_empty() || plaintext.expose().is_empty() {
        return Err(bad(
            "ValidationException",
            "KeyId and Plaintext are required",
        ));
    }
    if plaintext.expose().len() > MAX_PLAINTEXT {
        return Err(bad("ValidationException", "Plaintext is over 4096 bytes"));
    }
    // The context would be bound as AAD by a real KMS; here it is only parsed.
    let _ = request.encryption_context;
    let blob = seal(&state.aead, plaintext.expose()).ok_or_else(|| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "KMSInternalException",
            "seal failed".to_string(),
        )
    })?;
    let key_arn = format!(
        "arn:aws:kms:{}:{}:key/{}",
        state.region, state.cred.account, request.key_id
    );
    serde_json::to_vec(&EncryptResponse {
        ciphertext_blob: B64.encode(blob),
        key_id: &key_arn,
        encryption_algorithm: "SYMMETRIC_DEFAULT",
    })
    .map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "KMSInternalException",
            e.to_string(),
        )
    })
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    resp
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::client::{Client, Endpoint, Outcome};
    use crate::sigv4::Signer;

    async fn client(server: &MinimalKms, creds: Credentials) -> Client {
        let ep = Endpoint::local(server.addr());
        let signer = Signer::new(creds, ep.host.clone());
        Client::new(ep, signer)
    }

    #[tokio::test]
    async fn encrypts_signed_requests() {
        let server = MinimalKms::start(&Credentials::default()).await.unwrap();
        let mut c = client(&server, Credentials::default()).await;
        let body = crate::ops::baseline_plan().body(&mut fastrand::Rng::new());
        for _ in 0..3 {
            match c.call("Encrypt", body.clone()).await {
                Outcome::Ok(b) => {
                    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                    let blob = B64.decode(v["CiphertextBlob"].as_str().unwrap()).unwrap();
                    assert_eq!(blob.len(), 12 + 64 + 16);
                    assert_eq!(v["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
                }
                other => panic!("{other}"),
            }
        }
    }

    /// A request signed with another secret is refused: the signature is really checked.
    #[tokio::test]
    async fn refuses_a_wrong_signature() {
        let server = MinimalKms::start(&Credentials::default()).await.unwrap();
        let wrong = Credentials {
            secret_access_key: "not-the-secret".into(),
            ..Credentials::default()
        };
        let mut c = client(&server, wrong).await;
        let body = crate::ops::baseline_plan().body(&mut fastrand::Rng::new());
        match c.call("Encrypt", body).await {
            Outcome::Error { kind, .. } => assert_eq!(kind, "InvalidSignatureException"),
            other => panic!("{other}"),
        }
    }

    #[tokio::test]
    async fn refuses_other_operations_and_bad_json() {
        let server = MinimalKms::start(&Credentials::default()).await.unwrap();
        let mut c = client(&server, Credentials::default()).await;
        match c.call("DescribeKey", Bytes::from_static(b"{}")).await {
            Outcome::Error { kind, .. } => assert_eq!(kind, "UnknownOperationException"),
            other => panic!("{other}"),
        }
        match c.call("Encrypt", Bytes::from_static(b"{not json")).await {
            Outcome::Error { kind, .. } => assert_eq!(kind, "SerializationException"),
            other => panic!("{other}"),
        }
    }
}
