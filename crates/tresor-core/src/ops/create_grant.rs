//! CreateGrant: lets another principal use a key for some operations, optionally only
//! with a given encryption context. Grants only allow; a grant token makes the grant
//! usable at once (Tresor's grants are usable at once anyway). `Name` makes the call
//! idempotent.

use super::key_id_member;
use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyUsage};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::EncryptionContext;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tresor_store::{Counted, GrantRecord, Write};

/// Most grants one key may have.
pub const MAX_GRANTS_PER_KEY: usize = 50_000;
const TOKEN_PREFIX: &str = "tresor-grant:1:";

/// CreateGrant.
pub struct CreateGrant;

/// Encryption-context constraints of a grant.
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Constraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
}

/// CreateGrant request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub operations: Option<Vec<String>>,
    pub constraints: Option<Constraints>,
    pub grant_tokens: Option<Vec<String>>,
    pub name: Option<String>,
    pub dry_run: Option<bool>,
    pub grantee_service_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
}

/// CreateGrant response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub grant_token: String,
    pub grant_id: String,
}

/// Every GrantOperation of the model.
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// The grant operations that make sense for a key of this spec and usage.
fn operation_fits(key: &CachedKey, op: &str) -> bool {
    if matches!(op, "CreateGrant" | "RetireGrant" | "DescribeKey") {
        return true;
    }
    match key.usage {
        KeyUsage::EncryptDecrypt if key.spec == KeySpec::SymmetricDefault => matches!(
            op,
            "Decrypt"
                | "Encrypt"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "ReEncryptFrom"
                | "ReEncryptTo"
                | "GenerateDataKeyPair"
                | "GenerateDataKeyPairWithoutPlaintext"
        ),
        KeyUsage::EncryptDecrypt => matches!(
            op,
            "Decrypt" | "Encrypt" | "ReEncryptFrom" | "ReEncryptTo" | "GetPublicKey"
        ),
        KeyUsage::SignVerify => matches!(op, "Sign" | "Verify" | "GetPublicKey"),
        KeyUsage::GenerateVerifyMac => matches!(op, "GenerateMac" | "VerifyMac"),
        KeyUsage::KeyAgreement => matches!(op, "DeriveSharedSecret" | "GetPublicKey"),
        KeyUsage::EncapsulateDecapsulate => {
            matches!(op, "Encapsulate" | "Decapsulate" | "GetPublicKey")
        }
    }
}

