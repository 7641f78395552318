//! Key-state and key-usage rules shared by the operations (AWS's key-state table).

use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::messages;
use crate::model::{KeySpec, KeyState, KeyUsage};

/// The state error for a key that cannot be used in its current state.
pub fn state_error(key: &CachedKey) -> KmsError {
    let arn = &key.arn;
    match key.state {
        KeyState::Disabled => KmsError::Disabled(messages::disabled(arn)),
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            KmsError::InvalidState(messages::pending_deletion(arn))
        }
        KeyState::PendingImport => KmsError::InvalidState(messages::pending_import(arn)),
        KeyState::Unavailable => KmsError::InvalidState(messages::in_state(arn, "unavailable")),
        KeyState::Creating => KmsError::InvalidState(messages::in_state(arn, "creating")),
        KeyState::Updating => KmsError::InvalidState(messages::in_state(arn, "updating")),
        KeyState::Enabled => KmsError::InvalidState(messages::in_state(arn, "enabled")),
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
pub fn require_symmetric_encryption(key: &CachedKey, operation: &str) -> KmsResult<()> {
    require_usable(key)?;
    if key.spec != KeySpec::SymmetricDefault || key.usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_usage(key, operation));
    }
    Ok(())
}

/// `InvalidKeyUsageException` for a key whose usage does not fit `operation`.
pub fn wrong_usage(key: &CachedKey, operation: &str) -> KmsError {
    KmsError::InvalidKeyUsage(messages::invalid_key_usage(&key.arn, key.usage, operation))
}

/// A usable key of exactly `usage`.
pub fn require_usable_for(key: &CachedKey, usage: KeyUsage, operation: &str) -> KmsResult<()> {
    require_usable(key)?;
    if key.usage != usage {
        return Err(wrong_usage(key, operation));
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
