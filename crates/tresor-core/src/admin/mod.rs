//! Tresor's own administration API (`X-Amz-Target: TresorAdmin.<Op>`), signed with SigV4
//! like the KMS API and run through the same pipeline: accounts come into being with
//! their first user; users get access keys and identity policies.
//!
//! Who may call it: the service operator for every account, an account's root for its
//! own account.

use crate::pipeline::{entry, OperationEntry};

pub mod user_policies;
pub mod users;

/// Every admin operation.
pub static ALL: &[OperationEntry] = &[
    entry::<users::CreateUser>(),
    entry::<users::ListUsers>(),
    entry::<users::DisableUser>(),
    entry::<user_policies::PutUserPolicy>(),
    entry::<user_policies::GetUserPolicy>(),
    entry::<user_policies::ListUserPolicies>(),
    entry::<user_policies::DeleteUserPolicy>(),
];

/// The admin operation named `name`.
pub fn operation(name: &str) -> Option<OperationEntry> {
    ALL.iter().find(|e| e.name == name).copied()
}

/// The ARN of user `name` in `account`.
pub fn user_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{name}")
}

/// Validates the `Account` and `UserName` members shared by the user operations.
pub(crate) fn account_and_user<'a>(
    account: &'a Option<String>,
    user: &'a Option<String>,
) -> crate::KmsResult<(&'a str, &'a str)> {
    use crate::validate::Validator;
    let mut v = Validator::new()
        .required("account", account)
        .required("userName", user);
    if let Some(a) = account {
        v = v.pattern("account", a, "^[0-9]{12}$", crate::ids::is_account(a));
    }
    if let Some(u) = user {
        v = v.len("userName", u, 1, 64).pattern(
            "userName",
            u,
            "^[\\w+=,.@-]+$",
            u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
        );
    }
    v.finish()?;
    Ok((
        account.as_deref().unwrap_or_default(),
        user.as_deref().unwrap_or_default(),
    ))
}
