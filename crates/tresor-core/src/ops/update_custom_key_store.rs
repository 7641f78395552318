//! UpdateCustomKeyStore: a new name (any time), or — while DISCONNECTED — a new
//! KeyStorePassword or a related HSM cluster. Tresor calls a declared cluster related
//! when it is the same token (module and label) as the store's current cluster.

use super::create_custom_key_store::{unique_error, XksCredential};
use super::Empty;
use crate::admin::SecretString;
use crate::custom_key_stores::{self as cks, state, CLOUDHSM};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_crypto::SecretBytes;
use tresor_store::Write;

/// UpdateCustomKeyStore.
pub struct UpdateCustomKeyStore;

/// UpdateCustomKeyStore request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_id: Option<String>,
    pub new_custom_key_store_name: Option<String>,
    pub key_store_password: Option<SecretString>,
    pub cloud_hsm_cluster_id: Option<String>,
    pub xks_proxy_uri_endpoint: Option<String>,
    pub xks_proxy_uri_path: Option<String>,
    pub xks_proxy_vpc_endpoint_service_name: Option<String>,
    /// XksProxyVpcEndpointServiceOwner (EXTERNAL_KEY_STORE only, which is refused).
    pub xks_proxy_vpc_endpoint_service_owner: Option<String>,
    pub xks_proxy_authentication_credential: Option<XksCredential>,
    pub xks_proxy_connectivity: Option<String>,
}

impl Operation for UpdateCustomKeyStore {
    const NAME: &'static str = "UpdateCustomKeyStore";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let id = req.custom_key_store_id.clone().unwrap_or_default();
        call.authorize_account("kms:UpdateCustomKeyStore", Facts::NONE)?;
        let kms = call.kms;
        let caller = call.caller;
        let mut rec = kms.custom_key_store_of(&caller.account, &caller.region, &id)?;
        let xks_member = req.xks_proxy_uri_endpoint.is_some()
            || req.xks_proxy_uri_path.is_some()
            || req.xks_proxy_vpc_endpoint_service_name.is_some()
            || req.xks_proxy_vpc_endpoint_service_owner.is_some()
            || req.xks_proxy_authentication_credential.is_some()
            || req.xks_proxy_connectivity.is_some();
        if rec.store_type == CLOUDHSM && xks_member {
            return Err(KmsError::Validation(
                "The XksProxy* parameters are valid only for custom key stores of type EXTERNAL_KEY_STORE."
                    .into(),
            ));
        }
        if rec.store_type != CLOUDHSM
            && (req.key_store_password.is_some() || req.cloud_hsm_cluster_id.is_some())
        {
            return Err(KmsError::Validation(
                "KeyStorePassword and CloudHsmClusterId are valid only for custom key stores of type AWS_CLOUDHSM."
                    .into(),
            ));
        }
        let changes_more_than_name =
            req.key_store_password.is_some() || req.cloud_hsm_cluster_id.is_some() || xks_member;
        if changes_more_than_name && rec.connection_state != state::DISCONNECTED {
            return Err(cks::invalid_state(
                &rec,
                "only its name can change unless it is DISCONNECTED.",
            ));
        }
        if let Some(new_cluster) = &req.cloud_hsm_cluster_id {
            check_related(kms, rec.cloud_hsm_cluster_id.as_deref(), new_cluster)?;
            rec.cloud_hsm_cluster_id = Some(new_cluster.clone());
        }
        if let Some(name) = &req.new_custom_key_store_name {
            rec.name = name.clone();
        }
        let ring = kms.ring()?;
        if let Some(password) = &req.key_store_password {
            let (wrapped, generation) = kms.wrap_store_secret(
                &ring,
                &id,
                &SecretBytes::from_slice(password.expose().as_bytes()),
            )?;
            rec.wrapped_secret = wrapped;
            rec.root_generation = generation;
        }
        rec.revision += 1;
        let name = rec.name.clone();
        let cluster = rec.cloud_hsm_cluster_id.clone().unwrap_or_default();
        let written = kms.write(|| Ok((vec![Write::UpdateCustomKeyStore(rec)], ())));
        drop(ring);
        written.map_err(|e| unique_error(e, &name, &cluster))?;
        Ok(Empty {})
    }
}

/// A new cluster must be declared and be the same token as the current one.
fn check_related(kms: &crate::Kms, current: Option<&str>, new: &str) -> KmsResult<()> {
    let registry = kms.custom_key_stores();
    let Some(new_cluster) = registry.cluster(new) else {
        return Err(KmsError::CloudHsmClusterNotFound(format!(
            "AWS CloudHSM cluster {new} does not exist."
        )));
    };
    let related = current
        .and_then(|c| registry.cluster(c))
        .is_none_or(|c| c.module == new_cluster.module && c.token_label == new_cluster.token_label);
    if current == Some(new) || related {
        return Ok(());
    }
    Err(KmsError::CloudHsmClusterNotRelated(format!(
        "AWS CloudHSM cluster {new} is not related to the cluster the custom key store was created with."
    )))
}
