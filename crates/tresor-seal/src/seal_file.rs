//! The seal file (`seal.json` in the data directory): which sealer protects the root key,
//! and what that sealer needs to unseal it. It holds no secret in the clear.

use crate::SealError;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the seal file inside a data directory.
pub const SEAL_FILE_NAME: &str = "seal.json";
/// File name of the development root key file ([`tresor_crypto::FileSealer`]).
pub const DEV_ROOT_KEY_FILE: &str = "root.key";
/// The seal file format version this crate writes and reads.
pub const SEAL_FORMAT_V1: u32 = 1;

/// Which sealer protects a data directory's root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealerKind {
    /// The root key in a plain file: development only.
    File,
    /// Shamir shares held by operators; the server starts sealed.
    Shamir,
    /// An HSM key wraps the root key; the server unseals itself at start.
    Pkcs11,
}

impl SealerKind {
    /// The name used in the seal file and in messages.
    pub fn name(self) -> &'static str {
        match self {
            SealerKind::File => "file",
            SealerKind::Shamir => "shamir",
            SealerKind::Pkcs11 => "pkcs11",
        }
    }

    /// True for the sealers fit for production (`serve` without `--dev`).
    pub fn is_production(self) -> bool {
        !matches!(self, SealerKind::File)
    }
}

/// The parsed seal file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealFile {
    /// Format version ([`SEAL_FORMAT_V1`]).
    pub format: u32,
    /// When the seal was made (RFC 3339, UTC).
    pub created: String,
    /// The sealer and its record.
    pub sealer: SealerRecord,
}

/// What each sealer stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SealerRecord {
    /// Development: the root key is in `path` (relative to the data directory), in clear.
    File {
        /// The root key file, relative to the data directory.
        path: String,
    },
    /// Shamir: the root key encrypted under a key derived from the shared secret.
    Shamir(ShamirRecord),
    /// PKCS#11: the root key encrypted by a non-extractable key inside a token.
    Pkcs11(Pkcs11Record),
}

/// The Shamir seal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShamirRecord {
    /// Random id of this share set (16 hex digits); every share carries it.
    pub share_set_id: String,
    /// Number of shares issued.
    pub shares: u8,
    /// Number of shares needed to unseal.
    pub threshold: u8,
    /// Base64 HMAC-SHA256 check value of the reassembled secret.
    pub check: String,
    /// Base64 `nonce ‖ AES-256-GCM(root key) ‖ tag`.
    pub encrypted_root_key: String,
}

/// The PKCS#11 seal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Record {
    /// Random id of this seal (16 hex digits), also the key's `CKA_ID`.
    pub seal_id: String,
    /// Label of the token holding the wrapping key.
    pub token_label: String,
    /// `CKA_LABEL` of the wrapping key (`tresor-root-wrap-<seal_id>`).
    pub key_label: String,
    /// The mechanism used (`CKM_AES_GCM`).
    pub mechanism: String,
    /// Base64 GCM IV.
    pub iv: String,
    /// Base64 `AES-256-GCM(root key) ‖ tag`, as returned by the token.
    pub wrapped_root_key: String,
}

impl SealFile {
    /// Which sealer this file is for.
    pub fn kind(&self) -> SealerKind {
        match self.sealer {
            SealerRecord::File { .. } => SealerKind::File,
            SealerRecord::Shamir(_) => SealerKind::Shamir,
            SealerRecord::Pkcs11(_) => SealerKind::Pkcs11,
        }
    }

    /// Path of the seal file in data directory `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(SEAL_FILE_NAME)
    }

    /// Reads and parses `dir/seal.json`.
    pub fn read(dir: &Path) -> Result<Self, SealError> {
        let path = Self::path_in(dir);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SealError::NotInitialized(path))
            }
            Err(e) => return Err(SealError::io(path, e)),
        };
        Self::parse(&text)
    }

    /// Parses a seal file's text (as stored in the database, or read from disk).
    pub fn parse(text: &[u8]) -> Result<Self, SealError> {
        let file: SealFile =
            serde_json::from_slice(text).map_err(|e| SealError::InvalidSealFile(e.to_string()))?;
        if file.format != SEAL_FORMAT_V1 {
            return Err(SealError::InvalidSealFile(format!(
                "unknown format version {}",
                file.format
            )));
        }
        Ok(file)
    }

    /// The seal file's text, as [`SealFile::write`] writes it.
    pub fn to_json(&self) -> Result<String, SealError> {
        let mut json = serde_json::to_string_pretty(self)
            .map_err(|e| SealError::InvalidSealFile(e.to_string()))?;
        json.push('\n');
        Ok(json)
    }

    /// Writes `dir/seal.json` durably (temporary file, fsync, rename, fsync of the
    /// directory), mode 0600. With `replace` false, an existing seal file is an error.
    pub fn write(&self, dir: &Path, replace: bool) -> Result<(), SealError> {
        let path = Self::path_in(dir);
        if !replace && path.exists() {
            return Err(SealError::AlreadyInitialized(path));
        }
        let json = self.to_json()?.into_bytes();
        let tmp = dir.join(format!("{SEAL_FILE_NAME}.tmp"));
        let write = || -> std::io::Result<()> {
            let _ = std::fs::remove_file(&tmp);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| SealError::io(&path, e))
    }

    /// A seal file recording that `dir` uses the development file sealer
    /// ([`DEV_ROOT_KEY_FILE`]), so that `serve` can tell it apart and refuse it outside
    /// `--dev`.
    pub fn dev_file(created: String) -> Self {
        Self {
            format: SEAL_FORMAT_V1,
            created,
            sealer: SealerRecord::File {
                path: DEV_ROOT_KEY_FILE.to_owned(),
            },
        }
    }
}

/// What a data directory holds, for `serve` to decide how to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectorySeal {
    /// Neither a seal file nor a root key file: run `init` (or `serve --dev`) first.
    Uninitialized,
    /// A root key file with no seal file: a directory made by `serve --dev` before seal
    /// files existed. Development only.
    LegacyDevFile,
    /// A seal file.
    Sealed(SealFile),
}

impl DirectorySeal {
    /// Looks at data directory `dir`.
    pub fn detect(dir: &Path) -> Result<Self, SealError> {
        match SealFile::read(dir) {
            Ok(file) => Ok(Self::Sealed(file)),
            Err(SealError::NotInitialized(_)) if dir.join(DEV_ROOT_KEY_FILE).exists() => {
                Ok(Self::LegacyDevFile)
            }
            Err(SealError::NotInitialized(_)) => Ok(Self::Uninitialized),
            Err(e) => Err(e),
        }
    }

    /// The sealer in use, if any.
    pub fn kind(&self) -> Option<SealerKind> {
        match self {
            Self::Uninitialized => None,
            Self::LegacyDevFile => Some(SealerKind::File),
            Self::Sealed(f) => Some(f.kind()),
        }
    }
}

/// The current time in RFC 3339 (UTC, seconds).
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// A random 64-bit id as 16 hex digits.
pub(crate) fn random_id() -> Result<String, SealError> {
    let mut id = [0u8; 8];
    tresor_crypto::random::fill(&mut id)?;
    Ok(id.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, SealError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| SealError::Tampered)
}
