//! XKS Encrypt (`POST …/keys/{externalKeyId}/encrypt`): AES-GCM of `plaintext` under
//! the key's current material, bound to `additionalAuthenticatedData`; authorized as
//! `kms:Encrypt`. See [`super`] for the construction.

use super::{check_algorithm, check_metadata, external_key, RequestMetadata, Required};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// XKS Encrypt.
pub struct XksEncrypt;

/// The request body, with the path's `externalKeyId`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Request {
    pub external_key_id: Option<String>,
    pub request_metadata: Option<RequestMetadata>,
    pub plaintext: Option<SecretBlob>,
    pub encryption_algorithm: Option<String>,
    pub additional_authenticated_data: Option<Blob>,
    pub ciphertext_data_integrity_value_algorithm: Option<String>,
}

/// The response body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Response {
    pub ciphertext: Blob,
    pub ciphertext_metadata: Blob,
    pub initialization_vector: Blob,
    pub authentication_tag: Blob,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphertext_data_integrity_value: Option<Blob>,
}

impl Operation for XksEncrypt {
    const NAME: &'static str = "XksEncrypt";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        check_metadata(
            &req.request_metadata,
            Required {
                principal: true,
                key_arn: true,
            },
        )?;
        check_algorithm(&req.encryption_algorithm)?;
        let mut v = Validator::new().required("plaintext", &req.plaintext);
        if let Some(a) = req.ciphertext_data_integrity_value_algorithm.as_deref() {
            if a != "SHA_256" {
                v = v.pattern("ciphertextDataIntegrityValueAlgorithm", a, "SHA_256", false);
            }
        }
        v.finish()?;
        let plaintext = req
            .plaintext
            .as_ref()
            .map(|p| p.0.expose())
            .unwrap_or_default();
        let aad = req
            .additional_authenticated_data
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        // Beyond the sizes the specification requires: its "not supported" answer.
        if plaintext.len() > super::MAX_PLAINTEXT || aad.len() > super::MAX_AAD {
            return Err(KmsError::UnsupportedOperation(format!(
                "This proxy accepts at most {} bytes of plaintext and {} bytes of additionalAuthenticatedData.",
                super::MAX_PLAINTEXT,
                super::MAX_AAD
            )));
        }
        let key = external_key(call, &req.external_key_id, "kms:Encrypt")?;
        crate::states::require_usable(&key)?;
        let (version, _) = key.current_material()?;
        let sym = super::material(&key, version).ok_or_else(|| {
            KmsError::internal(format!("key {} has no symmetric material", key.arn))
        })?;
        let metadata = super::metadata_for(version);
        let mut iv = [0u8; super::IV_LEN];
        tresor_crypto::random::fill_public(&mut iv).map_err(KmsError::internal)?;
        let sealed = sym
            .seal_with_iv(
                iv,
                &super::info(&key, version)?,
                &super::gcm_aad(aad, &metadata)?,
                plaintext,
            )
            .map_err(KmsError::internal)?;
        let split = sealed.len().saturating_sub(super::TAG_LEN);
        let (ciphertext, tag) = sealed.split_at(split);
        let integrity = req
            .ciphertext_data_integrity_value_algorithm
            .is_some()
            .then(|| {
                Blob(super::integrity_value([
                    aad, &metadata, &iv, ciphertext, tag,
                ]))
            });
        Ok(Response {
            ciphertext: Blob(ciphertext.to_vec()),
            ciphertext_metadata: Blob(metadata),
            initialization_vector: Blob(iv.to_vec()),
            authentication_tag: Blob(tag.to_vec()),
            ciphertext_data_integrity_value: integrity,
        })
    }
}
