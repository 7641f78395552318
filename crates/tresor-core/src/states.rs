//! Key-state and key-usage rules shared by the operations (AWS's key-state table).

use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage};

/// The state error for a key that cannot be used in its current state.
pub fn state_error(key: &CachedKey) -> KmsError {
    let arn = &key.arn;
    match key.state {
        KeyState::Disabled => KmsError::Disabled(format!("{arn} is disabled.")),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            KmsError::InvalidState(format!("{arn} is pending deletion."))
        }
        KeyState::PendingImport => KmsError::InvalidState(format!("{arn} is pending import.")),
        KeyState::Unavailable => KmsError::InvalidState(format!("{arn} is unavailable.")),
        KeyState::Creating => KmsError::InvalidState(format!("{arn} is creating.")),
        KeyState::Updating => KmsError::InvalidState(format!("{arn} is updating.")),
        KeyState::Enabled => KmsError::InvalidState(format!("{arn} is enabled.")),
    }
}

/// Cryptographic use: the key must be Enabled (or Updating).
pub fn require_usable(key: &CachedKey) -> KmsResult<()> {
    match key.state {
        KeyState::Enabled | KeyState::Updating => Ok(()),
        _ => Err(state_error(key)),
    }
}

/// A symmetric ENCRYPT_DECRYPT key, usable now: what Encrypt, Decrypt, ReEncrypt and
/// GenerateDataKey* need.
pub fn require_symmetric_encryption(key: &CachedKey) -> KmsResult<()> {
    require_usable(key)?;
    if key.spec != KeySpec::SymmetricDefault || key.usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_usage(key));
    }
    Ok(())
}

/// `InvalidKeyUsageException` for a key whose usage does not fit the operation.
pub fn wrong_usage(key: &CachedKey) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} and key spec is {}, which is not valid for this operation.",
        key.arn, key.usage, key.spec
    ))
}

/// A usable key of exactly `usage`.
pub fn require_usable_for(key: &CachedKey, usage: KeyUsage) -> KmsResult<()> {
    require_usable(key)?;
    if key.usage != usage {
        return Err(wrong_usage(key));
    }
    Ok(())
}

/// Management that AWS refuses while a key awaits deletion (aliases, tags, description).
pub fn require_not_pending_deletion(key: &CachedKey) -> KmsResult<()> {
    match key.state {
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Err(state_error(key)),
        _ => Ok(()),
    }
}
