//! CreateKey with `CustomKeyStoreId`: what AWS allows for keys in a custom key store
//! (SYMMETRIC_DEFAULT ENCRYPT_DECRYPT, single-Region, the store's origin), and the key's
//! generation inside the store.

use super::create_key::Request;
use crate::cache::StoreLink;
use crate::custom_key_stores::{self as cks, state, CLOUDHSM};
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
    if rec.connection_state != state::CONNECTED {
        return Err(cks::invalid_state(
            &rec,
            "keys can be created only in a CONNECTED custom key store.",
        ));
    }
    let link = kms.store_link(id)?;
    if link.hsm.as_ref().is_none_or(|c| !c.is_open()) {
        return Err(KmsError::CustomKeyStoreInvalidState(format!(
            "Custom key store {id} cannot be reached; disconnect and connect it again."
        )));
    }
    Ok(link)
}

/// Generates the key's material inside the store.
pub(super) fn generate(_call: &Call<'_>, link: &StoreLink, key_id: &str) -> KmsResult<()> {
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
