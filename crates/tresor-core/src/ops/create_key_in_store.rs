//! CreateKey with `CustomKeyStoreId`: what AWS allows for keys in a custom key store
//! (SYMMETRIC_DEFAULT ENCRYPT_DECRYPT, single-Region, the store's origin), and the key's
//! generation inside the store. A key in an external store names its external key
//! (`XksKeyId`), which the proxy's GetKeyMetadata must show as an enabled AES_256 key
//! with ENCRYPT and DECRYPT (XksKeyNotFound / XksKeyInvalidConfiguration otherwise),
//! used by no other key of the store (XksKeyAlreadyInUse).

use super::create_key::Request;
use crate::cache::StoreLink;
use crate::custom_key_stores::{self as cks, state, CLOUDHSM, EXTERNAL};
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyUsage, Origin};
use crate::pipeline::Call;

/// Checks a CreateKey into store `id` and returns the store's link.
pub(super) fn store_for_key(
    call: &Call<'_>,
    id: &str,
    spec: KeySpec,
    usage: KeyUsage,
    origin: Origin,
    req: &Request,
) -> KmsResult<StoreLink> {
    let kms = call.kms;
    let rec = kms.custom_key_store_of(&call.caller.account, &call.caller.region, id)?;
    let wanted = if rec.store_type == CLOUDHSM {
        Origin::AwsCloudHsm
    } else {
        Origin::ExternalKeyStore
    };
    if origin != wanted {
        return Err(KmsError::Validation(format!(
            "To create a KMS key in custom key store {id}, set Origin to {wanted}."
        )));
    }
    if spec != KeySpec::SymmetricDefault || usage != KeyUsage::EncryptDecrypt {
        return Err(KmsError::UnsupportedOperation(format!(
            "Keys in custom key stores must have KeySpec SYMMETRIC_DEFAULT and KeyUsage ENCRYPT_DECRYPT; {spec} {usage} is not supported."
        )));
    }
    if req.multi_region == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Multi-Region keys cannot be created in a custom key store.".into(),
        ));
    }
    if rec.store_type == CLOUDHSM && req.xks_key_id.is_some() {
        return Err(KmsError::Validation(
            "XksKeyId is valid only for keys in an external key store.".into(),
        ));
    }
    if rec.store_type == EXTERNAL && req.xks_key_id.is_none() {
        return Err(KmsError::Validation(
            "XksKeyId is required to create a KMS key in an external key store.".into(),
        ));
    }
    if rec.connection_state != state::CONNECTED {
        return Err(cks::invalid_state(
            &rec,
            "keys can be created only in a CONNECTED custom key store.",
        ));
    }
    let link = kms.store_link(id)?;
    if !link.is_connected() {
        return Err(KmsError::CustomKeyStoreInvalidState(format!(
            "Custom key store {id} cannot be reached; disconnect and connect it again."
        )));
    }
    if let (Some(xks), Some(xks_key_id)) = (&link.xks, &req.xks_key_id) {
        check_external_key(call, id, xks, xks_key_id)?;
    }
    Ok(link)
}

/// The external key must be unused in the store and, by the proxy's GetKeyMetadata, an
/// enabled AES-256 key that encrypts and decrypts.
fn check_external_key(
    call: &Call<'_>,
    store_id: &str,
    xks: &crate::custom_key_stores::XksConnection,
    xks_key_id: &str,
) -> KmsResult<()> {
    let kms = call.kms;
    let mut after: Option<String> = None;
    loop {
        let page = kms.store.list_keys(
            &call.caller.account,
            &call.caller.region,
            after.as_deref(),
            1000,
        )?;
        let used = page.iter().any(|k| {
            k.custom_key_store_id.as_deref() == Some(store_id)
                && k.xks_key_id.as_deref() == Some(xks_key_id)
        });
        if used {
            return Err(KmsError::XksKeyAlreadyInUse(format!(
                "The external key {xks_key_id} is already associated with a KMS key in custom key store {store_id}."
            )));
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.key_id.clone()),
            _ => break,
        }
    }
    match xks.check_key(xks_key_id, call.xks_who(None)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(KmsError::XksKeyInvalidConfiguration(format!(
            "The external key {xks_key_id} cannot back a KMS key: {why}. It must be an enabled AES_256 key that can ENCRYPT and DECRYPT."
        ))),
        Err(f) => Err(match f.management_error(store_id) {
            KmsError::XksKeyNotFound(_) => KmsError::XksKeyNotFound(format!(
                "The external key store proxy of {store_id} cannot find the external key {xks_key_id}."
            )),
            e => e,
        }),
    }
}

/// Generates the key's material inside an HSM store (a key in an external store has
/// Tresor's own material, generated as for any key, and its external key).
pub(super) fn generate(_call: &Call<'_>, link: &StoreLink, key_id: &str) -> KmsResult<()> {
    if link.xks.is_some() {
        return Ok(());
    }
    let hsm = link
        .hsm
        .as_ref()
        .ok_or_else(|| KmsError::internal("custom key store link without a connection"))?;
    hsm.generate_key(key_id, crate::cache::uuid_bytes(key_id)?)
}

/// The store must still exist and be CONNECTED (checked under the write lock).
pub(super) fn require_connected(call: &Call<'_>, id: &str) -> KmsResult<()> {
    let rec = call
        .kms
        .custom_key_store_of(&call.caller.account, &call.caller.region, id)?;
    if rec.connection_state != state::CONNECTED {
        return Err(cks::invalid_state(
            &rec,
            "keys can be created only in a CONNECTED custom key store.",
        ));
    }
    Ok(())
}
