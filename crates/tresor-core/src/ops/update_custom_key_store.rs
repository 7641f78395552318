//! UpdateCustomKeyStore: a new name (any time), or — while DISCONNECTED — a new
//! KeyStorePassword or a related HSM cluster. Tresor calls a declared cluster related
//! when it is the same token (module and label) as the store's current cluster.
//!
//! An external key store takes a new name, XksProxyAuthenticationCredential or
//! XksProxyUriPath at any time, and a new XksProxyUriEndpoint or XksProxyConnectivity
//! only while DISCONNECTED. A new credential, endpoint or path is checked with the
//! proxy's GetHealthStatus before it is stored, as on AWS.

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
        if rec.store_type != CLOUDHSM {
            return update_external(call, req, rec);
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

/// UpdateCustomKeyStore of an `EXTERNAL_KEY_STORE`.
fn update_external(
    call: &mut Call<'_>,
    req: Request,
    mut rec: tresor_store::CustomKeyStoreRecord,
) -> KmsResult<Empty> {
    use crate::custom_key_stores::{external, xks};
    let kms = call.kms;
    let caller = call.caller;
    let id = rec.id.clone();
    let needs_disconnected =
        req.xks_proxy_uri_endpoint.is_some() || req.xks_proxy_connectivity.is_some();
    if needs_disconnected && rec.connection_state != state::DISCONNECTED {
        return Err(cks::invalid_state(
            &rec,
            "its XksProxyUriEndpoint and XksProxyConnectivity can change only while it is DISCONNECTED.",
        ));
    }
    if let Some(c) = &req.xks_proxy_connectivity {
        external::check_connectivity(c)?;
        rec.xks_proxy_connectivity = Some(c.clone());
    }
    if req.xks_proxy_vpc_endpoint_service_name.is_some()
        || req.xks_proxy_vpc_endpoint_service_owner.is_some()
    {
        return Err(KmsError::Validation(
            "XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner are valid only with XksProxyConnectivity VPC_ENDPOINT_SERVICE."
                .into(),
        ));
    }
    if let Some(e) = &req.xks_proxy_uri_endpoint {
        xks::check_endpoint(e)?;
        rec.xks_proxy_uri_endpoint = Some(e.clone());
    }
    if let Some(p) = &req.xks_proxy_uri_path {
        xks::check_path(p)?;
        rec.xks_proxy_uri_path = Some(p.clone());
    }
    let mut new_secret = None;
    if let Some(cred) = &req.xks_proxy_authentication_credential {
        external::check_credential(&cred.access_key_id, &cred.raw_secret_access_key)?;
        if let (Some(a), Some(s)) = (&cred.access_key_id, &cred.raw_secret_access_key) {
            rec.xks_access_key_id = Some(a.expose().to_owned());
            new_secret = Some(SecretBytes::from_slice(s.expose().as_bytes()));
        }
    }
    if let Some(name) = &req.new_custom_key_store_name {
        rec.name = name.clone();
    }
    let proxy_changed = req.xks_proxy_uri_endpoint.is_some()
        || req.xks_proxy_uri_path.is_some()
        || new_secret.is_some();
    let endpoint = rec.xks_proxy_uri_endpoint.clone().unwrap_or_default();
    let path = rec.xks_proxy_uri_path.clone().unwrap_or_default();
    if proxy_changed {
        let existing = kms
            .store
            .custom_key_stores(&caller.account, &caller.region)?;
        external::check_uri_unique(&existing, Some(&id), &endpoint, &path)?;
        let secret = match &new_secret {
            Some(s) => s.clone(),
            None => kms.store_secret(&rec)?,
        };
        kms.probe_xks(&rec, secret, call.xks_who(None))?;
    }
    let ring = kms.ring()?;
    if let Some(secret) = &new_secret {
        let (wrapped, generation) = kms.wrap_store_secret(&ring, &id, secret)?;
        rec.wrapped_secret = wrapped;
        rec.root_generation = generation;
    }
    rec.revision += 1;
    let name = rec.name.clone();
    let written = kms.write(|| {
        let existing = kms
            .store
            .custom_key_stores(&caller.account, &caller.region)?;
        external::check_uri_unique(&existing, Some(&id), &endpoint, &path)?;
        Ok((vec![Write::UpdateCustomKeyStore(rec)], ()))
    });
    drop(ring);
    written.map_err(|e| unique_error(e, &name, ""))?;
    if proxy_changed {
        // A connected store's keys call the proxy with the new settings from now on.
        kms.reset_xks_connection(&id);
    }
    Ok(Empty {})
}
