//! A client-side SigV4 signer for `TrentService.<Op>` POSTs to `/`, doing per request what
//! an AWS SDK does: hash the payload, build the canonical request and the string to sign,
//! derive the signing key and compute the signature.

use aws_lc_rs::{digest, hmac};
use time::OffsetDateTime;

/// The content type of the AWS JSON 1.1 protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The headers that are signed, in canonical (sorted) order.
pub const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";

/// Access key, secret and region.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Region signed for.
    pub region: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .finish()
    }
}

impl Default for Credentials {
    /// The dev pair `tresor serve --dev` creates, in us-east-1.
    fn default() -> Self {
        Self {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        }
    }
}

/// The signature-bearing headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
    pub amz_date: String,
    /// `Authorization`.
    pub authorization: String,
}

/// Signs KMS requests for one host with one set of credentials.
#[derive(Debug, Clone)]
pub struct Signer {
    creds: Credentials,
    host: String,
}

impl Signer {
    /// A signer for requests sent with `Host: host`.
    pub fn new(creds: Credentials, host: impl Into<String>) -> Self {
        Self {
            creds,
            host: host.into(),
        }
    }

    /// The `Host` header value the requests must carry.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Signs a POST to `/` with `X-Amz-Target: target` and `body`, at `now`.
    pub fn sign(&self, target: &str, body: &[u8], now: OffsetDateTime) -> Signature {
        let (date, stamp) = amz_dates(now);
        let payload_hash = hex::encode(digest::digest(&digest::SHA256, body));
        let mut canonical = String::with_capacity(256);
        canonical.push_str("POST\n/\n\ncontent-type:");
        canonical.push_str(CONTENT_TYPE);
        canonical.push_str("\nhost:");
        canonical.push_str(&self.host);
        canonical.push_str("\nx-amz-date:");
        canonical.push_str(&stamp);
        canonical.push_str("\nx-amz-target:");
        canonical.push_str(target);
        canonical.push_str("\n\n");
        canonical.push_str(SIGNED_HEADERS);
        canonical.push('\n');
        canonical.push_str(&payload_hash);

        let scope = format!("{date}/{}/kms/aws4_request", self.creds.region);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
            hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
        );
        let key = signing_key(&self.creds.secret_access_key, &date, &self.creds.region);
        let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()));
        Signature {
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
                self.creds.access_key_id
            ),
            amz_date: stamp,
        }
    }
}

/// `kSigning` = HMAC chain over date, region, `kms`, `aws4_request`.
fn signing_key(secret: &str, date: &str, region: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), "kms");
    let k_signing = step(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// (`YYYYMMDD`, `YYYYMMDDTHHMMSSZ`) of `now` in UTC.
pub fn amz_dates(now: OffsetDateTime) -> (String, String) {
    let t = now.to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    let stamp = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    (date, stamp)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn creds() -> Credentials {
        Credentials::default()
    }

    fn fixed_time() -> OffsetDateTime {
        // 2024-02-29T23:59:58Z: a leap day, and a second before midnight.
        OffsetDateTime::from_unix_timestamp(1_709_251_198).unwrap()
    }

    #[test]
    fn dates_are_basic_iso8601() {
        let (d, s) = amz_dates(fixed_time());
        assert_eq!(d, "20240229");
        assert_eq!(s, "20240229T235958Z");
        let (d, s) = amz_dates(OffsetDateTime::UNIX_EPOCH);
        assert_eq!((d.as_str(), s.as_str()), ("19700101", "19700101T000000Z"));
    }

    /// The signature our signer computes equals the one from `aws-sigv4`, the signer the
    /// AWS SDKs use, for the same request, credentials and time.
    #[test]
    fn matches_aws_sigv4() {
        use aws_credential_types::Credentials as AwsCreds;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        use aws_sigv4::sign::v4;

        let host = "127.0.0.1:7390";
        let body = br#"{"KeyId":"alias/demo","Plaintext":"aGVsbG8="}"#;
        let target = "TrentService.Encrypt";
        let ours = Signer::new(creds(), host).sign(target, body, fixed_time());

        let identity = AwsCreds::new(
            creds().access_key_id,
            creds().secret_access_key,
            None,
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("kms")
            .time(UNIX_EPOCH + Duration::from_secs(1_709_251_198))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers = [
            ("content-type", CONTENT_TYPE),
            ("host", host),
            ("x-amz-target", target),
        ];
        let signable = SignableRequest::new(
            "POST",
            "http://127.0.0.1:7390/",
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, signature) = sign(signable, &params).unwrap().into_parts();
        let mut req = http::Request::builder()
            .method("POST")
            .uri("http://127.0.0.1:7390/")
            .body(())
            .unwrap();
        instructions.apply_to_request_http1x(&mut req);
        let auth = req
            .headers()
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        let date = req.headers().get("x-amz-date").unwrap().to_str().unwrap();

        assert_eq!(date, ours.amz_date);
        assert!(
            ours.authorization
                .ends_with(&format!("Signature={signature}")),
            "{} vs {signature}",
            ours.authorization
        );
        assert_eq!(auth, ours.authorization);
    }

    /// A fixed vector, so a change in the signer shows even without the cross-check.
    #[test]
    fn known_signature() {
        let s = Signer::new(creds(), "localhost:1").sign(
            "TrentService.DescribeKey",
            b"{}",
            fixed_time(),
        );
        assert_eq!(s.amz_date, "20240229T235958Z");
        assert!(s.authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240229/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
        ));
        // Computed independently (Python's hmac/hashlib, following the SigV4 spec).
        assert!(s.authorization.ends_with(
            "Signature=693b68b50fd2684b445fb01671007b8f37f9535ed9061e1ac3a6605eb2586b6a"
        ));
        // Signing is deterministic; a different body, host or time changes it.
        let again = Signer::new(creds(), "localhost:1").sign(
            "TrentService.DescribeKey",
            b"{}",
            fixed_time(),
        );
        assert_eq!(s, again);
        let other = Signer::new(creds(), "localhost:1").sign(
            "TrentService.DescribeKey",
            b"{ }",
            fixed_time(),
        );
        assert_ne!(s.authorization, other.authorization);
    }

    #[test]
    fn debug_hides_the_secret() {
        let d = format!("{:?}", creds());
        assert!(!d.contains("wJalr"));
    }
}
