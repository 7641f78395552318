//! The PKCS#11 sealer: a non-extractable AES-256 key generated inside a token encrypts
//! the root key (`CKM_AES_GCM`, AAD binding the seal record); the server logs in with the
//! PIN from a file and decrypts it at start (auto-unseal).
//!
//! `C_Encrypt`/`C_Decrypt` are used rather than `C_WrapKey`/`C_UnwrapKey`: SoftHSM2 does
//! not offer GCM for key wrapping, AES key wrap has no AAD, and wrapping would need the
//! root key imported as a token object (and unwrapping to leave it extractable) only to
//! read it back into host memory, where the server needs it anyway.

use crate::seal_file::{b64, now_rfc3339, random_id, unb64, Pkcs11Record, SealFile, SealerRecord};
use crate::{Initialized, RootMaterial, SealError, Sealer, SealerKind, SEAL_FORMAT_V1};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::path::{Path, PathBuf};
use tresor_crypto::SecretBytes;
use zeroize::Zeroizing;

const MECHANISM: &str = "CKM_AES_GCM";
const GCM_IV_LEN: usize = 12;
const GCM_TAG_BITS: u64 = 128;

/// Where the token is and how to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Label of the token to use.
    pub token_label: String,
    /// File holding the user PIN (first line). Must not be readable by group or others.
    pub pin_file: PathBuf,
}

/// The PKCS#11 sealer.
#[derive(Debug, Clone)]
pub struct Pkcs11Sealer {
    config: Pkcs11Config,
}

impl Pkcs11Sealer {
    /// A sealer using the token described by `config`.
    pub fn new(config: Pkcs11Config) -> Self {
        Self { config }
    }
}

impl Sealer for Pkcs11Sealer {
    /// Nothing: the token unseals by itself.
    type Secrets = ();

    fn kind(&self) -> SealerKind {
        SealerKind::Pkcs11
    }

    /// Generates the wrapping key `tresor-root-wrap-<seal id>` in the token (token object,
    /// private, sensitive, never extractable, encrypt/decrypt only) and stores the
    /// encrypted root key in the seal file.
    fn init(&self, dir: &Path, root: Option<RootMaterial>) -> Result<Initialized<()>, SealError> {
        let seal_path = SealFile::path_in(dir);
        if seal_path.exists() {
            return Err(SealError::AlreadyInitialized(seal_path));
        }
        let root = match root {
            Some(r) => r,
            None => RootMaterial::generate()?,
        };
        let token = Token::open(&self.config)?;
        let seal_id = random_id()?;
        let key_label = format!("tresor-root-wrap-{seal_id}");
        let key = token.generate_wrapping_key(&key_label, &seal_id)?;
        let written = (|| {
            let created = now_rfc3339();
            let mut record = Pkcs11Record {
                seal_id,
                token_label: self.config.token_label.clone(),
                key_label,
                mechanism: MECHANISM.to_owned(),
                iv: String::new(),
                wrapped_root_key: String::new(),
            };
            let mut iv = [0u8; GCM_IV_LEN];
            tresor_crypto::random::fill(&mut iv)?;
            let aad = aad(&record, &created);
            let wrapped = {
                let params = GcmParams::new(&mut iv, &aad, GCM_TAG_BITS.into()).map_err(p11)?;
                token
                    .session
                    .encrypt(&Mechanism::AesGcm(params), key, root.expose())
                    .map_err(p11)?
            };
            // The token may have chosen the IV itself and written it back.
            record.iv = b64(&iv);
            record.wrapped_root_key = b64(&wrapped);
            SealFile {
                format: SEAL_FORMAT_V1,
                created,
                sealer: SealerRecord::Pkcs11(record),
            }
            .write(dir, false)
        })();
        if let Err(e) = written {
            let _ = token.session.destroy_object(key);
            return Err(e);
        }
        Ok(Initialized { root, secrets: () })
    }

    fn unseal(&self, dir: &Path, _secrets: &()) -> Result<RootMaterial, SealError> {
        let file = SealFile::read(dir)?;
        let kind = file.kind();
        let SealerRecord::Pkcs11(record) = &file.sealer else {
            return Err(SealError::WrongSealer {
                expected: SealerKind::Pkcs11.name(),
                found: kind.name(),
            });
        };
        if record.token_label != self.config.token_label {
            return Err(SealError::Pkcs11(format!(
                "the seal file was made on token {:?}, not {:?}",
                record.token_label, self.config.token_label
            )));
        }
        if record.mechanism != MECHANISM {
            return Err(SealError::Tampered);
        }
        let mut iv = unb64(&record.iv)?;
        let wrapped = unb64(&record.wrapped_root_key)?;
        let token = Token::open(&self.config)?;
        let key = token.find_wrapping_key(&record.key_label, &record.seal_id)?;
        let aad = aad(record, &file.created);
        let params = GcmParams::new(&mut iv, &aad, GCM_TAG_BITS.into()).map_err(p11)?;
        let plain = Zeroizing::new(
            token
                .session
                .decrypt(&Mechanism::AesGcm(params), key, &wrapped)
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
                    ) => SealError::Tampered,
                    e => p11(e),
                })?,
        );
        RootMaterial::from_secret(SecretBytes::from_slice(&plain)).map_err(|_| SealError::Tampered)
    }
}

