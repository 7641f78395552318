//! XKS proxy credentials: CreateXksCredential, ListXksCredentials, DeleteXksCredential.
//!
//! When Tresor serves the XKS proxy API (`tresor serve --xks-listen`), an AWS KMS
//! external key store signs its calls with SigV4 (service `kms-xks-proxy`) under an
//! access key id (20–30 characters of A–Z and 2–7) and a secret (43–64 characters of
//! A–Z, a–z, 0–9, `+`, `/`) that the customer gives both to AWS KMS and to the proxy.
//! Here Tresor makes that pair. It authenticates as a principal of the account: the
//! account's root (no `UserName`) or one of its users, whose identity policies and the
//! keys' policies decide which keys the proxy may use, exactly as for a KMS request.
//!
//! The secret is returned once and stored only wrapped under the root key, in the
//! access-key table, marked so that it signs XKS proxy requests and nothing else
//! (and no ordinary access key signs XKS proxy requests). A principal holds at most two
//! (to rotate without downtime, as the XKS specification asks proxies to allow).
//! Disabling the user disables its XKS credentials too.
//!
//! Who may call: the operator for every account, an account's root for its own account.

use super::{random_string, user_arn, SecretString, ID_ALPHABET, SECRET_ALPHABET};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};
use tresor_crypto::SecretBytes;
use tresor_store::Write;

/// XKS credentials per principal.
pub const MAX_XKS_CREDENTIALS: usize = 2;
/// Length of a generated access key id (the specification allows 20–30).
const ID_LEN: usize = 26;
/// Length of a generated secret (the specification allows 43–64; 264 bits).
const SECRET_LEN: usize = 44;

/// A fresh XKS credential: an access key id and its secret.
pub fn new_xks_credential() -> KmsResult<(String, SecretString)> {
    let id = random_string(ID_ALPHABET, ID_LEN)?;
    let secret = random_string(SECRET_ALPHABET, SECRET_LEN)?;
    Ok((id.as_str().to_string(), SecretString(secret)))
}

/// The members that name an account and, optionally, one of its users.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct XksCredentialRequest {
    pub account: Option<String>,
    pub user_name: Option<String>,
    pub access_key_id: Option<String>,
}

/// Validates `Account` (and `UserName` when given) and authorizes the caller for it.
fn account_of<'a>(call: &mut Call<'_>, req: &'a XksCredentialRequest) -> KmsResult<&'a str> {
    let mut v = Validator::new().required("account", &req.account);
    if let Some(a) = &req.account {
        v = v.pattern("account", a, "^[0-9]{12}$", crate::ids::is_account(a));
    }
    if let Some(u) = &req.user_name {
        v = v.len("userName", u, 1, 64).pattern(
            "userName",
            u,
            "^[\\w+=,.@-]+$",
            u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
        );
    }
    v.finish()?;
    let account = req.account.as_deref().unwrap_or_default();
    call.authorize_admin(account)?;
    Ok(account)
}

/// CreateXksCredential.
pub struct CreateXksCredential;

/// CreateXksCredential response: the credential and its secret (shown only now).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateXksCredentialResponse {
    pub arn: String,
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub create_date: Timestamp,
}

impl Operation for CreateXksCredential {
    const NAME: &'static str = "CreateXksCredential";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = XksCredentialRequest;
    type Response = CreateXksCredentialResponse;

