//! Shapes shared by several operations: blobs, timestamps, KeyMetadata, tags, contexts.

use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage};
use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use tresor_crypto::SecretBytes;
use tresor_store::KeyRecord;

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A non-secret blob member (ciphertexts), base64 on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        B64.decode(s.as_bytes())
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("Invalid base64 in blob member"))
    }
}

/// A secret blob member (plaintexts, data keys): base64 on the wire, zeroized in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretBlob(pub SecretBytes);

impl Serialize for SecretBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let encoded = zeroize::Zeroizing::new(B64.encode(self.0.expose()));
        s.serialize_str(&encoded)
    }
}

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        B64.decode(s.as_bytes())
            .map(|v| SecretBlob(SecretBytes::new(v)))
            .map_err(|_| serde::de::Error::custom("Invalid base64 in blob member"))
    }
}

/// The `Recipient` member (Nitro Enclaves attestation). Tresor refuses it, but decodes
/// it first so a malformed one is a `SerializationException` as in AWS.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RecipientInfo {
    pub key_encryption_algorithm: Option<String>,
    pub attestation_document: Option<Blob>,
}

/// A timestamp, epoch seconds on the wire (fractional, millisecond precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[allow(clippy::cast_precision_loss)]
        s.serialize_f64(self.0 as f64 / 1000.0)
    }
}

/// The encryption context: non-secret AAD, compared exactly (case-sensitive, order-free).
pub type EncryptionContext = BTreeMap<String, String>;

/// The canonical bytes of an encryption context, as bound into ciphertexts.
pub fn canonical_context(ctx: Option<&EncryptionContext>) -> Vec<u8> {
    match ctx {
        Some(c) => {
            tresor_crypto::blob::canonical_context(c.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        }
        None => tresor_crypto::blob::canonical_context(std::iter::empty()),
    }
}

/// A tag on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub tag_key: Option<String>,
    /// Tag value.
    pub tag_value: Option<String>,
}

/// Maximum number of tags on one key.
pub const MAX_TAGS: usize = 50;

/// Checks a tag list (reserved prefix, duplicates; the model's constraints already
/// hold) and returns the pairs.
pub fn validate_tags(tags: &[Tag]) -> KmsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(tags.len());
    for t in tags {
        let (Some(k), Some(val)) = (&t.tag_key, &t.tag_value) else {
            continue;
        };
        // `aws:` is reserved in any letter case (`AWS:`, `Aws:`).
        if k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(KmsError::Tag(crate::messages::RESERVED_TAG_PREFIX.into()));
        }
        if out.iter().any(|(existing, _)| existing == k) {
            return Err(KmsError::Tag(crate::messages::DUPLICATE_TAG_KEYS.into()));
        }
        out.push((k.clone(), val.clone()));
    }
    Ok(out)
}

/// `KeyMetadata` as DescribeKey and CreateKey return it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    pub creation_date: Timestamp,
    pub enabled: bool,
    pub description: String,
    pub key_usage: &'static str,
    pub key_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    pub key_manager: &'static str,
    pub customer_master_key_spec: &'static str,
    pub key_spec: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<&'static str>>,
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<crate::multi_region::MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xks_key_configuration: Option<XksKeyConfiguration>,
}

/// XksKeyConfiguration of a key in an external key store.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksKeyConfiguration {
    /// The external key's id at the proxy.
    pub id: String,
}

