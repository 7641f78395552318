//! CreateKey: a new KMS key in the caller's account and region.
//!
//! Every KeySpec/KeyUsage pair AWS offers outside China (symmetric, RSA, ECC, Ed25519,
//! ML-DSA, ML-KEM, HMAC) with AWS_KMS origin; the material is generated inside the
//! provider and stored only wrapped; EXTERNAL keys wait for imported material.
//! `MultiRegion=true` makes the primary of a multi-Region key (`mrk-` id, see
//! [`crate::multi_region`]). Custom key stores are answered with
//! `UnsupportedOperationException` until they are built. Invalid pairs are
//! `ValidationException`, as on AWS.

use super::create_key_in_store::store_for_key;
use crate::cache::{CachedKey, KeyMaterial, Material, Materials};
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage, Origin};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{validate_tags, KeyMetadata, Tag, MAX_TAGS};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_crypto::asymmetric::{HmacKey, PrivateKey};
use tresor_crypto::symmetric::SymmetricKey;
use tresor_store::{KeyRecord, MaterialRecord, TagRecord, Write};

/// CreateKey.
pub struct CreateKey;

/// CreateKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: Option<Vec<Tag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

/// CreateKey response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The new key's metadata.
    pub key_metadata: KeyMetadata,
}

/// True when AWS allows `usage` for `spec`.
pub fn usage_allowed(spec: KeySpec, usage: KeyUsage) -> bool {
    use KeySpec::*;
    use KeyUsage::*;
    match spec {
        SymmetricDefault => usage == EncryptDecrypt,
        Rsa2048 | Rsa3072 | Rsa4096 => matches!(usage, EncryptDecrypt | SignVerify),
        EccNistP256 | EccNistP384 | EccNistP521 => matches!(usage, SignVerify | KeyAgreement),
        EccSecgP256k1 | EccNistEdwards25519 | MlDsa44 | MlDsa65 | MlDsa87 => usage == SignVerify,
        Hmac224 | Hmac256 | Hmac384 | Hmac512 => usage == GenerateVerifyMac,
        Sm2 => matches!(usage, EncryptDecrypt | SignVerify | KeyAgreement),
        MlKem512 | MlKem768 | MlKem1024 => usage == EncapsulateDecapsulate,
    }
}

impl Operation for CreateKey {
    const NAME: &'static str = "CreateKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let usage = req
            .key_usage
            .as_deref()
            .map(|u| KeyUsage::parse(u, "keyUsage"))
            .transpose()?;
        let spec = req
            .key_spec
            .as_deref()
            .map(|s| KeySpec::parse(s, "keySpec"))
            .transpose()?;
        let cmk_spec = req
            .customer_master_key_spec
            .as_deref()
            .map(|s| KeySpec::parse(s, "customerMasterKeySpec"))
            .transpose()?;
        let origin = req
            .origin
            .as_deref()
            .map(|o| Origin::parse(o, "origin"))
            .transpose()?
            .unwrap_or(Origin::AwsKms);
        if spec.is_some() && cmk_spec.is_some() {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."
                    .into(),
            ));
        }
        let spec = spec.or(cmk_spec).unwrap_or(KeySpec::SymmetricDefault);
        let given_usage = usage;
        let usage = usage.unwrap_or(KeyUsage::EncryptDecrypt);
        if !usage_allowed(spec, usage) {
            // AWS's two wordings: the default usage (none, or ENCRYPT_DECRYPT) for a spec
            // that needs another, and an explicit usage the spec does not allow.
            return Err(KmsError::Validation(
                if matches!(given_usage, None | Some(KeyUsage::EncryptDecrypt)) {
                    crate::messages::KEY_USAGE_REQUIRED.into()
                } else {
                    crate::messages::key_usage_not_compatible(usage, spec)
                },
            ));
        }
        let tags = validate_tags(req.tags.as_deref().unwrap_or_default())?;
        if tags.len() > MAX_TAGS {
            return Err(KmsError::Tag(crate::messages::TOO_MANY_TAGS.into()));
        }
        let parsed_policy = req
            .policy
            .as_deref()
            .map(crate::policy::parse_key_policy)
            .transpose()?;
        call.authorize_account(
            "kms:CreateKey",
            Facts {
                key_spec: Some(spec.as_str()),
                key_usage: Some(usage.as_str()),
                key_origin: Some(origin.as_str()),
                bypass_policy_lockout_safety_check: req.bypass_policy_lockout_safety_check,
                tags: req.tags.as_deref().unwrap_or_default(),
                ..Facts::NONE
            },
        )?;
        // As AWS documents: tagging at creation also needs kms:TagResource, from an
        // identity policy that covers every key of the account and Region.
        if !tags.is_empty() {
            call.authorize_account(
                "kms:TagResource",
                Facts {
                    tags: req.tags.as_deref().unwrap_or_default(),
                    ..Facts::NONE
                },
            )
            .map_err(tag_resource_denied)?;
        }
        let multi_region = req.multi_region == Some(true);
        if multi_region && req.custom_key_store_id.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Multi-Region keys cannot be created in a custom key store.".into(),
            ));
        }
        let store = match &req.custom_key_store_id {
            Some(id) => Some(store_for_key(call, id, spec, usage, origin, &req)?),
            None => None,
        };
        if store.is_none() && req.xks_key_id.is_some() {
            return Err(KmsError::Validation(
                "XksKeyId is valid only with a CustomKeyStoreId of an external key store.".into(),
            ));
        }
        if store.is_none() && matches!(origin, Origin::AwsCloudHsm | Origin::ExternalKeyStore) {
            return Err(KmsError::Validation(format!(
                "Origin {origin} requires a CustomKeyStoreId"
            )));
        }
        let material = match origin {
            Origin::External | Origin::AwsCloudHsm => None,
            _ => Some(generate_material(spec)?),
        };
        let xks_key_id = store
            .as_ref()
            .filter(|l| l.xks.is_some())
            .and(req.xks_key_id.clone());
        let new = NewKey {
            xks_key_id,
            spec,
            usage,
            origin,
            description: req.description.unwrap_or_default(),
            policy: req.policy,
            parsed_policy,
            bypass_lockout_check: req.bypass_policy_lockout_safety_check == Some(true),
            tags,
            multi_region,
            store,
        };
        create(call, new, material)
    }
}