    fn execute(
        call: &mut Call<'_>,
        req: XksCredentialRequest,
    ) -> KmsResult<CreateXksCredentialResponse> {
        let account = account_of(call, &req)?.to_string();
        let kms = call.kms;
        let arn = match &req.user_name {
            Some(name) => {
                let arn = user_arn(&account, name);
                match kms.store.principal(&arn)? {
                    Some(u) if u.enabled => arn,
                    Some(_) => {
                        return Err(KmsError::Validation(format!(
                            "User {arn} is disabled; it cannot get XKS credentials."
                        )))
                    }
                    None => {
                        return Err(KmsError::NotFound(format!(
                            "The user with name {name} cannot be found."
                        )))
                    }
                }
            }
            None => crate::ids::account_root_arn(&account),
        };
        let (access_key_id, secret) = new_xks_credential()?;
        // Held until the record is written (a root rotation waits for it).
        let ring = kms.ring()?;
        let mut record = kms.access_key_record(
            &ring,
            &access_key_id,
            &SecretBytes::from_slice(secret.expose().as_bytes()),
            &account,
            &arn,
            false,
        )?;
        record.xks_proxy = true;
        let created = record.created_ms;
        kms.write(|| {
            let held = kms
                .store
                .access_keys_of(&arn)?
                .iter()
                .filter(|k| k.xks_proxy)
                .count();
            if held >= MAX_XKS_CREDENTIALS {
                return Err(KmsError::LimitExceeded(format!(
                    "Cannot exceed quota for XksCredentialsPerPrincipal: {MAX_XKS_CREDENTIALS}"
                )));
            }
            Ok((vec![Write::PutAccessKey(record)], ()))
        })?;
        drop(ring);
        kms.access_key_changed(&access_key_id);
        Ok(CreateXksCredentialResponse {
            arn,
            account,
            user_name: req.user_name,
            access_key_id,
            secret_access_key: secret,
            create_date: Timestamp(created),
        })
    }
}

/// ListXksCredentials: every XKS credential of an account (its root's and its users').
pub struct ListXksCredentials;

/// One XKS credential, without its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct XksCredentialMetadata {
    pub access_key_id: String,
    pub arn: String,
    pub status: &'static str,
    pub create_date: Timestamp,
}

/// ListXksCredentials response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListXksCredentialsResponse {
    pub xks_credentials: Vec<XksCredentialMetadata>,
}

impl Operation for ListXksCredentials {
    const NAME: &'static str = "ListXksCredentials";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = XksCredentialRequest;
    type Response = ListXksCredentialsResponse;

    fn execute(
        call: &mut Call<'_>,
        req: XksCredentialRequest,
    ) -> KmsResult<ListXksCredentialsResponse> {
        let account = account_of(call, &req)?;
        let store = &call.kms.store;
        let mut arns = vec![crate::ids::account_root_arn(account)];
        arns.extend(store.list_principals(account)?.into_iter().map(|p| p.arn));
        if let Some(name) = &req.user_name {
            let only = user_arn(account, name);
            arns.retain(|a| *a == only);
        }
        let mut out = Vec::new();
        for arn in arns {
            for k in store.access_keys_of(&arn)? {
                if k.xks_proxy && k.account == account {
                    out.push(XksCredentialMetadata {
                        access_key_id: k.access_key_id,
                        arn: k.principal_arn,
                        status: if k.enabled { "Active" } else { "Inactive" },
                        create_date: Timestamp(k.created_ms),
                    });
                }
            }
        }
        Ok(ListXksCredentialsResponse {
            xks_credentials: out,
        })
    }
}

/// DeleteXksCredential: `Account` and `AccessKeyId`.
pub struct DeleteXksCredential;

impl Operation for DeleteXksCredential {
    const NAME: &'static str = "DeleteXksCredential";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = XksCredentialRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: XksCredentialRequest) -> KmsResult<crate::ops::Empty> {
        let account = account_of(call, &req)?.to_string();
        let mut v = Validator::new().required("accessKeyId", &req.access_key_id);
        if let Some(id) = &req.access_key_id {
            v = v.len("accessKeyId", id, 16, 128).pattern(
                "accessKeyId",
                id,
                "^[\\w]+$",
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            );
        }
        v.finish()?;
        let id = req.access_key_id.as_deref().unwrap_or_default();
        let kms = call.kms;
        kms.write(|| {
            match kms.store.access_key(id)? {
                // Only an XKS credential of this account: an ordinary access key, or
                // another account's credential, is not found here.
                Some(rec) if rec.xks_proxy && rec.account == account => {}
                _ => {
                    return Err(KmsError::NotFound(format!(
                        "The XKS credential with id {id} cannot be found."
                    )))
                }
            }
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
