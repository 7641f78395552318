//! The rules of `EXTERNAL_KEY_STORE` records shared by CreateCustomKeyStore and
//! UpdateCustomKeyStore: the proxy's URI and connectivity, the authentication
//! credential, uniqueness of the proxy URI, and the health probe both run before they
//! store a change.

use super::xks::Who;
use super::EXTERNAL;
use crate::admin::SecretString;
use crate::error::{KmsError, KmsResult};
use crate::validate::Validator;
use tresor_store::CustomKeyStoreRecord;

/// `PUBLIC_ENDPOINT`, the connectivity Tresor offers.
pub const PUBLIC_ENDPOINT: &str = "PUBLIC_ENDPOINT";

/// Checks XksProxyConnectivity: VPC endpoint services do not exist outside AWS.
pub fn check_connectivity(connectivity: &str) -> KmsResult<()> {
    if connectivity == PUBLIC_ENDPOINT {
        return Ok(());
    }
    Err(KmsError::UnsupportedOperation(
        "XksProxyConnectivity VPC_ENDPOINT_SERVICE is not supported by Tresor: there are no Amazon VPC endpoint services outside AWS. Use PUBLIC_ENDPOINT."
            .into(),
    ))
}

/// Checks XksProxyAuthenticationCredential's members against the model (never echoing
/// them): AccessKeyId 20–30 of `A–Z2–7`, RawSecretAccessKey 43–64 of `A–Za–z0–9/+=`.
pub fn check_credential(
    access_key_id: &Option<SecretString>,
    secret: &Option<SecretString>,
) -> KmsResult<()> {
    let mut v = Validator::new()
        .required(
            "xksProxyAuthenticationCredential.accessKeyId",
            access_key_id,
        )
        .required(
            "xksProxyAuthenticationCredential.rawSecretAccessKey",
            secret,
        );
    if let Some(a) = access_key_id {
        let a = a.expose();
        v = v.secret(
            "xksProxyAuthenticationCredential.accessKeyId",
            a,
            (20, 30),
            "^[A-Z2-7]+$",
            a.bytes().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7')),
        );
    }
    if let Some(s) = secret {
        let s = s.expose();
        v = v.secret(
            "xksProxyAuthenticationCredential.rawSecretAccessKey",
            s,
            (43, 64),
            "^[a-zA-Z0-9\\/+=]+$",
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/+=".contains(&b)),
        );
    }
    v.finish()
}

/// XksProxyUriInUseException when another external store of the account and Region
/// already uses `endpoint` + `path`.
pub fn check_uri_unique(
    existing: &[CustomKeyStoreRecord],
    own_id: Option<&str>,
    endpoint: &str,
    path: &str,
) -> KmsResult<()> {
    let taken = existing.iter().any(|r| {
        Some(r.id.as_str()) != own_id
            && r.store_type == EXTERNAL
            && r.xks_proxy_uri_endpoint.as_deref() == Some(endpoint)
            && r.xks_proxy_uri_path.as_deref() == Some(path)
    });
    if taken {
        return Err(KmsError::XksProxyUriInUse(format!(
            "The XksProxyUriEndpoint {endpoint} with XksProxyUriPath {path} is already associated with an external key store in this account and Region."
        )));
    }
    Ok(())
}

impl crate::Kms {
    /// Calls the proxy's GetHealthStatus for a store about to be stored as `rec` (with
    /// `secret` in clear): the management exception of the failure, if any.
    pub(crate) fn probe_xks(
        &self,
        rec: &CustomKeyStoreRecord,
        secret: tresor_crypto::SecretBytes,
        who: Who<'_>,
    ) -> KmsResult<()> {
        let conn = self.xks_connection_with(rec, secret)?;
        conn.health(who).map_err(|f| {
            tracing::warn!(custom_key_store_id = %rec.id, "proxy health check failed: {f:?}");
            f.management_error(&rec.id)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<SecretString> {
        serde_json::from_value(serde_json::json!(v)).ok()
    }

    #[test]
    fn credentials_follow_the_model_and_are_never_echoed() {
        let good_id = "ABCDEFGHIJKLMNOPQRST234567";
        let good_secret = "a".repeat(43);
        assert!(check_credential(&s(good_id), &s(&good_secret)).is_ok());
        for (id, secret) in [
            ("ABCDEFGHIJKLMNOPQRS", good_secret.clone()),
            ("ABCDEFGHIJKLMNOPQRST1", good_secret.clone()),
            ("abcdefghijklmnopqrstu", good_secret.clone()),
            (good_id, "a".repeat(42)),
            (good_id, "a".repeat(65)),
            (good_id, format!("{}!", "a".repeat(43))),
        ] {
            let e = check_credential(&s(id), &s(&secret)).unwrap_err();
            let m = e.to_string();
            assert!(matches!(e, KmsError::Validation(_)), "{m}");
            assert!(!m.contains(id) && !m.contains(&secret), "{m}");
        }
        assert!(check_credential(&None, &s(&good_secret)).is_err());
    }

    #[test]
    fn only_public_endpoints() {
        assert!(check_connectivity("PUBLIC_ENDPOINT").is_ok());
        assert!(matches!(
            check_connectivity("VPC_ENDPOINT_SERVICE"),
            Err(KmsError::UnsupportedOperation(_))
        ));
    }
}
