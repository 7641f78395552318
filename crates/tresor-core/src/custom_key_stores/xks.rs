//! An `EXTERNAL_KEY_STORE`'s proxy as Tresor calls it: the four XKS proxy API v1 calls
//! (GetHealthStatus, GetKeyMetadata, Encrypt, Decrypt) with the specification's bodies
//! and `requestMetadata`, the checks of every answer, and the mapping of failures to
//! ConnectionErrorCodes and KMS exceptions.
//!
//! The HTTP exchange itself (TLS, SigV4 with service `kms-xks-proxy`, the per-call
//! timeout, the response size bound) is the [`XksTransport`] the server installs: the
//! core imports no HTTP types.

use crate::error::{KmsError, KmsResult};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tresor_crypto::SecretBytes;

/// KMS's time limit for one proxy call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
/// The largest proxy answer read (a 4300-byte ciphertext in base64 is under 6 KiB).
pub const MAX_RESPONSE: usize = 64 * 1024;
/// The AES-GCM tag length the specification requires.
const TAG_LEN: usize = 16;
/// The most ciphertext metadata the specification allows.
const MAX_METADATA: usize = 20;

/// One signed POST to a proxy.
pub struct XksHttpRequest<'a> {
    /// `XksProxyUriEndpoint` (`https://host[:port]`, or `http://` to a loopback host).
    pub endpoint: &'a str,
    /// The full path (`XksProxyUriPath` + `/health` or `/keys/{id}/{call}`).
    pub path: &'a str,
    /// The store's Region (the SigV4 scope's region).
    pub region: &'a str,
    /// The credential's AccessKeyId.
    pub access_key_id: &'a str,
    /// The credential's RawSecretAccessKey.
    pub secret: &'a SecretBytes,
    /// The JSON body.
    pub body: &'a [u8],
}

/// A proxy's HTTP answer.
#[derive(Debug)]
pub struct XksHttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body (at most [`MAX_RESPONSE`] bytes).
    pub body: Vec<u8>,
}

/// Why an exchange produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No answer within the time limit.
    Timeout,
    /// No connection (refused, unresolvable, reset).
    Unreachable(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The answer is longer than [`MAX_RESPONSE`].
    TooLarge,
    /// The endpoint is not one Tresor calls (plain http to a non-loopback host).
    Refused(String),
}

/// The HTTP client of external key stores (installed by the server).
pub trait XksTransport: Send + Sync + std::fmt::Debug {
    /// POSTs the request, signed, within the transport's time limit.
    fn post(&self, req: &XksHttpRequest<'_>) -> Result<XksHttpResponse, TransportError>;
}

/// True for a loopback host of an `http://` endpoint (`127.0.0.0/8`, `[::1]`, `localhost`).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Splits an endpoint into (scheme, host, port) after checking its form: `https://` or
/// `http://`, a host of letters, digits, dots, hyphens (or a bracketed IPv6 literal),
/// an optional port, nothing else.
pub fn parse_endpoint(endpoint: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = endpoint.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        (rest.get(..inner.len() + 2)?, port)
    } else {
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (rest, None),
        };
        let ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !ok {
            return None;
        }
        (host, port)
    };
    Some((scheme, host, port))
}

/// Checks an `XksProxyUriEndpoint`: `https://`, or `http://` to a loopback host.
pub fn check_endpoint(endpoint: &str) -> KmsResult<()> {
    let Some((scheme, host, _)) = parse_endpoint(endpoint) else {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{endpoint}' at 'xksProxyUriEndpoint' failed to satisfy constraint: Member must satisfy regular expression pattern: ^https://[a-zA-Z0-9.-]+$"
        )));
    };
    if scheme == "http" && !is_loopback_host(host) {
        return Err(KmsError::Validation(format!(
            "XksProxyUriEndpoint {endpoint} must use https://; plain http:// is allowed only to a loopback address."
        )));
    }
    Ok(())
}

/// Checks an `XksProxyUriPath`: `[/prefix]/kms/xks/v{1,2 digits}`.
pub fn check_path(path: &str) -> KmsResult<()> {
    let version_ok = |v: &str| (1..=2).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
    let ok = path.rsplit_once("/kms/xks/v").is_some_and(|(prefix, v)| {
        version_ok(v)
            && (prefix.is_empty()
                || (prefix.starts_with('/')
                    && prefix.len() > 1
                    && prefix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))))
    });
    if ok {
        return Ok(());
    }
    Err(KmsError::Validation(format!(
        "1 validation error detected: Value '{path}' at 'xksProxyUriPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{{1,2}})$|^(/kms/xks/v\\d{{1,2}})$"
    )))
}

