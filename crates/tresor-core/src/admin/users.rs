//! Users: CreateUser (with its first access key), ListUsers, DisableUser.

use super::{account_and_user, new_access_key, user_arn, SecretString};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};
use tresor_crypto::SecretBytes;
use tresor_store::{PrincipalRecord, Write};

/// CreateUser.
pub struct CreateUser;

/// A user operation's request: `Account` and `UserName`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UserRequest {
    pub account: Option<String>,
    pub user_name: Option<String>,
}

/// CreateUser response: the user and its new credentials (shown once).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateUserResponse {
    pub arn: String,
    pub account: String,
    pub user_name: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl Operation for CreateUser {
    const NAME: &'static str = "CreateUser";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = UserRequest;
    type Response = CreateUserResponse;

    fn execute(call: &mut Call<'_>, req: UserRequest) -> KmsResult<CreateUserResponse> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        let (access_key_id, secret) = new_access_key()?;
        let kms = call.kms;
        // Held until the record is written (a root rotation waits for it).
        let ring = kms.ring()?;
        let record = kms.access_key_record(
            &ring,
            &access_key_id,
            &SecretBytes::from_slice(secret.expose().as_bytes()),
            account,
            &arn,
            false,
        )?;
        let now = call.now_ms();
        kms.write(|| {
            if kms.store.principal(&arn)?.is_some() {
                return Err(KmsError::AlreadyExists(format!(
                    "User {arn} already exists."
                )));
            }
            let principal = PrincipalRecord {
                arn: arn.clone(),
                account: account.to_string(),
                name: name.to_string(),
                enabled: true,
                created_ms: now,
            };
            Ok((
                vec![Write::PutPrincipal(principal), Write::PutAccessKey(record)],
                (),
            ))
        })?;
        kms.access_key_changed(&access_key_id);
        Ok(CreateUserResponse {
            arn,
            account: account.to_string(),
            user_name: name.to_string(),
            access_key_id,
            secret_access_key: secret,
        })
    }
}

/// ListUsers.
pub struct ListUsers;

/// ListUsers request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersRequest {
    /// The account.
    pub account: Option<String>,
}

/// One user.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UserEntry {
    pub arn: String,
    pub account: String,
    pub user_name: String,
    pub enabled: bool,
    pub create_date: Timestamp,
}

/// ListUsers response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersResponse {
    /// The account's users.
    pub users: Vec<UserEntry>,
}

impl Operation for ListUsers {
    const NAME: &'static str = "ListUsers";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = ListUsersRequest;
    type Response = ListUsersResponse;

    fn execute(call: &mut Call<'_>, req: ListUsersRequest) -> KmsResult<ListUsersResponse> {
        let mut v = Validator::new().required("account", &req.account);
        if let Some(a) = &req.account {
            v = v.pattern("account", a, "^[0-9]{12}$", crate::ids::is_account(a));
        }
        v.finish()?;
        let account = req.account.as_deref().unwrap_or_default();
        call.authorize_admin(account)?;
        let users = call
            .kms
            .store
            .list_principals(account)?
            .into_iter()
            .map(|p| UserEntry {
                arn: p.arn,
                account: p.account,
                user_name: p.name,
                enabled: p.enabled,
                create_date: Timestamp(p.created_ms),
            })
            .collect();
        Ok(ListUsersResponse { users })
    }
}

/// DisableUser: the user and all its access keys stop authenticating at once.
pub struct DisableUser;

impl Operation for DisableUser {
    const NAME: &'static str = "DisableUser";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = UserRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: UserRequest) -> KmsResult<crate::ops::Empty> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        let kms = call.kms;
        kms.write(|| {
            let Some(mut p) = kms.store.principal(&arn)? else {
                return Err(KmsError::NotFound(format!("User {arn} does not exist.")));
            };
            p.enabled = false;
            Ok((
                vec![
                    Write::PutPrincipal(p),
                    Write::DisableAccessKeys {
                        principal_arn: arn.clone(),
                    },
                ],
                (),
            ))
        })?;
        kms.forget_credentials_of(&arn);
        Ok(crate::ops::Empty {})
    }
}