/// New material of `spec`, generated inside the provider.
pub(crate) fn generate_material(spec: KeySpec) -> KmsResult<KeyMaterial> {
    if spec == KeySpec::SymmetricDefault {
        return Ok(KeyMaterial::Symmetric(
            SymmetricKey::generate().map_err(KmsError::internal)?,
        ));
    }
    if let Some((alg, _)) = spec.hmac() {
        return Ok(KeyMaterial::Hmac(Box::new(HmacKey::generate(alg)?)));
    }
    match spec.asymmetric() {
        Some(asym) => Ok(KeyMaterial::Asymmetric(Box::new(PrivateKey::generate(
            asym,
        )?))),
        None => Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {spec} is only offered in the AWS China Regions and is not supported by Tresor"
        ))),
    }
}

/// The policy of a new key (CreateKey, ReplicateKey) before the lockout check.
pub(crate) struct NewKeyPolicy {
    /// The document given, if any.
    pub text: Option<String>,
    /// It, parsed.
    pub parsed: Option<tresor_policy::Policy>,
    /// BypassPolicyLockoutSafetyCheck.
    pub bypass_lockout_check: bool,
}

impl NewKeyPolicy {
    /// The policy to store for the key `arn` (`None`: the account's default), after
    /// AWS's lockout safety check unless bypassed.
    pub(crate) fn checked(self, call: &Call<'_>, arn: &str) -> KmsResult<Option<String>> {
        match (self.text, self.parsed) {
            (Some(text), Some(parsed)) => {
                if !self.bypass_lockout_check {
                    super::put_key_policy::check_lockout(call, &parsed, arn, &call.caller.account)?;
                }
                Ok(Some(text))
            }
            _ => Ok(None),
        }
    }
}

/// What a new key is, apart from its material.
struct NewKey {
    spec: KeySpec,
    usage: KeyUsage,
    origin: Origin,
    description: String,
    policy: Option<String>,
    parsed_policy: Option<tresor_policy::Policy>,
    bypass_lockout_check: bool,
    tags: Vec<(String, String)>,
    multi_region: bool,
    /// The custom key store the key is made in (its material is generated there).
    store: Option<crate::cache::StoreLink>,
    /// XksKeyId: the external key of a key in an external key store.
    xks_key_id: Option<String>,
}

