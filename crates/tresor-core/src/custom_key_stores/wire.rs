//! The wire form of a custom key store (DescribeCustomKeyStores' list entry) and the
//! checks of members shared by Create and Update.

use super::{state, CLOUDHSM};
use crate::error::{KmsError, KmsResult};
use crate::wire::Timestamp;
use serde::Serialize;
use tresor_store::CustomKeyStoreRecord;

/// One entry of DescribeCustomKeyStores.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CustomKeyStoreEntry {
    pub custom_key_store_id: String,
    pub custom_key_store_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_anchor_certificate: Option<String>,
    pub connection_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_error_code: Option<String>,
    pub creation_date: Timestamp,
    pub custom_key_store_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xks_proxy_configuration: Option<XksProxyConfiguration>,
}

/// XksProxyConfiguration of an external key store (never the secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct XksProxyConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectivity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_service_name: Option<String>,
}

impl CustomKeyStoreEntry {
    /// The entry of a stored record.
    pub fn from_record(r: &CustomKeyStoreRecord) -> Self {
        let xks = (r.store_type != CLOUDHSM).then(|| XksProxyConfiguration {
            connectivity: r.xks_proxy_connectivity.clone(),
            access_key_id: r.xks_access_key_id.clone(),
            uri_endpoint: r.xks_proxy_uri_endpoint.clone(),
            uri_path: r.xks_proxy_uri_path.clone(),
            vpc_endpoint_service_name: r.xks_proxy_vpc_endpoint_service_name.clone(),
        });
        Self {
            custom_key_store_id: r.id.clone(),
            custom_key_store_name: r.name.clone(),
            cloud_hsm_cluster_id: r.cloud_hsm_cluster_id.clone(),
            trust_anchor_certificate: r.trust_anchor_certificate.clone(),
            connection_state: r.connection_state.clone(),
            connection_error_code: r
                .connection_error_code
                .clone()
                .filter(|_| r.connection_state == state::FAILED),
            creation_date: Timestamp(r.created_ms),
            custom_key_store_type: r.store_type.clone(),
            xks_proxy_configuration: xks,
        }
    }
}

/// A TrustAnchorCertificate must be one PEM `CERTIFICATE` holding an X.509 certificate.
pub fn check_trust_anchor(pem: &str) -> KmsResult<()> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let bad = || {
        KmsError::IncorrectTrustAnchor(
            "The TrustAnchorCertificate is not a valid PEM-encoded X.509 certificate.".into(),
        )
    };
    let mut certs = CertificateDer::pem_slice_iter(pem.as_bytes());
    let cert = certs.next().ok_or_else(bad)?.map_err(|_| bad())?;
    if certs.next().is_some() {
        return Err(bad());
    }
    webpki::EndEntityCert::try_from(&cert).map_err(|_| bad())?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trust_anchor_must_be_one_certificate() {
        assert!(check_trust_anchor("").is_err());
        assert!(check_trust_anchor("not a pem").is_err());
        let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(check_trust_anchor(junk).is_err());
    }

    #[test]
    fn cluster_ids_follow_aws() {
        assert!(super::super::valid_cluster_id("cluster-abcdefgh234"));
        assert!(super::super::valid_cluster_id("cluster-abcdefgh234567ab"));
        assert!(!super::super::valid_cluster_id("cluster-abcdefgh23"));
        assert!(!super::super::valid_cluster_id("cluster-ABCDEFGH234"));
        assert!(!super::super::valid_cluster_id("cluster-abcdefgh189"));
        assert!(!super::super::valid_cluster_id("clustr-abcdefgh234"));
    }
}
