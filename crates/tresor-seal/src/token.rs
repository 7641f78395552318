//! The one PKCS#11 session layer: a loaded module, a logged-in session on a token, and
//! the few calls Tresor makes (AES-256 key generation, AES-GCM, random bytes). The root
//! sealer ([`crate::pkcs11`]) and the HSM custom key stores both use it.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
pub use cryptoki::object::ObjectHandle;
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::path::Path;
use std::sync::Arc;
use tresor_crypto::SecretBytes;

/// Length of the AES-GCM IVs Tresor passes to a token.
pub const GCM_IV_LEN: usize = 12;
const GCM_TAG_BITS: u64 = 128;

/// Why a token call failed, in the classes callers act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The module could not be loaded or initialized.
    #[error("PKCS#11 module: {0}")]
    Module(String),
    /// No token with the label is present.
    #[error("no token labelled {0:?}")]
    TokenNotFound(String),
    /// The token refused the PIN.
    #[error("the token refused the PIN")]
    PinIncorrect,
    /// The PIN is locked after too many failures.
    #[error("the token's user PIN is locked")]
    PinLocked,
    /// The token's user PIN was never initialized.
    #[error("the token's user PIN is not initialized")]
    PinNotInitialized,
    /// Authenticated decryption failed (wrong key, altered data).
    #[error("the ciphertext is not authentic")]
    Unauthentic,
    /// A key object was not found.
    #[error("key {0:?} not found on the token")]
    KeyNotFound(String),
    /// Any other failure of the token or module.
    #[error("PKCS#11: {0}")]
    Device(String),
}

fn device(e: P11Error) -> TokenError {
    TokenError::Device(e.to_string())
}

/// A loaded PKCS#11 module; finalized on drop when this value initialized it.
pub struct Module {
    ctx: Pkcs11,
    owned: bool,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("owned", &self.owned)
            .finish()
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.ctx.clone().finalize();
        }
    }
}

impl Module {
    /// Loads and initializes the module at `path` (a module another part of the process
    /// already initialized is used as it is).
    pub fn load(path: &Path) -> Result<Arc<Self>, TokenError> {
        let ctx = Pkcs11::new(path)
            .map_err(|e| TokenError::Module(format!("loading module {}: {e}", path.display())))?;
        let owned = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => true,
            Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
            Err(e) => return Err(TokenError::Module(e.to_string())),
        };
        Ok(Arc::new(Self { ctx, owned }))
    }

    /// Opens a read-write session on the token labelled `token_label` and logs in as
    /// the user with `pin` (a token the process is already logged in to is accepted).
    pub fn login(
        self: &Arc<Self>,
        token_label: &str,
        pin: &str,
    ) -> Result<TokenSession, TokenError> {
        let slot = self
            .ctx
            .get_slots_with_token()
            .map_err(device)?
            .into_iter()
            .find(|s| {
                self.ctx
                    .get_token_info(*s)
                    .is_ok_and(|info| info.label().trim_end() == token_label)
            })
            .ok_or_else(|| TokenError::TokenNotFound(token_label.to_owned()))?;
        let session = self.ctx.open_rw_session(slot).map_err(device)?;
        let pin = AuthPin::from(pin.to_owned());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(P11Error::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                return Err(TokenError::PinIncorrect)
            }
            Err(P11Error::Pkcs11(RvError::PinLocked, _)) => return Err(TokenError::PinLocked),
            Err(P11Error::Pkcs11(RvError::UserPinNotInitialized, _)) => {
                return Err(TokenError::PinNotInitialized)
            }
            Err(e) => return Err(device(e)),
        }
        Ok(TokenSession {
            session,
            _module: self.clone(),
        })
    }
}

/// A logged-in read-write session on one token; logs out on drop.
pub struct TokenSession {
    session: Session,
    _module: Arc<Module>,
}

impl std::fmt::Debug for TokenSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSession")
    }
}

impl Drop for TokenSession {
    fn drop(&mut self) {
        let _ = self.session.logout();
    }
}

impl TokenSession {
    /// Generates a token-resident AES-256 key labelled `label` with id `id`: private,
    /// sensitive, never extractable, encrypt/decrypt only. A token that ignored the
    /// template (left the key extractable or not sensitive) is refused and the key
    /// destroyed.
    pub fn generate_aes_key(&self, label: &str, id: &[u8]) -> Result<ObjectHandle, TokenError> {
        let template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(false),
            Attribute::Unwrap(false),
            Attribute::Sign(false),
            Attribute::Verify(false),
            Attribute::Derive(false),
            Attribute::ValueLen(32.into()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let key = self
            .session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map_err(device)?;
        let attrs = self
            .session
            .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])
            .map_err(device)?;
        let safe = attrs.contains(&Attribute::Sensitive(true))
            && attrs.contains(&Attribute::Extractable(false));
        if !safe {
            let _ = self.session.destroy_object(key);
            return Err(TokenError::Device(
                "the token made the key extractable or not sensitive".into(),
            ));
        }
        Ok(key)
    }

    /// The one secret key labelled `label` with id `id`.
    pub fn find_key(&self, label: &str, id: &[u8]) -> Result<ObjectHandle, TokenError> {
        let found = self
            .session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id.to_vec()),
            ])
            .map_err(device)?;
        match found.as_slice() {
            [key] => Ok(*key),
            [] => Err(TokenError::KeyNotFound(label.to_owned())),
            _ => Err(TokenError::Device(format!(
                "several keys labelled {label:?} on the token"
            ))),
        }
    }

    /// Destroys a key object.
    pub fn destroy(&self, key: ObjectHandle) -> Result<(), TokenError> {
        self.session.destroy_object(key).map_err(device)
    }

    /// AES-GCM encryption in the token; returns ciphertext ‖ 16-byte tag. The token may
    /// write its own IV back into `iv`.
    pub fn encrypt_gcm(
        &self,
        key: ObjectHandle,
        iv: &mut [u8; GCM_IV_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let params = GcmParams::new(iv, aad, GCM_TAG_BITS.into()).map_err(device)?;
        self.session
            .encrypt(&Mechanism::AesGcm(params), key, plaintext)
            .map_err(device)
    }

    /// AES-GCM decryption in the token of ciphertext ‖ tag; any authentication failure
    /// is [`TokenError::Unauthentic`].
    pub fn decrypt_gcm(
        &self,
        key: ObjectHandle,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, TokenError> {
        let mut iv = *iv;
        let params = GcmParams::new(&mut iv, aad, GCM_TAG_BITS.into()).map_err(device)?;
        let plain = self
            .session
            .decrypt(&Mechanism::AesGcm(params), key, ciphertext)
            .map_err(|e| match e {
                // How a token reports a failed GCM tag varies: SoftHSM2 answers
                // CKR_GENERAL_ERROR. Device and session errors keep their own message.
                P11Error::Pkcs11(
                    RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::MechanismParamInvalid
                    | RvError::GeneralError
                    | RvError::FunctionFailed,
                    _,
                ) => TokenError::Unauthentic,
                e => device(e),
            })?;
        Ok(SecretBytes::new(plain))
    }

    /// Fills `out` from the token's random number generator.
    pub fn random(&self, out: &mut [u8]) -> Result<(), TokenError> {
        self.session.generate_random_slice(out).map_err(device)
    }
}
