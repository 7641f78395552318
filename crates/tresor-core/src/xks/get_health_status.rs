//! XKS GetHealthStatus (`POST …/health`): whether this Tresor can serve the other
//! calls now. Deep, as the specification asks: the store answers, the audit log can
//! take records, and an AES-GCM round trip under a throw-away key succeeds (no KMS
//! key is used, so no key shows activity it did not have). Any authenticated XKS
//! credential may ask (the specification excludes it from authorization).

use super::{check_metadata, RequestMetadata, Required};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use serde::{Deserialize, Serialize};
use tresor_crypto::symmetric::SymmetricKey;

/// XKS GetHealthStatus.
pub struct XksGetHealthStatus;

/// The request body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Request {
    pub request_metadata: Option<RequestMetadata>,
}

/// One external key manager of the fleet.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct EkmFleetDetails {
    pub id: String,
    pub model: String,
    pub health_status: &'static str,
}

/// The response body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Response {
    pub xks_proxy_fleet_size: u32,
    pub xks_proxy_vendor: &'static str,
    pub xks_proxy_model: String,
    pub ekm_vendor: &'static str,
    pub ekm_fleet_details: Vec<EkmFleetDetails>,
}

impl Operation for XksGetHealthStatus {
    const NAME: &'static str = "XksGetHealthStatus";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        check_metadata(
            &req.request_metadata,
            Required {
                principal: false,
                key_arn: false,
            },
        )?;
        call.authorize_by_rule("XKS GetHealthStatus: any authenticated XKS credential");
        let healthy =
            call.kms.key_count().is_ok() && call.kms.audit_health().is_ok() && self_test().is_ok();
        let version = env!("CARGO_PKG_VERSION");
        Ok(Response {
            xks_proxy_fleet_size: 1,
            xks_proxy_vendor: "Tresor",
            xks_proxy_model: format!("Tresor XKS proxy {version}"),
            ekm_vendor: "Tresor",
            ekm_fleet_details: vec![EkmFleetDetails {
                id: "tresor".into(),
                model: format!("Tresor {version} (software keys, aws-lc-rs)"),
                health_status: if healthy { "ACTIVE" } else { "UNAVAILABLE" },
            }],
        })
    }
}

/// An AES-GCM round trip under a fresh key.
fn self_test() -> KmsResult<()> {
    let key = SymmetricKey::generate().map_err(KmsError::internal)?;
    let iv = [0u8; super::IV_LEN];
    let sealed = key
        .seal_with_iv(iv, b"health", b"", b"ping")
        .map_err(KmsError::internal)?;
    let opened = key
        .open_with_iv(iv, b"health", b"", &sealed)
        .map_err(KmsError::internal)?;
    if opened.expose() == b"ping" {
        Ok(())
    } else {
        Err(KmsError::internal("AES-GCM self-test failed"))
    }
}
