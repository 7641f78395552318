//! Who is calling: the authenticated principal and the request's context.

use tresor_crypto::SecretBytes;

/// The authenticated caller of one request, as SigV4 established it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The caller's account (12 digits).
    pub account: String,
    /// The caller's principal ARN (`arn:aws:iam::ACCOUNT:root` / `…:user/NAME`).
    pub principal_arn: String,
    /// The access key that signed the request.
    pub access_key_id: String,
    /// The region of the SigV4 credential scope: the region the request addresses.
    pub region: String,
    /// The service operator's credentials signed the request.
    pub operator: bool,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's User-Agent header.
    pub user_agent: String,
    /// The request id returned in `x-amzn-RequestId`.
    pub request_id: String,
    /// The request came over TLS (the `aws:SecureTransport` condition key).
    pub secure_transport: bool,
}

/// An access key's secret and the principal it authenticates as.
#[derive(Debug)]
pub struct Credential {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (zeroized, redacted).
    pub secret: SecretBytes,
    /// Owning account.
    pub account: String,
    /// Principal ARN.
    pub principal_arn: String,
    /// The service operator: may administer every account.
    pub operator: bool,
    /// An XKS proxy credential: signs XKS proxy API requests only.
    pub xks_proxy: bool,
}