/// Who a proxy call is made for (the specification's `requestMetadata`).
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    /// `awsPrincipalArn`: the KMS caller.
    pub principal_arn: &'a str,
    /// `kmsOperation`: the KMS operation (`Encrypt`, `ConnectCustomKeyStore`, …).
    pub operation: &'a str,
    /// `kmsRequestId`: the KMS request's id.
    pub request_id: &'a str,
    /// `kmsKeyArn`: the KMS key, for key calls.
    pub key_arn: Option<&'a str>,
}

impl Who<'_> {
    fn metadata(&self) -> serde_json::Value {
        let mut m = json!({
            "awsPrincipalArn": self.principal_arn,
            "kmsOperation": self.operation,
            "kmsRequestId": self.request_id,
        });
        if let (Some(arn), Some(obj)) = (self.key_arn, m.as_object_mut()) {
            obj.insert("kmsKeyArn".into(), json!(arn));
        }
        m
    }
}

/// Why a proxy call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyFailure {
    /// No answer.
    Transport(TransportError),
    /// An error of the specification (`errorName`).
    Error {
        /// The HTTP status.
        status: u16,
        /// `errorName`.
        name: String,
    },
    /// An answer that is not the specification's (what is wrong with it).
    Invalid(String),
}

impl ProxyFailure {
    /// The ConnectionErrorCode a failed connect records.
    pub fn connection_error_code(&self) -> &'static str {
        match self {
            Self::Transport(TransportError::Timeout) => "XKS_PROXY_TIMED_OUT",
            Self::Transport(TransportError::Unreachable(_)) => "XKS_PROXY_NOT_REACHABLE",
            Self::Transport(TransportError::Tls(_)) => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
            Self::Transport(TransportError::Refused(_)) => "XKS_PROXY_INVALID_CONFIGURATION",
            Self::Transport(TransportError::TooLarge) | Self::Invalid(_) => {
                "XKS_PROXY_INVALID_RESPONSE"
            }
            Self::Error { name, .. } => match name.as_str() {
                "AuthenticationFailedException" => "INVALID_CREDENTIALS",
                "AccessDeniedException" => "XKS_PROXY_ACCESS_DENIED",
                "InvalidUriPathException" => "XKS_PROXY_INVALID_CONFIGURATION",
                "DependencyTimeoutException" => "XKS_PROXY_TIMED_OUT",
                _ => "XKS_PROXY_INVALID_RESPONSE",
            },
        }
    }

    /// The exception of a management call (Create/UpdateCustomKeyStore, CreateKey).
    pub fn management_error(&self, store_id: &str) -> KmsError {
        match self {
            Self::Transport(TransportError::Timeout | TransportError::Unreachable(_) | TransportError::Tls(_)) => {
                KmsError::XksProxyUriUnreachable(format!(
                    "KMS cannot communicate with the external key store proxy of {store_id}. Verify the XksProxyUriEndpoint and that the proxy is running."
                ))
            }
            Self::Transport(TransportError::Refused(_)) => KmsError::XksProxyInvalidConfiguration(
                format!("The XksProxyUriEndpoint of {store_id} is not one KMS can call."),
            ),
            Self::Transport(TransportError::TooLarge) | Self::Invalid(_) => {
                KmsError::XksProxyInvalidResponse(format!(
                    "The external key store proxy of {store_id} returned a response that is not valid."
                ))
            }
            Self::Error { name, .. } => match name.as_str() {
                "AuthenticationFailedException" | "AccessDeniedException" => {
                    KmsError::XksProxyIncorrectAuthenticationCredential(format!(
                        "The external key store proxy of {store_id} rejected the XksProxyAuthenticationCredential."
                    ))
                }
                "InvalidUriPathException" => KmsError::XksProxyInvalidConfiguration(format!(
                    "The external key store proxy of {store_id} does not serve the XksProxyUriPath."
                )),
                "KeyNotFoundException" => KmsError::XksKeyNotFound(format!(
                    "The external key store proxy of {store_id} cannot find the external key."
                )),
                "InvalidStateException" | "InvalidKeyUsageException" => {
                    KmsError::XksKeyInvalidConfiguration(format!(
                        "The external key of {store_id} must be an enabled AES_256 key that can encrypt and decrypt."
                    ))
                }
                _ => KmsError::XksProxyInvalidResponse(format!(
                    "The external key store proxy of {store_id} returned an error: {name}."
                )),
            },
        }
    }

    /// The exception of a cryptographic call on `key_arn`.
    pub fn crypto_error(&self, key_arn: &str) -> KmsError {
        let state = |why: &str| {
            KmsError::InvalidState(format!(
                "{key_arn} is unavailable: the external key store proxy {why}."
            ))
        };
        match self {
            Self::Transport(TransportError::Timeout) => KmsError::DependencyTimeout(format!(
                "The external key store proxy did not respond in time for {key_arn}. You can retry the request."
            )),
            Self::Transport(TransportError::Unreachable(_)) => state("cannot be reached"),
            Self::Transport(TransportError::Tls(_)) => state("failed the TLS handshake"),
            Self::Transport(TransportError::Refused(_)) => state("endpoint is not one KMS calls"),
            Self::Transport(TransportError::TooLarge) | Self::Invalid(_) => {
                state("returned a response that is not valid")
            }
            Self::Error { name, .. } => match name.as_str() {
                "InvalidCiphertextException" => KmsError::InvalidCiphertext(crate::messages::NONE),
                "DependencyTimeoutException" => KmsError::DependencyTimeout(format!(
                    "The external key manager did not respond in time for {key_arn}. You can retry the request."
                )),
                "ThrottlingException" => KmsError::Throttling(format!(
                    "The external key store proxy throttled the request for {key_arn}."
                )),
                "KeyNotFoundException" => state("cannot find the external key"),
                "InvalidStateException" => state("reports that the external key is not enabled"),
                "InvalidKeyUsageException" => {
                    state("reports that the external key cannot encrypt or decrypt")
                }
                "AuthenticationFailedException" => {
                    state("rejected the store's authentication credential")
                }
                "AccessDeniedException" => state("denied access"),
                "InvalidUriPathException" => state("does not serve the store's URI path"),
                _ => state("failed the request"),
            },
        }
    }
}