impl KeyMetadata {
    /// Builds the metadata of a stored key. `current_material_id` is the KeyMaterialId of
    /// the current version, when the key has material.
    pub fn from_record(k: &KeyRecord, current_material_id: Option<String>) -> KmsResult<Self> {
        let spec = KeySpec::parse(&k.key_spec, "keySpec")?;
        let usage = KeyUsage::parse(&k.key_usage, "keyUsage")?;
        let state = KeyState::parse(&k.key_state, "keyState")?;
        let origin = crate::model::Origin::parse(&k.origin, "origin")?;
        let algs = Algorithms::of(spec, usage);
        Ok(Self {
            aws_account_id: k.account.clone(),
            key_id: crate::ids::public_id(&k.key_id).to_string(),
            arn: crate::ids::stored_key_arn(&k.region, &k.account, &k.key_id),
            creation_date: Timestamp(k.created_ms),
            enabled: state == KeyState::Enabled,
            description: k.description.clone(),
            key_usage: usage.as_str(),
            key_state: state.as_str(),
            deletion_date: k
                .deletion_ms
                .filter(|_| state == KeyState::PendingDeletion)
                .map(Timestamp),
            origin: origin.as_str(),
            valid_to: k.valid_to_ms.map(Timestamp),
            expiration_model: k.expiration_model.clone(),
            key_manager: "CUSTOMER",
            customer_master_key_spec: crate::model::customer_master_key_spec(spec),
            key_spec: spec.as_str(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            mac_algorithms: algs.mac,
            key_agreement_algorithms: algs.key_agreement,
            encapsulation_algorithms: algs.encapsulation,
            multi_region: k.primary_region.is_some(),
            multi_region_configuration: None,
            // AWS reports it for symmetric encryption keys only (AWS_KMS or EXTERNAL origin).
            current_key_material_id: current_material_id
                .filter(|_| spec == KeySpec::SymmetricDefault),
            custom_key_store_id: k.custom_key_store_id.clone(),
            cloud_hsm_cluster_id: None,
            xks_key_configuration: k.xks_key_id.clone().map(|id| XksKeyConfiguration { id }),
        })
    }
}

impl KeyMetadata {
    /// The metadata of a cached key, its state as operations see it (see
    /// [`KeyMetadata::from_record`]).
    pub fn from_cached(k: &crate::cache::CachedKey, current_material_id: Option<String>) -> Self {
        let (spec, state) = (k.spec, k.state);
        let algs = Algorithms::of(spec, k.usage);
        let rare = k.rare();
        Self {
            aws_account_id: k.account().to_string(),
            key_id: k.id().to_string(),
            arn: k.arn.clone(),
            creation_date: Timestamp(k.created_ms),
            enabled: state == KeyState::Enabled,
            description: k.description().to_string(),
            key_usage: k.usage.as_str(),
            key_state: state.as_str(),
            deletion_date: rare
                .deletion_ms
                .filter(|_| state == KeyState::PendingDeletion)
                .map(Timestamp),
            origin: k.origin.as_str(),
            valid_to: rare.valid_to_ms.map(Timestamp),
            expiration_model: rare.expiration_model.as_deref().map(str::to_string),
            key_manager: "CUSTOMER",
            customer_master_key_spec: crate::model::customer_master_key_spec(spec),
            key_spec: spec.as_str(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            mac_algorithms: algs.mac,
            key_agreement_algorithms: algs.key_agreement,
            encapsulation_algorithms: algs.encapsulation,
            multi_region: rare.primary_region.is_some(),
            multi_region_configuration: None,
            current_key_material_id: current_material_id
                .filter(|_| spec == KeySpec::SymmetricDefault),
            custom_key_store_id: rare.custom_key_store_id.as_deref().map(str::to_string),
            cloud_hsm_cluster_id: None,
            xks_key_configuration: rare
                .xks_key_id
                .as_deref()
                .map(|id| XksKeyConfiguration { id: id.to_string() }),
        }
    }
}

/// The algorithm lists of a key, as DescribeKey and GetPublicKey report them: only the
/// list that belongs to the key's usage is present.
#[derive(Debug, Default, Clone)]
pub struct Algorithms {
    /// EncryptionAlgorithms.
    pub encryption: Option<Vec<&'static str>>,
    /// SigningAlgorithms.
    pub signing: Option<Vec<&'static str>>,
    /// MacAlgorithms.
    pub mac: Option<Vec<&'static str>>,
    /// KeyAgreementAlgorithms.
    pub key_agreement: Option<Vec<&'static str>>,
    /// EncapsulationAlgorithms.
    pub encapsulation: Option<Vec<&'static str>>,
}

impl Algorithms {
    /// The lists for a key of `spec` used for `usage`.
    pub fn of(spec: KeySpec, usage: KeyUsage) -> Self {
        let mut a = Algorithms::default();
        match usage {
            KeyUsage::EncryptDecrypt => {
                a.encryption = Some(
                    spec.encryption_algorithms()
                        .iter()
                        .map(|x| x.as_str())
                        .collect(),
                );
            }
            KeyUsage::SignVerify => {
                a.signing = Some(
                    spec.signing_algorithms()
                        .iter()
                        .map(|x| x.as_str())
                        .collect(),
                )
            }
            KeyUsage::GenerateVerifyMac => a.mac = spec.hmac().map(|(_, m)| vec![m.as_str()]),
            KeyUsage::KeyAgreement => a.key_agreement = Some(vec!["ECDH"]),
            KeyUsage::EncapsulateDecapsulate => a.encapsulation = Some(vec!["ML_KEM"]),
        }
        a
    }
}

/// Reads a pagination marker issued by this server (`Marker` members).
pub fn parse_marker(marker: &Option<String>) -> KmsResult<Option<String>> {
    let Some(m) = marker else { return Ok(None) };
    let decoded = B64
        .decode(m.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("tresor:").map(str::to_string));
    decoded.map(Some).ok_or_else(|| {
        KmsError::InvalidMarker("Invalid marker: the marker was not issued by this service".into())
    })
}

/// Cuts `rows` (fetched with one extra row) to `limit` and returns `(Truncated,
/// NextMarker)`, the marker naming the last row kept by `position`.
pub fn cut_page<T>(
    rows: &mut Vec<T>,
    limit: usize,
    position: impl Fn(&T) -> String,
) -> (bool, Option<String>) {
    let truncated = rows.len() > limit;
    rows.truncate(limit);
    let next = if truncated {
        rows.last().map(|r| make_marker(&position(r)))
    } else {
        None
    };
    (truncated, next)
}

/// Makes an opaque marker that continues after `last`.
pub fn make_marker(last: &str) -> String {
    B64.encode(format!("tresor:{last}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_reject_bad_base64() {
        let b: Blob = serde_json::from_str("\"aGVsbG8=\"").unwrap();
        assert_eq!(b.0, b"hello");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"aGVsbG8=\"");
        assert!(serde_json::from_str::<Blob>("\"@@@\"").is_err());
        assert!(serde_json::from_str::<SecretBlob>("5").is_err());
    }

    #[test]
    fn markers_round_trip() {
        let m = make_marker("abc");
        assert_eq!(parse_marker(&Some(m)).unwrap().as_deref(), Some("abc"));
        assert!(parse_marker(&Some("garbage".into())).is_err());
    }

    #[test]
    fn tag_rules() {
        let t = |k: &str, v: &str| Tag {
            tag_key: Some(k.into()),
            tag_value: Some(v.into()),
        };
        assert!(validate_tags(&[t("a", "")]).is_ok());
        assert!(matches!(
            validate_tags(&[t("aws:x", "1")]),
            Err(KmsError::Tag(_))
        ));
        assert!(matches!(
            validate_tags(&[t("a", "1"), t("a", "2")]),
            Err(KmsError::Tag(_))
        ));
        // Lengths are the model's (validate::shape tests).
    }
}
