//! Access keys, as IAM manages them: CreateAccessKey, ListAccessKeys, UpdateAccessKey
//! (Active/Inactive) and DeleteAccessKey.
//!
//! A principal is a user (`UserName`), an account's root (no `UserName`), or, with
//! `Operator: true`, the caller's own operator principal. A principal holds at most two
//! access keys (IAM's quota), so a key can be rotated without downtime: create the
//! second, move clients, deactivate and delete the first. Secrets are returned once, by
//! CreateAccessKey, and stored only wrapped under the root key.
//!
//! Who may call: the operator for every account, an account's root for its own account.
//! Operator keys are managed by the operator only, and the last active one cannot be
//! deactivated or deleted. A change is in force for every request that starts after it
//! is acknowledged: the credential caches forget the key before the answer.

use super::{new_access_key, user_arn, SecretString};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};
use tresor_crypto::SecretBytes;
use tresor_store::{AccessKeyRecord, Write};

/// IAM's quota of access keys per principal.
pub const MAX_ACCESS_KEYS: usize = 2;

/// Names the principal whose keys a request manages.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct PrincipalSelector {
    pub account: Option<String>,
    pub user_name: Option<String>,
    pub operator: Option<bool>,
}

/// The principal-naming members of a request.
#[derive(Clone, Copy)]
struct Selector<'a> {
    account: &'a Option<String>,
    user_name: &'a Option<String>,
    operator: Option<bool>,
}

macro_rules! selector {
    ($req:expr) => {
        Selector {
            account: &$req.account,
            user_name: &$req.user_name,
            operator: $req.operator,
        }
    };
}

/// The principal a selector resolved to.
struct Principal {
    account: String,
    arn: String,
    user_name: Option<String>,
    operator: bool,
}

/// Validates the selector, authorizes the caller for it and resolves it.
fn resolve(call: &mut Call<'_>, sel: Selector<'_>) -> KmsResult<Principal> {
    if sel.operator == Some(true) {
        if sel.account.is_some() || sel.user_name.is_some() {
            return Err(KmsError::Validation(
                "Operator keys belong to the calling operator; give either Operator or Account/UserName."
                    .into(),
            ));
        }
        if !call.caller.operator {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to manage operator access keys; only the service operator is.",
                call.caller.principal_arn
            )));
        }
        let account = call.caller.account.clone();
        call.authorize_admin(&account)?;
        return Ok(Principal {
            account,
            arn: call.caller.principal_arn.clone(),
            user_name: None,
            operator: true,
        });
    }
    let mut v = Validator::new().required("account", sel.account);
    if let Some(a) = sel.account {
        v = v.pattern("account", a, "^[0-9]{12}$", crate::ids::is_account(a));
    }
    if let Some(u) = sel.user_name {
        v = v.len("userName", u, 1, 64).pattern(
            "userName",
            u,
            "^[\\w+=,.@-]+$",
            u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
        );
    }
    v.finish()?;
    let account = sel.account.clone().unwrap_or_default();
    call.authorize_admin(&account)?;
    let arn = match sel.user_name {
        Some(name) => {
            let arn = user_arn(&account, name);
            if call.kms.store.principal(&arn)?.is_none() {
                return Err(KmsError::NotFound(format!(
                    "The user with name {name} cannot be found."
                )));
            }
            arn
        }
        None => crate::ids::account_root_arn(&account),
    };
    Ok(Principal {
        account,
        arn,
        user_name: sel.user_name.clone(),
        operator: false,
    })
}

/// Refuses to manage an operator key for a caller that is not the operator.
fn check_operator_key(call: &Call<'_>, rec: &AccessKeyRecord) -> KmsResult<()> {
    if rec.operator && !call.caller.operator {
        return Err(KmsError::AccessDenied(format!(
            "User: {} is not authorized to manage operator access keys; only the service operator is.",
            call.caller.principal_arn
        )));
    }
    Ok(())
}

/// The record of `access_key_id` if it belongs to `p`.
fn key_of(call: &Call<'_>, p: &Principal, access_key_id: &str) -> KmsResult<AccessKeyRecord> {
    match call.kms.store.access_key(access_key_id)? {
        // XKS proxy credentials are managed by their own operations.
        Some(rec) if rec.principal_arn == p.arn && !rec.xks_proxy => Ok(rec),
        _ => Err(KmsError::NotFound(format!(
            "The Access Key with id {access_key_id} cannot be found."
        ))),
    }
}

/// Refuses to leave `rec`'s principal without an active operator key.
fn keep_an_operator_key(call: &Call<'_>, rec: &AccessKeyRecord) -> KmsResult<()> {
    if !rec.operator || !rec.enabled {
        return Ok(());
    }
    let others = call
        .kms
        .store
        .access_keys_of(&rec.principal_arn)?
        .into_iter()
        .filter(|k| k.operator && k.enabled && k.access_key_id != rec.access_key_id)
        .count();
    if others == 0 {
        return Err(KmsError::Validation(format!(
            "{} is the last active operator access key; create another with `tresor admin access-key create --operator` first.",
            rec.access_key_id
        )));
    }
    Ok(())
}

fn validate_access_key_id(id: &Option<String>) -> KmsResult<&str> {
    let mut v = Validator::new().required("accessKeyId", id);
    if let Some(id) = id {
        v = v.len("accessKeyId", id, 16, 128).pattern(
            "accessKeyId",
            id,
            "^[\\w]+$",
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        );
    }
    v.finish()?;
    Ok(id.as_deref().unwrap_or_default())
}

/// `Active` or `Inactive`.
fn status(enabled: bool) -> &'static str {
    if enabled {
        "Active"
    } else {
        "Inactive"
    }
}

/// CreateAccessKey.
pub struct CreateAccessKey;