/// What GetKeyMetadata reports.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyMetadataAnswer {
    key_spec: String,
    key_usage: Vec<String>,
    key_status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthAnswer {
    #[serde(default)]
    ekm_fleet_details: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncryptAnswer {
    ciphertext: String,
    #[serde(default)]
    ciphertext_metadata: Option<String>,
    initialization_vector: String,
    authentication_tag: String,
    #[serde(default)]
    ciphertext_data_integrity_value: Option<String>,
}

#[derive(Deserialize)]
struct DecryptAnswer {
    plaintext: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorAnswer {
    error_name: String,
}

/// The external key's answer to Encrypt, as Tresor keeps it in the ciphertext blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XksCiphertext {
    /// `initializationVector` (12 or 16 bytes).
    pub iv: Vec<u8>,
    /// `ciphertextMetadata` (0–20 bytes).
    pub metadata: Vec<u8>,
    /// `authenticationTag` (16 bytes).
    pub tag: [u8; TAG_LEN],
    /// `ciphertext`.
    pub ciphertext: Vec<u8>,
}

impl XksCiphertext {
    /// `len8(iv) ‖ iv ‖ len8(metadata) ‖ metadata ‖ tag ‖ ciphertext`.
    pub fn encode(&self) -> KmsResult<Vec<u8>> {
        let (Ok(iv_len), Ok(meta_len)) = (
            u8::try_from(self.iv.len()),
            u8::try_from(self.metadata.len()),
        ) else {
            return Err(KmsError::internal("XKS IV or metadata too long"));
        };
        let mut out = Vec::with_capacity(
            2 + self.iv.len() + self.metadata.len() + TAG_LEN + self.ciphertext.len(),
        );
        out.push(iv_len);
        out.extend_from_slice(&self.iv);
        out.push(meta_len);
        out.extend_from_slice(&self.metadata);
        out.extend_from_slice(&self.tag);
        out.extend_from_slice(&self.ciphertext);
        Ok(out)
    }

    /// Reads [`XksCiphertext::encode`]'s layout; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let (&iv_len, rest) = b.split_first()?;
        let iv_len = usize::from(iv_len);
        if iv_len != 12 && iv_len != 16 {
            return None;
        }
        let (iv, rest) = rest.split_at_checked(iv_len)?;
        let (&meta_len, rest) = rest.split_first()?;
        let meta_len = usize::from(meta_len);
        if meta_len > MAX_METADATA {
            return None;
        }
        let (metadata, rest) = rest.split_at_checked(meta_len)?;
        let (tag, ciphertext) = rest.split_at_checked(TAG_LEN)?;
        if ciphertext.is_empty() {
            return None;
        }
        Some(Self {
            iv: iv.to_vec(),
            metadata: metadata.to_vec(),
            tag: tag.try_into().ok()?,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

/// The connection of a CONNECTED external key store: where its proxy is and the
/// credential to sign with.
pub struct XksConnection {
    store_id: String,
    endpoint: String,
    uri_path: String,
    region: String,
    access_key_id: String,
    secret: SecretBytes,
    transport: Arc<dyn XksTransport>,
    closed: AtomicBool,
}

impl std::fmt::Debug for XksConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XksConnection")
            .field("store_id", &self.store_id)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Where a store's proxy is and how to sign for it.
pub struct XksTarget {
    /// CustomKeyStoreId.
    pub store_id: String,
    /// XksProxyUriEndpoint.
    pub endpoint: String,
    /// XksProxyUriPath.
    pub uri_path: String,
    /// The store's Region.
    pub region: String,
    /// The credential's AccessKeyId.
    pub access_key_id: String,
    /// The credential's RawSecretAccessKey.
    pub secret: SecretBytes,
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(field: &str, s: &str) -> Result<Vec<u8>, ProxyFailure> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| ProxyFailure::Invalid(format!("{field} is not base64")))
}

impl XksConnection {
    /// A connection to `target`'s proxy over `transport`.
    pub fn new(target: XksTarget, transport: Arc<dyn XksTransport>) -> Self {
        Self {
            store_id: target.store_id,
            endpoint: target.endpoint,
            uri_path: target.uri_path,
            region: target.region,
            access_key_id: target.access_key_id,
            secret: target.secret,
            transport,
            closed: AtomicBool::new(false),
        }
    }

    /// After a disconnect: keys holding this connection read Unavailable.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// True until the store is disconnected.
    pub fn is_open(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    fn call<T: DeserializeOwned>(
        &self,
        suffix: &str,
        body: &serde_json::Value,
    ) -> Result<T, ProxyFailure> {
        let path = format!("{}{suffix}", self.uri_path);
        let body = serde_json::to_vec(body)
            .map_err(|e| ProxyFailure::Invalid(format!("request encoding: {e}")))?;
        let resp = self
            .transport
            .post(&XksHttpRequest {
                endpoint: &self.endpoint,
                path: &path,
                region: &self.region,
                access_key_id: &self.access_key_id,
                secret: &self.secret,
                body: &body,
            })
            .map_err(ProxyFailure::Transport)?;
        if resp.status == 200 {
            return serde_json::from_slice(&resp.body)
                .map_err(|e| ProxyFailure::Invalid(format!("answer to {suffix}: {e}")));
        }
        match serde_json::from_slice::<ErrorAnswer>(&resp.body) {
            Ok(e) if !e.error_name.is_empty() && e.error_name.len() <= 128 => {
                Err(ProxyFailure::Error {
                    status: resp.status,
                    name: e.error_name,
                })
            }
            _ => Err(ProxyFailure::Invalid(format!(
                "HTTP {} without an error name",
                resp.status
            ))),
        }
    }

    /// GetHealthStatus: the proxy answers as the specification says.
    pub fn health(&self, who: Who<'_>) -> Result<(), ProxyFailure> {
        let body = json!({ "requestMetadata": who.metadata() });
        let answer: HealthAnswer = self.call("/health", &body)?;
        if answer.ekm_fleet_details.is_empty() || answer.ekm_fleet_details.len() > 10 {
            return Err(ProxyFailure::Invalid(
                "ekmFleetDetails must have 1 to 10 entries".into(),
            ));
        }
        Ok(())
    }

    /// GetKeyMetadata of `xks_key_id`: `Ok(Err(reason))` when the key exists but is not
    /// an enabled AES-256 key with ENCRYPT and DECRYPT.
    pub fn check_key(
        &self,
        xks_key_id: &str,
        who: Who<'_>,
    ) -> Result<Result<(), &'static str>, ProxyFailure> {
        let body = json!({ "requestMetadata": who.metadata() });
        let m: KeyMetadataAnswer = self.call(&format!("/keys/{xks_key_id}/metadata"), &body)?;
        if m.key_spec != "AES_256" {
            return Ok(Err("its key spec is not AES_256"));
        }
        if !(m.key_usage.iter().any(|u| u == "ENCRYPT")
            && m.key_usage.iter().any(|u| u == "DECRYPT"))
        {
            return Ok(Err("its key usage does not include ENCRYPT and DECRYPT"));
        }
        if m.key_status != "ENABLED" {
            return Ok(Err("it is not enabled"));
        }
        Ok(Ok(()))
    }

    /// Encrypt `plaintext` with the external key, bound to `aad`; checks the answer's
    /// sizes and its ciphertext data integrity value.
    pub fn encrypt(
        &self,
        xks_key_id: &str,
        who: Who<'_>,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<XksCiphertext, ProxyFailure> {
        let body = json!({
            "requestMetadata": who.metadata(),
            "plaintext": b64(plaintext),
            "encryptionAlgorithm": "AES_GCM",
            "additionalAuthenticatedData": b64(aad),
            "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
        });
        let a: EncryptAnswer = self.call(&format!("/keys/{xks_key_id}/encrypt"), &body)?;
        let ciphertext = unb64("ciphertext", &a.ciphertext)?;
        let metadata = match &a.ciphertext_metadata {
            Some(m) => unb64("ciphertextMetadata", m)?,
            None => Vec::new(),
        };
        let iv = unb64("initializationVector", &a.initialization_vector)?;
        let tag = unb64("authenticationTag", &a.authentication_tag)?;
        if iv.len() != 12 && iv.len() != 16 {
            return Err(ProxyFailure::Invalid(
                "initializationVector must be 12 or 16 bytes".into(),
            ));
        }
        let tag: [u8; TAG_LEN] = tag
            .as_slice()
            .try_into()
            .map_err(|_| ProxyFailure::Invalid("authenticationTag must be 16 bytes".into()))?;
        if metadata.len() > MAX_METADATA {
            return Err(ProxyFailure::Invalid(
                "ciphertextMetadata is over 20 bytes".into(),
            ));
        }
        if ciphertext.len() != plaintext.len() {
            return Err(ProxyFailure::Invalid(
                "the AES-GCM ciphertext must be as long as the plaintext".into(),
            ));
        }
        let Some(cdiv) = &a.ciphertext_data_integrity_value else {
            return Err(ProxyFailure::Invalid(
                "ciphertextDataIntegrityValue is missing".into(),
            ));
        };
        let cdiv = unb64("ciphertextDataIntegrityValue", cdiv)?;
        let expected = tresor_crypto::sha256(&[aad, &metadata, &iv, &ciphertext, &tag]);
        if !tresor_crypto::constant_time_eq(&cdiv, &expected) {
            return Err(ProxyFailure::Invalid(
                "ciphertextDataIntegrityValue does not match the answer".into(),
            ));
        }
        Ok(XksCiphertext {
            iv,
            metadata,
            tag,
            ciphertext,
        })
    }

    /// Decrypt what [`XksConnection::encrypt`] returned, bound to `aad`.
    pub fn decrypt(
        &self,
        xks_key_id: &str,
        who: Who<'_>,
        sealed: &XksCiphertext,
        aad: &[u8],
    ) -> Result<SecretBytes, ProxyFailure> {
        let mut body = json!({
            "requestMetadata": who.metadata(),
            "ciphertext": b64(&sealed.ciphertext),
            "encryptionAlgorithm": "AES_GCM",
            "initializationVector": b64(&sealed.iv),
            "authenticationTag": b64(&sealed.tag),
            "additionalAuthenticatedData": b64(aad),
        });
        if let (false, Some(obj)) = (sealed.metadata.is_empty(), body.as_object_mut()) {
            obj.insert("ciphertextMetadata".into(), json!(b64(&sealed.metadata)));
        }
        let a: DecryptAnswer = self.call(&format!("/keys/{xks_key_id}/decrypt"), &body)?;
        let plaintext = SecretBytes::new(unb64("plaintext", &a.plaintext)?);
        if plaintext.expose().len() != sealed.ciphertext.len() {
            return Err(ProxyFailure::Invalid(
                "the plaintext must be as long as the AES-GCM ciphertext".into(),
            ));
        }
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests;