/// Stores a new key; without `material` (EXTERNAL origin) it waits in PendingImport.
fn create(call: &mut Call<'_>, new: NewKey, material: Option<KeyMaterial>) -> KmsResult<Response> {
    let NewKey {
        spec,
        usage,
        origin,
        description,
        policy,
        parsed_policy,
        bypass_lockout_check,
        tags,
        multi_region,
        store,
        xks_key_id,
    } = new;
    let kms = call.kms;
    let now = call.now_ms();
    let public_id = if multi_region {
        let mut id = [0u8; 16];
        tresor_crypto::random::fill(&mut id).map_err(KmsError::internal)?;
        format!("mrk-{}", hex::encode(id))
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    let key_id = crate::ids::storage_id(&public_id, &call.caller.region);
    // No policy given: the account's default policy, stored as "none".
    let policy = NewKeyPolicy {
        text: policy,
        parsed: parsed_policy,
        bypass_lockout_check,
    }
    .checked(
        call,
        &crate::ids::key_arn(&call.caller.region, &call.caller.account, &public_id),
    )?;
    let public_key = match &material {
        Some(KeyMaterial::Asymmetric(k)) => Some(k.public_key()?.spki().to_vec()),
        _ => None,
    };
    let state = if material.is_some() || store.is_some() {
        KeyState::Enabled
    } else {
        KeyState::PendingImport
    };
    let record = KeyRecord {
        key_id: key_id.clone(),
        account: call.caller.account.clone(),
        region: call.caller.region.clone(),
        created_ms: now,
        description,
        key_spec: spec.as_str().into(),
        key_usage: usage.as_str().into(),
        origin: origin.as_str().into(),
        key_state: state.as_str().into(),
        deletion_ms: None,
        pending_window_days: None,
        current_version: 1,
        policy,
        revision: 1,
        public_key,
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_ms: None,
        on_demand_rotations: 0,
        valid_to_ms: None,
        expiration_model: None,
        imported_material_id: None,
        primary_region: multi_region.then(|| call.caller.region.clone()),
        custom_key_store_id: store.as_ref().map(|s| s.store_id.clone()),
        xks_key_id,
    };
    let arn = crate::ids::key_arn(&record.region, &record.account, &public_id);
    let mut id_bytes = [0u8; 32];
    tresor_crypto::random::fill(&mut id_bytes).map_err(KmsError::internal)?;
    let material_id = hex::encode(id_bytes);
    let mut writes = vec![Write::InsertKey(record.clone())];
    // A new key has no tags to replace: nothing to write without any.
    if !tags.is_empty() {
        writes.push(Write::SetTags {
            key_id: key_id.clone(),
            tags: tags
                .into_iter()
                .map(|(key, value)| TagRecord { key, value })
                .collect(),
        });
    }
    let mut materials = Vec::new();
    // Held until the material is written and cached (a root rotation waits for it).
    let ring = kms.ring()?;
    if let Some(material) = material {
        let (wrapped, root_generation) = crate::Kms::wrap_material(&ring, &arn, 1, &material)?;
        writes.push(Write::InsertMaterial(MaterialRecord {
            key_id: key_id.clone(),
            version: 1,
            material_id: material_id.clone(),
            wrapped,
            created_ms: now,
            rotation_type: None,
            root_generation,
            description: None,
            valid_to_ms: None,
            expiration_model: None,
        }));
        materials.push((
            1,
            Material {
                material_id: material_id.as_str().into(),
                key: material,
            },
        ));
    }
    let mut materials = Materials::new(materials);
    if let Some(link) = store {
        super::create_key_in_store::generate(call, &link, &key_id)?;
        // Under the write lock: the store must still be connected as the key is stored.
        let store_id = link.store_id.clone();
        kms.write(|| {
            super::create_key_in_store::require_connected(call, &store_id)?;
            Ok((writes, ()))
        })?;
        materials = materials.in_custom_key_store(link);
    } else {
        // Nothing to check under the write lock: concurrent CreateKeys share one commit.
        kms.store.apply(writes)?;
    }
    let policy = kms.key_policy(&record)?;
    let cached = Arc::new(CachedKey::new(record, Arc::new(materials), policy)?);
    let mut metadata = kms.key_metadata(&cached)?;
    if let Some(primary) = cached.rare().primary_region.as_deref() {
        let record = cached.to_record();
        metadata.multi_region_configuration = Some(crate::multi_region::configuration_of(
            &record,
            primary,
            std::slice::from_ref(&record),
        ));
    }

    call.created(&cached.arn);
    kms.cache_key(cached);
    drop(ring);
    Ok(Response {
        key_metadata: metadata,
    })
}

/// The AccessDenied AWS answers for Tags without kms:TagResource at key creation (other
/// errors pass through).
pub(crate) fn tag_resource_denied(e: KmsError) -> KmsError {
    match e {
        KmsError::AccessDenied(_) => {
            KmsError::AccessDenied(crate::messages::TAG_RESOURCE_AT_CREATION.into())
        }
        other => other,
    }
}
