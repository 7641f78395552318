//! XKS Decrypt (`POST …/keys/{externalKeyId}/decrypt`): reverses [`super::encrypt`];
//! authorized as `kms:Decrypt`. Every reason a ciphertext does not open (IV, tag,
//! metadata, AAD, ciphertext, another key) is the same `InvalidCiphertextException`.

use super::{check_algorithm, check_metadata, external_key, RequestMetadata, Required};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// XKS Decrypt.
pub struct XksDecrypt;

/// The request body, with the path's `externalKeyId`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Request {
    pub external_key_id: Option<String>,
    pub request_metadata: Option<RequestMetadata>,
    pub ciphertext: Option<Blob>,
    pub ciphertext_metadata: Option<Blob>,
    pub encryption_algorithm: Option<String>,
    pub additional_authenticated_data: Option<Blob>,
    pub initialization_vector: Option<Blob>,
    pub authentication_tag: Option<Blob>,
}

/// The response body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Response {
    pub plaintext: SecretBlob,
}

fn invalid() -> KmsError {
    KmsError::InvalidCiphertext(
        "The request was rejected because the specified ciphertext, initialization vector, additional authenticated data or authentication tag is corrupted, missing, or otherwise invalid."
            .into(),
    )
}

impl Operation for XksDecrypt {
    const NAME: &'static str = "XksDecrypt";
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
        let mut v = Validator::new()
            .required("ciphertext", &req.ciphertext)
            .required("initializationVector", &req.initialization_vector)
            .required("authenticationTag", &req.authentication_tag);
        if let Some(m) = &req.ciphertext_metadata {
            v = v.blob_len("ciphertextMetadata", m.0.len(), 0, super::MAX_METADATA);
        }
        v.finish()?;
        let bytes = |b: &Option<Blob>| b.as_ref().map(|b| b.0.clone()).unwrap_or_default();
        let (ciphertext, iv, tag) = (
            bytes(&req.ciphertext),
            bytes(&req.initialization_vector),
            bytes(&req.authentication_tag),
        );
        let aad = bytes(&req.additional_authenticated_data);
        let metadata = bytes(&req.ciphertext_metadata);
        if ciphertext.len() > super::MAX_PLAINTEXT || aad.len() > super::MAX_AAD {
            return Err(KmsError::UnsupportedOperation(format!(
                "This proxy accepts at most {} bytes of ciphertext and {} bytes of additionalAuthenticatedData.",
                super::MAX_PLAINTEXT,
                super::MAX_AAD
            )));
        }
        let key = external_key(call, &req.external_key_id, "kms:Decrypt")?;
        crate::states::require_usable(&key)?;
        let iv: [u8; super::IV_LEN] = iv.as_slice().try_into().map_err(|_| invalid())?;
        if tag.len() != super::TAG_LEN {
            return Err(invalid());
        }
        let version = super::version_of(&metadata).ok_or_else(invalid)?;
        let sym = super::material(&key, version).ok_or_else(invalid)?;
        let sealed = [ciphertext.as_slice(), tag.as_slice()].concat();
        let plaintext = sym
            .open_with_iv(
                iv,
                &super::info(&key, version)?,
                &super::gcm_aad(&aad, &metadata)?,
                &sealed,
            )
            .map_err(|_| invalid())?;
        Ok(Response {
            plaintext: SecretBlob(plaintext),
        })
    }
}