/// CreateAccessKey response: the new key and its secret (shown only now).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateAccessKeyResponse {
    pub arn: String,
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub status: &'static str,
    pub operator: bool,
    pub create_date: Timestamp,
}

impl Operation for CreateAccessKey {
    const NAME: &'static str = "CreateAccessKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = PrincipalSelector;
    type Response = CreateAccessKeyResponse;

    fn execute(call: &mut Call<'_>, req: PrincipalSelector) -> KmsResult<CreateAccessKeyResponse> {
        let p = resolve(call, selector!(req))?;
        let (access_key_id, secret) = new_access_key()?;
        let kms = call.kms;
        // Held until the record is written (a root rotation waits for it).
        let ring = kms.ring()?;
        let record = kms.access_key_record(
            &ring,
            &access_key_id,
            &SecretBytes::from_slice(secret.expose().as_bytes()),
            &p.account,
            &p.arn,
            p.operator,
        )?;
        let created = record.created_ms;
        kms.write(|| {
            if let Some(user) = kms.store.principal(&p.arn)? {
                if !user.enabled {
                    return Err(KmsError::Validation(format!(
                        "User {} is disabled; it cannot get access keys.",
                        p.arn
                    )));
                }
            }
            let held = kms
                .store
                .access_keys_of(&p.arn)?
                .iter()
                .filter(|k| !k.xks_proxy)
                .count();
            if held >= MAX_ACCESS_KEYS {
                return Err(KmsError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"
                )));
            }
            Ok((vec![Write::PutAccessKey(record)], ()))
        })?;
        kms.access_key_changed(&access_key_id);
        Ok(CreateAccessKeyResponse {
            arn: p.arn,
            account: p.account,
            user_name: p.user_name,
            access_key_id,
            secret_access_key: secret,
            status: status(true),
            operator: p.operator,
            create_date: Timestamp(created),
        })
    }
}

/// ListAccessKeys.
pub struct ListAccessKeys;

/// One access key, without its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct AccessKeyMetadata {
    pub access_key_id: String,
    pub status: &'static str,
    pub operator: bool,
    pub create_date: Timestamp,
}

/// ListAccessKeys response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListAccessKeysResponse {
    pub arn: String,
    pub access_key_metadata: Vec<AccessKeyMetadata>,
}

impl Operation for ListAccessKeys {
    const NAME: &'static str = "ListAccessKeys";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = PrincipalSelector;
    type Response = ListAccessKeysResponse;

    fn execute(call: &mut Call<'_>, req: PrincipalSelector) -> KmsResult<ListAccessKeysResponse> {
        let p = resolve(call, selector!(req))?;
        let keys = call
            .kms
            .store
            .access_keys_of(&p.arn)?
            .into_iter()
            .filter(|k| !k.xks_proxy)
            .map(|k| AccessKeyMetadata {
                access_key_id: k.access_key_id,
                status: status(k.enabled),
                operator: k.operator,
                create_date: Timestamp(k.created_ms),
            })
            .collect();
        Ok(ListAccessKeysResponse {
            arn: p.arn,
            access_key_metadata: keys,
        })
    }
}

/// UpdateAccessKey: `Status` `Active` or `Inactive`.
pub struct UpdateAccessKey;

/// UpdateAccessKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UpdateAccessKeyRequest {
    pub account: Option<String>,
    pub user_name: Option<String>,
    pub operator: Option<bool>,
    pub access_key_id: Option<String>,
    pub status: Option<String>,
}

impl Operation for UpdateAccessKey {
    const NAME: &'static str = "UpdateAccessKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = UpdateAccessKeyRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: UpdateAccessKeyRequest) -> KmsResult<crate::ops::Empty> {
        let p = resolve(call, selector!(req))?;
        let id = validate_access_key_id(&req.access_key_id)?;
        let enable = match req.status.as_deref() {
            Some("Active") => true,
            Some("Inactive") => false,
            other => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value {} at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
                    other.map_or("null".to_string(), |s| format!("'{s}'"))
                )))
            }
        };
        let kms = call.kms;
        kms.write(|| {
            let mut rec = key_of(call, &p, id)?;
            check_operator_key(call, &rec)?;
            if !enable {
                keep_an_operator_key(call, &rec)?;
            } else if let Some(user) = kms.store.principal(&rec.principal_arn)? {
                if !user.enabled {
                    return Err(KmsError::Validation(format!(
                        "User {} is disabled; its access keys cannot be activated.",
                        rec.principal_arn
                    )));
                }
            }
            rec.enabled = enable;
            Ok((vec![Write::PutAccessKey(rec)], ()))
        })?;
        kms.access_key_changed(id);
        Ok(crate::ops::Empty {})
    }
}

/// DeleteAccessKey.
pub struct DeleteAccessKey;

/// DeleteAccessKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct DeleteAccessKeyRequest {
    pub account: Option<String>,
    pub user_name: Option<String>,
    pub operator: Option<bool>,
    pub access_key_id: Option<String>,
}

impl Operation for DeleteAccessKey {
    const NAME: &'static str = "DeleteAccessKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = DeleteAccessKeyRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: DeleteAccessKeyRequest) -> KmsResult<crate::ops::Empty> {
        let p = resolve(call, selector!(req))?;
        let id = validate_access_key_id(&req.access_key_id)?;
        let kms = call.kms;
        kms.write(|| {
            let rec = key_of(call, &p, id)?;
            check_operator_key(call, &rec)?;
            keep_an_operator_key(call, &rec)?;
            Ok((
                vec![Write::DeleteAccessKey {
                    access_key_id: id.to_string(),
                }],
                (),
            ))
        })?;
        kms.access_key_changed(id);
        Ok(crate::ops::Empty {})
    }
}
