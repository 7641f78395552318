//! One module per API operation, each with its wire types and its behaviour.

use crate::pipeline::{entry, OperationEntry};

pub mod cancel_key_deletion;
pub mod connect_custom_key_store;
pub mod create_alias;
pub mod create_custom_key_store;
pub mod create_grant;
pub mod create_key;
mod create_key_in_store;
pub mod decapsulate;
pub mod decrypt;
pub mod delete_alias;
pub mod delete_custom_key_store;
pub mod delete_imported_key_material;
pub mod derive_shared_secret;
pub mod describe_custom_key_stores;
pub mod describe_key;
pub mod disable_key;
pub mod disable_key_rotation;
pub mod disconnect_custom_key_store;
pub mod enable_key;
pub mod enable_key_rotation;
pub mod encapsulate;
pub mod encrypt;
mod envelope;
mod envelope_xks;
pub mod generate_data_key;
pub mod generate_data_key_pair;
pub mod generate_data_key_pair_without_plaintext;
pub mod generate_data_key_without_plaintext;
pub mod generate_mac;
pub mod generate_random;
pub mod get_key_last_usage;
pub mod get_key_policy;
pub mod get_key_rotation_status;
pub mod get_parameters_for_import;
pub mod get_public_key;
pub mod import_key_material;
pub mod list_aliases;
pub mod list_grants;
pub mod list_key_policies;
pub mod list_key_rotations;
pub mod list_keys;
pub mod list_resource_tags;
pub mod list_retirable_grants;
pub mod put_key_policy;
pub mod re_encrypt;
pub mod replicate_key;
pub mod retire_grant;
pub mod revoke_grant;
pub mod rotate_key_on_demand;
pub mod schedule_key_deletion;
pub mod sign;
pub mod tag_resource;
pub mod untag_resource;
pub mod update_alias;
pub mod update_custom_key_store;
pub mod update_key_description;
pub mod update_primary_region;
pub mod verify;
pub mod verify_mac;

/// Every operation Tresor answers.
pub static ALL: &[OperationEntry] = &[
    entry::<create_grant::CreateGrant>(),
    entry::<get_key_policy::GetKeyPolicy>(),
    entry::<list_grants::ListGrants>(),
    entry::<list_key_policies::ListKeyPolicies>(),
    entry::<list_retirable_grants::ListRetirableGrants>(),
    entry::<put_key_policy::PutKeyPolicy>(),
    entry::<retire_grant::RetireGrant>(),
    entry::<revoke_grant::RevokeGrant>(),
    entry::<delete_imported_key_material::DeleteImportedKeyMaterial>(),
    entry::<get_parameters_for_import::GetParametersForImport>(),
    entry::<import_key_material::ImportKeyMaterial>(),
    entry::<disable_key_rotation::DisableKeyRotation>(),
    entry::<enable_key_rotation::EnableKeyRotation>(),
    entry::<get_key_rotation_status::GetKeyRotationStatus>(),
    entry::<list_key_rotations::ListKeyRotations>(),
    entry::<rotate_key_on_demand::RotateKeyOnDemand>(),
    entry::<decapsulate::Decapsulate>(),
    entry::<derive_shared_secret::DeriveSharedSecret>(),
    entry::<encapsulate::Encapsulate>(),
    entry::<generate_data_key_pair::GenerateDataKeyPair>(),
    entry::<generate_data_key_pair_without_plaintext::GenerateDataKeyPairWithoutPlaintext>(),
    entry::<generate_mac::GenerateMac>(),
    entry::<get_public_key::GetPublicKey>(),
    entry::<sign::Sign>(),
    entry::<verify::Verify>(),
    entry::<verify_mac::VerifyMac>(),
    entry::<cancel_key_deletion::CancelKeyDeletion>(),
    entry::<create_alias::CreateAlias>(),
    entry::<create_key::CreateKey>(),
    entry::<decrypt::Decrypt>(),
    entry::<delete_alias::DeleteAlias>(),
    entry::<describe_key::DescribeKey>(),
    entry::<get_key_last_usage::GetKeyLastUsage>(),
    entry::<disable_key::DisableKey>(),
    entry::<enable_key::EnableKey>(),
    entry::<encrypt::Encrypt>(),
    entry::<generate_data_key::GenerateDataKey>(),
    entry::<generate_data_key_without_plaintext::GenerateDataKeyWithoutPlaintext>(),
    entry::<generate_random::GenerateRandom>(),
    entry::<list_aliases::ListAliases>(),
    entry::<list_keys::ListKeys>(),
    entry::<list_resource_tags::ListResourceTags>(),
    entry::<re_encrypt::ReEncrypt>(),
    entry::<schedule_key_deletion::ScheduleKeyDeletion>(),
    entry::<tag_resource::TagResource>(),
    entry::<untag_resource::UntagResource>(),
    entry::<update_alias::UpdateAlias>(),
    entry::<update_key_description::UpdateKeyDescription>(),
    entry::<replicate_key::ReplicateKey>(),
    entry::<update_primary_region::UpdatePrimaryRegion>(),
    entry::<connect_custom_key_store::ConnectCustomKeyStore>(),
    entry::<create_custom_key_store::CreateCustomKeyStore>(),
    entry::<delete_custom_key_store::DeleteCustomKeyStore>(),
    entry::<describe_custom_key_stores::DescribeCustomKeyStores>(),
    entry::<disconnect_custom_key_store::DisconnectCustomKeyStore>(),
    entry::<update_custom_key_store::UpdateCustomKeyStore>(),
];

/// Response of operations without output: `{}`.
#[derive(Debug, serde::Serialize)]
pub struct Empty {}

/// A required `KeyId` member (the model's constraints, checked before the operation
/// ran, guarantee it is present).
pub(crate) fn key_id_member<'a>(
    field: &str,
    value: &'a Option<String>,
) -> crate::KmsResult<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| crate::KmsError::internal(format!("required member {field} missing")))
}
