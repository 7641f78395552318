//! Tresor's own administration API (`X-Amz-Target: TresorAdmin.<Op>`), signed with SigV4
//! like the KMS API and run through the same pipeline: accounts come into being with
//! their first user; users get access keys, XKS proxy credentials and identity policies.
//!
//! Who may call it: the service operator for every account, an account's root for its
//! own account.

use crate::pipeline::{unmodeled_entry as entry, OperationEntry};

pub mod access_keys;
pub mod user_policies;
pub mod users;
pub mod xks_credentials;

/// Every admin operation.
pub static ALL: &[OperationEntry] = &[
    entry::<users::CreateUser>(),
    entry::<users::ListUsers>(),
    entry::<users::DisableUser>(),
    entry::<user_policies::PutUserPolicy>(),
    entry::<user_policies::GetUserPolicy>(),
    entry::<user_policies::ListUserPolicies>(),
    entry::<user_policies::DeleteUserPolicy>(),
    entry::<access_keys::CreateAccessKey>(),
    entry::<access_keys::ListAccessKeys>(),
    entry::<access_keys::UpdateAccessKey>(),
    entry::<access_keys::DeleteAccessKey>(),
    entry::<xks_credentials::CreateXksCredential>(),
    entry::<xks_credentials::ListXksCredentials>(),
    entry::<xks_credentials::DeleteXksCredential>(),
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

/// A secret shown once in a response: zeroized on drop, redacted in `Debug`.
pub struct SecretString(zeroize::Zeroizing<String>);

impl SecretString {
    /// The secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(REDACTED)")
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(zeroize::Zeroizing::new(String::deserialize(d)?)))
    }
}

impl serde::Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A fresh access key pair: `AKIA` + 16 characters, and a 40-character secret.
pub fn new_access_key() -> crate::KmsResult<(String, SecretString)> {
    let id = format!("AKIA{}", random_string(ID_ALPHABET, 16)?.as_str());
    Ok((id, SecretString(random_string(SECRET_ALPHABET, 40)?)))
}

fn random_string(alphabet: &[u8], len: usize) -> crate::KmsResult<zeroize::Zeroizing<String>> {
    let bytes = tresor_crypto::random::secret(len).map_err(crate::KmsError::internal)?;
    // Both alphabets have a power-of-two size (32, 64), so `%` is unbiased.
    Ok(zeroize::Zeroizing::new(
        bytes
            .expose()
            .iter()
            .map(|b| {
                char::from(
                    alphabet
                        .get(usize::from(*b) % alphabet.len())
                        .copied()
                        .unwrap_or(b'A'),
                )
            })
            .collect(),
    ))
}
