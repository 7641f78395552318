//! A minimal signed client for Tresor's own commands (`tresor admin …`): one JSON 1.1
//! request per connection over plain HTTP or TLS (trusting `AWS_CA_BUNDLE`), signed
//! with SigV4 like an AWS SDK would.

use axum::http::{HeaderMap, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where and as whom the CLI calls the server.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` of the endpoint.
    pub authority: String,
    /// For `https://`: the CA bundle to trust (`AWS_CA_BUNDLE`).
    pub tls_ca: Option<std::path::PathBuf>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Region to sign for.
    pub region: String,
}

const DEV_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const DEV_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

impl Target {
    /// From `--endpoint`/`--region` (or the usual AWS environment variables), with the
    /// caller's AWS credentials, falling back to the dev credentials.
    pub fn from_env(endpoint: Option<&str>, region: Option<&str>) -> Result<Self, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| env("AWS_ENDPOINT_URL_KMS"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| "http://127.0.0.1:7390".into());
        let (authority, tls_ca) = match (
            endpoint.strip_prefix("http://"),
            endpoint.strip_prefix("https://"),
        ) {
            (Some(a), _) => (a, None),
            (_, Some(a)) => (
                a,
                Some(env("AWS_CA_BUNDLE").map(Into::into).ok_or_else(|| {
                    format!("endpoint {endpoint}: set AWS_CA_BUNDLE to the CA to trust")
                })?),
            ),
            _ => return Err(format!("endpoint {endpoint} must be an http(s):// URL")),
        };
        let authority = authority.trim_end_matches('/').to_string();
        let access_key_id = env("AWS_ACCESS_KEY_ID")
            .or_else(|| env("TRESOR_DEV_ACCESS_KEY_ID"))
            .unwrap_or_else(|| DEV_ACCESS_KEY_ID.into());
        let secret_access_key = env("AWS_SECRET_ACCESS_KEY")
            .or_else(|| env("TRESOR_DEV_SECRET_ACCESS_KEY"))
            .unwrap_or_else(|| DEV_SECRET_ACCESS_KEY.into());
        let region = region
            .map(str::to_string)
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        Ok(Self {
            authority,
            tls_ca,
            access_key_id,
            secret_access_key,
            region,
        })
    }

    /// Calls `target` (e.g. `TresorAdmin.CreateUser`) with a JSON body; returns the JSON
    /// answer, or the service's error as `__type: message`.
    pub async fn call(
        &self,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let body = body.to_string().into_bytes();
        let mut headers = HeaderMap::new();
        let header = |v: &str| HeaderValue::from_str(v).map_err(|e| e.to_string());
        headers.insert("host", header(&self.authority)?);
        headers.insert("x-amz-date", header(&tresor_server::sigv4::amz_date_now())?);
        headers.insert("x-amz-target", header(target)?);
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        let auth = tresor_server::sigv4::sign(
            "POST",
            "/",
            &headers,
            &body,
            &self.access_key_id,
            self.secret_access_key.as_bytes(),
            &self.region,
        )
        .map_err(|e| e.to_string())?;
        let mut request = format!("POST / HTTP/1.1\r\nauthorization: {auth}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
        for (name, value) in &headers {
            request.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().unwrap_or_default()
            ));
        }
        request.push_str("\r\n");
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.authority))?;
        let mut message = request.into_bytes();
        message.extend_from_slice(&body);
        let raw = match &self.tls_ca {
            None => exchange(stream, &message).await?,
            Some(ca) => {
                let (connector, name) = tls_connector(ca, &self.authority)?;
                let tls = connector
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS handshake with {}: {e}", self.authority))?;
                exchange(tls, &message).await?
            }
        };
        let text = String::from_utf8_lossy(&raw);
        let (head, payload) = text
            .split_once("\r\n\r\n")
            .ok_or("malformed HTTP response")?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| format!("HTTP {status}: unreadable answer ({e}): {payload}"))?;
        if status == 200 {
            return Ok(json);
        }
        let kind = json
            .get("__type")
            .and_then(|v| v.as_str())
            .unwrap_or("Error");
        let message = json
            .get("message")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        Err(format!("{kind}: {message}"))
    }
}

/// Writes `message` and reads until the server closes.
async fn exchange<S>(mut stream: S, message: &[u8]) -> Result<Vec<u8>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    stream.write_all(message).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw).await {
        Ok(_) => Ok(raw),
        // A peer that closes without close_notify after a whole answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(e) => Err(e.to_string()),
    }
}

/// A TLS connector trusting the CA certificates in `ca`, and the name to verify.
fn tls_connector(
    ca: &std::path::Path,
    authority: &str,
) -> Result<
    (
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    ),
    String,
> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_file_iter(ca)
        .map_err(|e| format!("reading {}: {e}", ca.display()))?
    {
        let c = c.map_err(|e| format!("reading {}: {e}", ca.display()))?;
        roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("TLS server name {host:?}: {e}"))?;
    Ok((
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)),
        name,
    ))
}