/// An initialized module with a logged-in read-write session on the configured token;
/// finalizes the module on drop when it initialized it.
struct Token {
    session: Session,
    ctx: Option<Pkcs11>,
}

impl Drop for Token {
    fn drop(&mut self) {
        let _ = self.session.logout();
        if let Some(ctx) = self.ctx.take() {
            let _ = ctx.finalize();
        }
    }
}

impl Token {
    fn open(config: &Pkcs11Config) -> Result<Self, SealError> {
        let pin = read_pin(&config.pin_file)?;
        let ctx = Pkcs11::new(&config.module).map_err(|e| {
            SealError::Pkcs11(format!("loading module {}: {e}", config.module.display()))
        })?;
        let owned = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => true,
            Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
            Err(e) => return Err(p11(e)),
        };
        let opened = (|| {
            let slot = ctx
                .get_slots_with_token()
                .map_err(p11)?
                .into_iter()
                .find(|s| {
                    ctx.get_token_info(*s)
                        .is_ok_and(|info| info.label().trim_end() == config.token_label)
                })
                .ok_or_else(|| {
                    SealError::Pkcs11(format!("no token labelled {:?}", config.token_label))
                })?;
            let session = ctx.open_rw_session(slot).map_err(p11)?;
            session
                .login(UserType::User, Some(&pin))
                .map_err(|e| match e {
                    P11Error::Pkcs11(RvError::PinIncorrect, _) => {
                        SealError::Pkcs11("the token refused the PIN".into())
                    }
                    e => p11(e),
                })?;
            Ok(session)
        })();
        match opened {
            Ok(session) => Ok(Self {
                session,
                ctx: owned.then_some(ctx),
            }),
            Err(e) => {
                if owned {
                    let _ = ctx.finalize();
                }
                Err(e)
            }
        }
    }

    fn generate_wrapping_key(&self, label: &str, id: &str) -> Result<ObjectHandle, SealError> {
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
            Attribute::Id(id.as_bytes().to_vec()),
        ];
        let key = self
            .session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map_err(p11)?;
        // Trust, but verify: a token that ignored the template must not hold the root key.
        let attrs = self
            .session
            .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])
            .map_err(p11)?;
        let safe = attrs.contains(&Attribute::Sensitive(true))
            && attrs.contains(&Attribute::Extractable(false));
        if !safe {
            let _ = self.session.destroy_object(key);
            return Err(SealError::Pkcs11(
                "the token made the wrapping key extractable or not sensitive".into(),
            ));
        }
        Ok(key)
    }

    fn find_wrapping_key(&self, label: &str, id: &str) -> Result<ObjectHandle, SealError> {
        let found = self
            .session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id.as_bytes().to_vec()),
            ])
            .map_err(p11)?;
        match found.as_slice() {
            [key] => Ok(*key),
            [] => Err(SealError::Pkcs11(format!(
                "wrapping key {label:?} not found on the token"
            ))),
            _ => Err(SealError::Pkcs11(format!(
                "several keys labelled {label:?} on the token"
            ))),
        }
    }
}

/// The AES-GCM AAD: format version, sealer, seal id, token, key label and creation time.
fn aad(record: &Pkcs11Record, created: &str) -> Vec<u8> {
    format!(
        "tresor-seal:v{SEAL_FORMAT_V1}\0pkcs11\0{}\0{}\0{}\0{created}",
        record.seal_id, record.token_label, record.key_label
    )
    .into_bytes()
}

/// Reads the PIN (first line) from `path`, refusing a file others can read.
fn read_pin(path: &Path) -> Result<AuthPin, SealError> {
    let bad = |reason: &str| SealError::PinFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(&e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(bad("readable by group or others (chmod 600 it)"));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?);
    let pin = text.lines().next().unwrap_or_default();
    if pin.is_empty() {
        return Err(bad("empty"));
    }
    Ok(AuthPin::from(pin.to_owned()))
}

fn p11(e: P11Error) -> SealError {
    SealError::Pkcs11(e.to_string())
}
