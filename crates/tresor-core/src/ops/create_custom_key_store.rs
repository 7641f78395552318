//! CreateCustomKeyStore: a new custom key store, DISCONNECTED until connected.
//!
//! `AWS_CLOUDHSM` (the default type) names an HSM cluster the operator declared with
//! `--hsm-cluster`, the token user's PIN as `KeyStorePassword` (stored wrapped under the
//! root key) and the cluster's `TrustAnchorCertificate` (a PEM X.509 certificate, kept
//! for DescribeCustomKeyStores). A cluster serves one store only.
//!
//! `EXTERNAL_KEY_STORE` names an XKS proxy: `XksProxyConnectivity` (PUBLIC_ENDPOINT;
//! VPC_ENDPOINT_SERVICE is UnsupportedOperationException), `XksProxyUriEndpoint`
//! (`https://`, or `http://` to a loopback host), `XksProxyUriPath` and the
//! `XksProxyAuthenticationCredential` (its secret stored wrapped under the root key).
//! The endpoint and path are unique per account and region (XksProxyUriInUse). As on
//! AWS, the proxy's GetHealthStatus is called first: a proxy that cannot be reached,
//! refuses the credential or answers wrongly fails the call (XksProxy*Exception).
//!
//! Names are unique per account and region; at most ten stores per account and region.

use crate::admin::SecretString;
use crate::custom_key_stores::{self as cks, state, CLOUDHSM, EXTERNAL, MAX_STORES};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};
use tresor_crypto::SecretBytes;
use tresor_store::{CustomKeyStoreRecord, StoreError, Write};

/// CreateCustomKeyStore.
pub struct CreateCustomKeyStore;

/// XksProxyAuthenticationCredential.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct XksCredential {
    pub access_key_id: Option<SecretString>,
    pub raw_secret_access_key: Option<SecretString>,
}

/// CreateCustomKeyStore request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_name: Option<String>,
    pub cloud_hsm_cluster_id: Option<String>,
    pub trust_anchor_certificate: Option<String>,
    pub key_store_password: Option<SecretString>,
    pub custom_key_store_type: Option<String>,
    pub xks_proxy_uri_endpoint: Option<String>,
    pub xks_proxy_uri_path: Option<String>,
    pub xks_proxy_vpc_endpoint_service_name: Option<String>,
    /// XksProxyVpcEndpointServiceOwner (EXTERNAL_KEY_STORE only, which is refused).
    pub xks_proxy_vpc_endpoint_service_owner: Option<String>,
    pub xks_proxy_authentication_credential: Option<XksCredential>,
    pub xks_proxy_connectivity: Option<String>,
}

/// CreateCustomKeyStore response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The new store's id.
    pub custom_key_store_id: String,
}

impl Operation for CreateCustomKeyStore {
    const NAME: &'static str = "CreateCustomKeyStore";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let store_type = req.custom_key_store_type.as_deref().unwrap_or(CLOUDHSM);
        call.authorize_account("kms:CreateCustomKeyStore", Facts::NONE)?;
        if store_type == EXTERNAL {
            return create_external(call, req);
        }
        create_cloudhsm(call, req)
    }
}

fn create_cloudhsm(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
    let xks_member = req.xks_proxy_uri_endpoint.is_some()
        || req.xks_proxy_uri_path.is_some()
        || req.xks_proxy_vpc_endpoint_service_name.is_some()
        || req.xks_proxy_vpc_endpoint_service_owner.is_some()
        || req.xks_proxy_authentication_credential.is_some()
        || req.xks_proxy_connectivity.is_some();
    if xks_member {
        return Err(KmsError::Validation(
            "The XksProxy* parameters are valid only for custom key stores of type EXTERNAL_KEY_STORE."
                .into(),
        ));
    }
    let (Some(cluster_id), Some(anchor), Some(password)) = (
        req.cloud_hsm_cluster_id.as_deref(),
        req.trust_anchor_certificate.as_deref(),
        req.key_store_password.as_ref(),
    ) else {
        return Err(KmsError::Validation(
            "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for a custom key store of type AWS_CLOUDHSM."
                .into(),
        ));
    };
    let kms = call.kms;
    if kms.custom_key_stores().cluster(cluster_id).is_none() {
        return Err(KmsError::CloudHsmClusterNotFound(format!(
            "AWS CloudHSM cluster {cluster_id} does not exist."
        )));
    }
    cks::check_trust_anchor(anchor)?;
    let name = req.custom_key_store_name.unwrap_or_default();
    let caller = call.caller;
    let id = cks::new_store_id()?;
    let ring = kms.ring()?;
    let (wrapped_secret, root_generation) = kms.wrap_store_secret(
        &ring,
        &id,
        &SecretBytes::from_slice(password.expose().as_bytes()),
    )?;
    let record = CustomKeyStoreRecord {
        id: id.clone(),
        account: caller.account.clone(),
        region: caller.region.clone(),
        name: name.clone(),
        store_type: CLOUDHSM.into(),
        connection_state: state::DISCONNECTED.into(),
        connection_error_code: None,
        created_ms: call.now_ms(),
        cloud_hsm_cluster_id: Some(cluster_id.to_owned()),
        trust_anchor_certificate: Some(anchor.to_owned()),
        xks_proxy_uri_endpoint: None,
        xks_proxy_uri_path: None,
        xks_proxy_vpc_endpoint_service_name: None,
        xks_proxy_connectivity: None,
        xks_access_key_id: None,
        wrapped_secret,
        root_generation,
        revision: 1,
    };
    let written = kms.write(|| {
        let existing = kms
            .store
            .custom_key_stores(&caller.account, &caller.region)?;
        check_new_store(&existing, &name)?;
        Ok((vec![Write::InsertCustomKeyStore(record)], ()))
    });
    drop(ring);
    written.map_err(|e| unique_error(e, &name, cluster_id))?;
    Ok(Response {
        custom_key_store_id: id,
    })
}

