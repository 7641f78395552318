//! The PKCS#11 sealer: a non-extractable AES-256 key generated inside a token encrypts
//! the root key (`CKM_AES_GCM`, AAD binding the seal record); the server logs in with the
//! PIN from a file and decrypts it at start (auto-unseal).
//!
//! `C_Encrypt`/`C_Decrypt` are used rather than `C_WrapKey`/`C_UnwrapKey`: SoftHSM2 does
//! not offer GCM for key wrapping, AES key wrap has no AAD, and wrapping would need the
//! root key imported as a token object (and unwrapping to leave it extractable) only to
//! read it back into host memory, where the server needs it anyway.

use crate::seal_file::{b64, now_rfc3339, random_id, unb64, Pkcs11Record, SealFile, SealerRecord};
use crate::token::{Module, TokenError, TokenSession, GCM_IV_LEN};
use crate::{Initialized, RootMaterial, SealError, Sealer, SealerKind, SEAL_FORMAT_V1};
use std::path::{Path, PathBuf};
use tresor_crypto::SecretBytes;
use zeroize::Zeroizing;

const MECHANISM: &str = "CKM_AES_GCM";

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
            let wrapped = token
                .session
                .encrypt_gcm(key, &mut iv, &aad, root.expose())
                .map_err(p11)?;
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
            let _ = token.session.destroy(key);
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
        let iv: [u8; GCM_IV_LEN] = unb64(&record.iv)?
            .try_into()
            .map_err(|_| SealError::Tampered)?;
        let wrapped = unb64(&record.wrapped_root_key)?;
        let token = Token::open(&self.config)?;
        let key = token.find_wrapping_key(&record.key_label, &record.seal_id)?;
        let aad = aad(record, &file.created);
        let plain = token
            .session
            .decrypt_gcm(key, &iv, &aad, &wrapped)
            .map_err(|e| match e {
                TokenError::Unauthentic => SealError::Tampered,
                e => p11(e),
            })?;
        RootMaterial::from_secret(SecretBytes::from_slice(plain.expose()))
            .map_err(|_| SealError::Tampered)
    }
}

/// A logged-in read-write session on the configured token.
struct Token {
    session: TokenSession,
}

impl Token {
    fn open(config: &Pkcs11Config) -> Result<Self, SealError> {
        let pin = read_pin(&config.pin_file)?;
        let module = Module::load(&config.module).map_err(p11)?;
        let session = module.login(&config.token_label, &pin).map_err(p11)?;
        Ok(Self { session })
    }

    fn generate_wrapping_key(
        &self,
        label: &str,
        id: &str,
    ) -> Result<crate::token::ObjectHandle, SealError> {
        self.session
            .generate_aes_key(label, id.as_bytes())
            .map_err(p11)
    }

    fn find_wrapping_key(
        &self,
        label: &str,
        id: &str,
    ) -> Result<crate::token::ObjectHandle, SealError> {
        self.session
            .find_key(label, id.as_bytes())
            .map_err(|e| match e {
                TokenError::KeyNotFound(_) => {
                    SealError::Pkcs11(format!("wrapping key {label:?} not found on the token"))
                }
                e => p11(e),
            })
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
fn read_pin(path: &Path) -> Result<Zeroizing<String>, SealError> {
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
    Ok(Zeroizing::new(pin.to_owned()))
}

fn p11(e: TokenError) -> SealError {
    SealError::Pkcs11(e.to_string())
}
