//! GenerateDataKeyPair: a fresh asymmetric key pair for use outside the service: the
//! private key in plaintext (PKCS#8) and encrypted under a symmetric KMS key, and the
//! public key (DER SubjectPublicKeyInfo). ML-KEM private keys come in the seed-only PKCS#8
//! form AWS returns (`[0]` 64-byte seed d ‖ z).

use super::envelope;
use crate::error::{KmsError, KmsResult};
use crate::model::DataKeyPairSpec;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, EncryptionContext, SecretBlob};
use serde::{Deserialize, Serialize};
use tresor_crypto::asymmetric::PrivateKey;

/// GenerateDataKeyPair.
pub struct GenerateDataKeyPair;

/// GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub encryption_context: Option<EncryptionContext>,
    pub key_id: Option<String>,
    pub key_pair_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<crate::wire::RecipientInfo>,
    pub dry_run: Option<bool>,
}

/// GenerateDataKeyPair response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub private_key_ciphertext_blob: Blob,
    pub private_key_plaintext: SecretBlob,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: &'static str,
    pub key_material_id: String,
}

/// A generated data key pair.
pub(crate) struct DataKeyPair {
    pub private: PrivateKey,
    pub ciphertext: Vec<u8>,
    pub public: Vec<u8>,
    pub key_arn: String,
    pub spec: DataKeyPairSpec,
    pub material_id: String,
}

/// Validates, authorizes `action` on the symmetric wrapping key, and generates the pair.
pub(crate) fn generate(call: &mut Call<'_>, req: &Request, action: &str) -> KmsResult<DataKeyPair> {
    let spec = DataKeyPairSpec::parse(
        req.key_pair_spec.as_deref().unwrap_or_default(),
        "keyPairSpec",
    )?;
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
        ));
    }
    let key = call.key(
        req.key_id.as_deref().unwrap_or_default(),
        action,
        Facts {
            encryption_context: req.encryption_context.as_ref(),
            data_key_pair_spec: req.key_pair_spec.as_deref(),
            ..Facts::NONE
        },
    )?;
    crate::states::require_symmetric_encryption(&key, call.operation)?;
    if key.rare().custom_key_store_id.is_some() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is in a custom key store; data key pairs cannot be generated under keys in custom key stores.",
            key.arn
        )));
    }
    let asym = spec.key_spec().asymmetric().ok_or_else(|| {
        KmsError::UnsupportedOperation(format!(
            "KeyPairSpec {spec} is only offered in the AWS China Regions"
        ))
    })?;
    if req.dry_run == Some(true) {
        return Err(KmsError::DryRun);
    }
    let private = PrivateKey::generate(asym)?;
    let public = private.public_key()?.spki().to_vec();
    let (ciphertext, material_id) = envelope::seal(
        call,
        &key,
        req.encryption_context.as_ref(),
        private.pkcs8().expose(),
    )?;
    let material_id =
        material_id.ok_or_else(|| KmsError::internal("software key without a material id"))?;
    Ok(DataKeyPair {
        private,
        ciphertext,
        public,
        key_arn: key.arn.clone(),
        spec,
        material_id,
    })
}

impl Operation for GenerateDataKeyPair {
    const NAME: &'static str = "GenerateDataKeyPair";
    // RSA key generation takes up to a second: keep it off the async threads.
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let pair = generate(call, &req, "kms:GenerateDataKeyPair")?;
        Ok(Response {
            private_key_ciphertext_blob: Blob(pair.ciphertext),
            private_key_plaintext: SecretBlob(pair.private.pkcs8().clone()),
            public_key: Blob(pair.public),
            key_id: pair.key_arn,
            key_pair_spec: pair.spec.as_str(),
            key_material_id: pair.material_id,
        })
    }
}