fn create_external(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
    use crate::custom_key_stores::{external, xks};
    if req.cloud_hsm_cluster_id.is_some()
        || req.trust_anchor_certificate.is_some()
        || req.key_store_password.is_some()
    {
        return Err(KmsError::Validation(
            "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are valid only for custom key stores of type AWS_CLOUDHSM."
                .into(),
        ));
    }
    let (Some(connectivity), Some(endpoint), Some(path), Some(credential)) = (
        req.xks_proxy_connectivity.as_deref(),
        req.xks_proxy_uri_endpoint.as_deref(),
        req.xks_proxy_uri_path.as_deref(),
        req.xks_proxy_authentication_credential.as_ref(),
    ) else {
        return Err(KmsError::Validation(
            "XksProxyConnectivity, XksProxyUriEndpoint, XksProxyUriPath and XksProxyAuthenticationCredential are required for a custom key store of type EXTERNAL_KEY_STORE."
                .into(),
        ));
    };
    external::check_credential(&credential.access_key_id, &credential.raw_secret_access_key)?;
    xks::check_endpoint(endpoint)?;
    xks::check_path(path)?;
    external::check_connectivity(connectivity)?;
    if req.xks_proxy_vpc_endpoint_service_name.is_some()
        || req.xks_proxy_vpc_endpoint_service_owner.is_some()
    {
        return Err(KmsError::Validation(
            "XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner are valid only with XksProxyConnectivity VPC_ENDPOINT_SERVICE."
                .into(),
        ));
    }
    let (Some(access_key_id), Some(secret)) = (
        credential.access_key_id.as_ref(),
        credential.raw_secret_access_key.as_ref(),
    ) else {
        return Err(KmsError::internal("checked credential members are missing"));
    };
    let kms = call.kms;
    let caller = call.caller;
    let name = req.custom_key_store_name.clone().unwrap_or_default();
    let id = cks::new_store_id()?;
    let secret = SecretBytes::from_slice(secret.expose().as_bytes());
    let mut record = CustomKeyStoreRecord {
        id: id.clone(),
        account: caller.account.clone(),
        region: caller.region.clone(),
        name: name.clone(),
        store_type: EXTERNAL.into(),
        connection_state: state::DISCONNECTED.into(),
        connection_error_code: None,
        created_ms: call.now_ms(),
        cloud_hsm_cluster_id: None,
        trust_anchor_certificate: None,
        xks_proxy_uri_endpoint: Some(endpoint.to_owned()),
        xks_proxy_uri_path: Some(path.to_owned()),
        xks_proxy_vpc_endpoint_service_name: None,
        xks_proxy_connectivity: Some(connectivity.to_owned()),
        xks_access_key_id: Some(access_key_id.expose().to_owned()),
        wrapped_secret: Vec::new(),
        root_generation: 0,
        revision: 1,
    };
    // Cheap checks first, then the proxy, then the checks again under the write lock.
    let existing = kms
        .store
        .custom_key_stores(&caller.account, &caller.region)?;
    check_new_store(&existing, &name)?;
    external::check_uri_unique(&existing, None, endpoint, path)?;
    kms.probe_xks(&record, secret.clone(), call.xks_who(None))?;
    let ring = kms.ring()?;
    let (wrapped_secret, root_generation) = kms.wrap_store_secret(&ring, &id, &secret)?;
    record.wrapped_secret = wrapped_secret;
    record.root_generation = root_generation;
    let written = kms.write(|| {
        let existing = kms
            .store
            .custom_key_stores(&caller.account, &caller.region)?;
        check_new_store(&existing, &name)?;
        external::check_uri_unique(&existing, None, endpoint, path)?;
        Ok((vec![Write::InsertCustomKeyStore(record)], ()))
    });
    drop(ring);
    written.map_err(|e| unique_error(e, &name, ""))?;
    Ok(Response {
        custom_key_store_id: id,
    })
}

/// The API error of a custom key store write that broke a uniqueness rule.
pub(crate) fn unique_error(e: KmsError, name: &str, cluster_id: &str) -> KmsError {
    let duplicate = |what: &str| matches!(&e, KmsError::Internal(d) if *d == format!("store: {}", StoreError::Duplicate(what.into())));
    if duplicate(tresor_store::DUPLICATE_STORE_NAME) {
        name_in_use(name)
    } else if duplicate(tresor_store::DUPLICATE_CLUSTER) {
        KmsError::CloudHsmClusterInUse(format!(
            "AWS CloudHSM cluster {cluster_id} is already associated with a custom key store."
        ))
    } else {
        e
    }
}

/// `CustomKeyStoreNameInUseException`.
pub(crate) fn name_in_use(name: &str) -> KmsError {
    KmsError::CustomKeyStoreNameInUse(format!(
        "A custom key store with name '{name}' already exists in this account and Region."
    ))
}

fn check_new_store(existing: &[CustomKeyStoreRecord], name: &str) -> KmsResult<()> {
    if existing.iter().any(|c| c.name == name) {
        return Err(name_in_use(name));
    }
    if existing.len() >= MAX_STORES {
        return Err(KmsError::LimitExceeded(format!(
            "An account can have at most {MAX_STORES} custom key stores in a Region."
        )));
    }
    Ok(())
}
