//! The outbound HTTP client of external key stores: one POST to an XKS proxy, signed
//! with SigV4 (service `kms-xks-proxy`, the store's Region) by the `aws-sigv4` crate,
//! over hyper-util's pooled client with rustls (system roots or a configured CA file).
//! Plain `http://` is called only on loopback hosts. Each call has a time limit (KMS's
//! 250 ms by default) and reads at most [`MAX_RESPONSE`] bytes of answer.
//!
//! The core's operations are synchronous; [`HttpXksTransport::post`] runs the exchange
//! on the server's runtime and waits for it, from a blocking thread or (with
//! `block_in_place`) a worker of the multi-threaded runtime.

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tresor_core::custom_key_stores::xks::{
    is_loopback_host, parse_endpoint, TransportError, XksHttpRequest, XksHttpResponse,
    XksTransport, MAX_RESPONSE,
};

/// The SigV4 service name of the XKS proxy API.
pub const SERVICE: &str = "kms-xks-proxy";

/// hyper-util's client with rustls, shared by every external key store.
#[derive(Clone)]
pub struct HttpXksTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
}

impl std::fmt::Debug for HttpXksTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpXksTransport")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("reading --xks-ca-file {}: {e}", ca.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("reading --xks-ca-file {}: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("--xks-ca-file {}: {e}", ca.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("--xks-ca-file {}: no certificate", ca.display()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                // A system certificate rustls cannot use is skipped, as browsers do.
                let _ = roots.add(c);
            }
        }
    }
    Ok(roots)
}

impl HttpXksTransport {
    /// A client trusting `ca_file` (PEM) or, without one, the system's roots; calls run
    /// on `runtime` and give up after `timeout`.
    pub fn new(
        ca_file: Option<&Path>,
        timeout: Duration,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots(ca_file)?)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        Ok(Self {
            client,
            runtime,
            timeout,
        })
    }

    fn request(
        &self,
        req: &XksHttpRequest<'_>,
    ) -> Result<http::Request<Full<Bytes>>, TransportError> {
        let (scheme, host, _) = parse_endpoint(req.endpoint).ok_or_else(|| {
            TransportError::Refused(format!("{} is not an endpoint", req.endpoint))
        })?;
        if scheme == "http" && !is_loopback_host(host) {
            return Err(TransportError::Refused(format!(
                "plain http to {host}, which is not a loopback host"
            )));
        }
        let url = format!("{}{}", req.endpoint, req.path);
        let uri: http::Uri = url
            .parse()
            .map_err(|_| TransportError::Refused(format!("{url} is not a URL")))?;
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| TransportError::Refused(format!("{url} has no host")))?;
        let secret = std::str::from_utf8(req.secret.expose())
            .map_err(|_| TransportError::Refused("the stored secret is not UTF-8".into()))?;
        let identity = aws_credential_types::Credentials::new(
            req.access_key_id,
            secret,
            None,
            None,
            "tresor-xks",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(req.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| TransportError::Refused(format!("signing: {e}")))?
            .into();
        let headers = [
            ("content-type", "application/json"),
            ("host", authority.as_str()),
        ];
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.into_iter(),
            SignableBody::Bytes(req.body),
        )
        .map_err(|e| TransportError::Refused(format!("signing: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| TransportError::Refused(format!("signing: {e}")))?
            .into_parts();
        let mut request = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/json")
            .header("host", authority)
            .body(Full::new(Bytes::copy_from_slice(req.body)))
            .map_err(|e| TransportError::Refused(format!("request: {e}")))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// Whether a connect failure is TLS's (certificate, handshake) rather than the network's.
fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

async fn exchange(
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<XksHttpResponse, TransportError> {
    let resp = client.request(request).await.map_err(|e| {
        if is_tls(&e) {
            TransportError::Tls(e.to_string())
        } else {
            TransportError::Unreachable(e.to_string())
        }
    })?;
    let status = resp.status().as_u16();
    let announced = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_RESPONSE as u64) {
        return Err(TransportError::TooLarge);
    }
    let body = Limited::new(resp.into_body(), MAX_RESPONSE)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                TransportError::TooLarge
            } else {
                TransportError::Unreachable(e.to_string())
            }
        })?
        .to_bytes();
    Ok(XksHttpResponse {
        status,
        body: body.to_vec(),
    })
}

impl XksTransport for HttpXksTransport {
    fn post(&self, req: &XksHttpRequest<'_>) -> Result<XksHttpResponse, TransportError> {
        let request = self.request(req)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let client = self.client.clone();
        let timeout = self.timeout;
        self.runtime.spawn(async move {
            let outcome = match tokio::time::timeout(timeout, exchange(client, request)).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout),
            };
            let _ = tx.send(outcome);
        });
        // The task enforces the limit; the margin covers a runtime too busy to run it.
        let wait = move || match rx.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout),
        };
        // Crypto operations run on the runtime's worker threads (they read no storage):
        // there the wait hands the worker's other tasks to the rest of the pool first.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tresor_crypto::SecretBytes;

    fn transport(rt: &tokio::runtime::Runtime) -> HttpXksTransport {
        HttpXksTransport::new(None, Duration::from_millis(250), rt.handle().clone()).unwrap()
    }

    fn req<'a>(endpoint: &'a str, secret: &'a SecretBytes) -> XksHttpRequest<'a> {
        XksHttpRequest {
            endpoint,
            path: "/kms/xks/v1/health",
            region: "us-east-1",
            access_key_id: "ABCDEFGHIJKLMNOPQRST",
            secret,
            body: b"{}",
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let t = transport(&rt);
        let secret = SecretBytes::from_slice(&[b'a'; 43]);
        assert!(matches!(
            t.post(&req("http://192.0.2.1:80", &secret)),
            Err(TransportError::Refused(_))
        ));
        assert!(matches!(
            t.post(&req("http://xks.example.com", &secret)),
            Err(TransportError::Refused(_))
        ));
    }

    #[test]
    fn requests_are_signed_for_the_xks_service() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let t = transport(&rt);
        let secret = SecretBytes::from_slice(&[b'a'; 43]);
        let r = t.request(&req("http://127.0.0.1:9", &secret)).unwrap();
        let auth = r.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.contains("/us-east-1/kms-xks-proxy/aws4_request"),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date"),
            "{auth}"
        );
        assert_eq!(r.headers()["host"], "127.0.0.1:9");
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let t = transport(&rt);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let secret = SecretBytes::from_slice(&[b'a'; 43]);
        let endpoint = format!("http://127.0.0.1:{port}");
        assert!(matches!(
            t.post(&req(&endpoint, &secret)),
            Err(TransportError::Unreachable(_) | TransportError::Timeout)
        ));
    }
}