/// A new grant token for `grant_id` (opaque to callers; several may name one grant).
pub(crate) fn new_token(grant_id: &str) -> KmsResult<String> {
    let mut nonce = [0u8; 16];
    tresor_crypto::random::fill(&mut nonce).map_err(KmsError::internal)?;
    let raw = format!("{TOKEN_PREFIX}{grant_id}:{}", hex::encode(nonce));
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The grant id a grant token names, or `InvalidGrantTokenException`.
pub fn token_grant_id(token: &str) -> KmsResult<String> {
    let invalid = || KmsError::InvalidGrantToken("The grant token is not valid.".into());
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let rest = raw.strip_prefix(TOKEN_PREFIX).ok_or_else(invalid)?;
    let (id, _) = rest.split_once(':').ok_or_else(invalid)?;
    Ok(id.to_string())
}

impl Operation for CreateGrant {
    const NAME: &'static str = "CreateGrant";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        if req.grantee_service_principal.is_some() || req.retiring_service_principal.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Grants to AWS service principals are not supported by Tresor.".into(),
            ));
        }
        let Some(grantee) = req.grantee_principal.clone() else {
            return Err(KmsError::Validation("GranteePrincipal is required.".into()));
        };
        let operations = req.operations.clone().unwrap_or_default();
        if operations.is_empty() {
            return Err(KmsError::Validation(
                "Operations must name at least one grant operation.".into(),
            ));
        }
        let constraints = req
            .constraints
            .clone()
            .filter(|c| *c != Constraints::default());
        if let Some(c) = &constraints {
            if c.encryption_context_subset.is_some() && c.encryption_context_equals.is_some() {
                return Err(KmsError::Validation(
                    "A grant can have EncryptionContextSubset or EncryptionContextEquals, not both.".into(),
                ));
            }
            let pairs = c
                .encryption_context_subset
                .iter()
                .chain(c.encryption_context_equals.iter())
                .flatten();
            for (k, val) in pairs {
                if val.chars().count() > 384 || k.chars().count() > 384 {
                    return Err(KmsError::Validation(
                        "Grant constraint keys and values are limited to 384 characters.".into(),
                    ));
                }
            }
            if c.encryption_context_subset
                .as_ref()
                .or(c.encryption_context_equals.as_ref())
                .is_some_and(|m| m.len() > 8)
            {
                return Err(KmsError::Validation(
                    "A grant constraint can have at most 8 encryption context pairs.".into(),
                ));
            }
        }
        let key = call.key_no_alias(
            key_id,
            "kms:CreateGrant",
            Facts {
                grantee_principal: req.grantee_principal.as_deref(),
                retiring_principal: req.retiring_principal.as_deref(),
                grant_operations: &operations,
                ..Facts::NONE
            },
        )?;
        crate::states::require_usable(&key)?;
        if let Some(op) = operations.iter().find(|op| !operation_fits(&key, op)) {
            return Err(KmsError::Validation(format!(
                "Grant operation {op} is not valid for key {} ({} {}).",
                key.arn, key.spec, key.usage
            )));
        }
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let ops_json = serde_json::to_string(&operations).map_err(KmsError::internal)?;
        let constraints_json = constraints
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(KmsError::internal)?;
        let kms = call.kms;
        let now = call.now_ms();
        let key_uuid = key.key_id().to_string();
        let issuing_account = call.caller.account.clone();
        // A named grant is unique in the database: when another node created the same
        // grant between the check and the insert, the check runs again and finds it.
        let attempt = || {
            kms.write_unique(
                || {
                    let existing = kms.store.grants_for_key(&key_uuid)?;
                    if let Some(name) = &req.name {
                        let same = existing.iter().find(|g| {
                            g.name.as_deref() == Some(name.as_str())
                                && g.grantee == grantee
                                && g.retiring == req.retiring_principal
                                && g.operations == ops_json
                                && g.constraints == constraints_json
                        });
                        if let Some(g) = same {
                            return Ok((Vec::new(), g.grant_id.clone()));
                        }
                    }
                    // Checked again inside the write's transaction (racing nodes cannot
                    // both take the last place); this read answers without writing.
                    let refusal =
                        format!("Key {} already has {MAX_GRANTS_PER_KEY} grants.", key.arn);
                    if existing.len() >= MAX_GRANTS_PER_KEY {
                        return Err(KmsError::LimitExceeded(refusal));
                    }
                    let limit = Write::CheckLimit {
                        counted: Counted::GrantsOfKey(key_uuid.clone()),
                        limit: MAX_GRANTS_PER_KEY as u64,
                        refusal,
                    };
                    let mut id = [0u8; 32];
                    tresor_crypto::random::fill(&mut id).map_err(KmsError::internal)?;
                    let grant_id = hex::encode(id);
                    let record = GrantRecord {
                        grant_id: grant_id.clone(),
                        key_id: key_uuid.clone(),
                        name: req.name.clone(),
                        grantee: grantee.clone(),
                        retiring: req.retiring_principal.clone(),
                        issuing_account: issuing_account.clone(),
                        operations: ops_json.clone(),
                        constraints: constraints_json.clone(),
                        created_ms: now,
                    };
                    Ok((vec![limit, Write::InsertGrant(record)], grant_id))
                },
                KmsError::Conflict,
            )
        };
        let grant_id = match attempt() {
            Err(KmsError::Conflict(_)) => attempt()?,
            other => other?,
        };
        kms.forget_grants(&key_uuid);
        Ok(Response {
            grant_token: new_token(&grant_id)?,
            grant_id,
        })
    }
}
