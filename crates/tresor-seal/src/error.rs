use std::path::PathBuf;

/// Why sealing or unsealing failed. Messages name the problem for an operator and never
/// contain key material, shares or PINs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The sealer's parameters are unusable (e.g. a threshold above the share count).
    #[error("invalid sealer parameters: {0}")]
    InvalidParameters(String),
    /// `init` was asked to seal a directory that already has a seal file.
    #[error("{} already exists: this data directory is already initialized", .0.display())]
    AlreadyInitialized(PathBuf),
    /// The data directory has no seal file.
    #[error("{} not found: this data directory is not initialized", .0.display())]
    NotInitialized(PathBuf),
    /// The seal file was made by another sealer than the one asked to open it.
    #[error("the data directory is sealed with `{found}`, not `{expected}`")]
    WrongSealer {
        /// The sealer asked to open the directory.
        expected: &'static str,
        /// The sealer recorded in the seal file.
        found: &'static str,
    },
    /// The seal file cannot be parsed or has an unknown format version.
    #[error("seal file is invalid: {0}")]
    InvalidSealFile(String),
    /// The seal file parses, but its contents fail authentication (edited or swapped).
    #[error("the seal file has been tampered with or belongs to another key")]
    Tampered,
    /// A share is not in the `tresor-share:v1:...` format, or its checksum is wrong.
    #[error("malformed share: {0}")]
    MalformedShare(&'static str),
    /// A share of another share set (another data directory, or from before a rekey).
    #[error(
        "the share belongs to another share set (another data directory, or replaced by a rekey)"
    )]
    ForeignShare,
    /// The same share was submitted twice in one unseal attempt.
    #[error("share {0} was already submitted")]
    DuplicateShare(u8),
    /// The threshold was reached but the shares do not reassemble the secret (the check
    /// value does not match). Progress is reset.
    #[error("the submitted shares do not reassemble the secret; progress has been reset")]
    WrongShares,
    /// The PKCS#11 module, token or key refused an operation.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// The PIN file is missing, empty or readable by others.
    #[error("PIN file {}: {reason}", path.display())]
    PinFile {
        /// The PIN file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A cryptographic primitive failed (random generator, key setup).
    #[error("crypto: {0}")]
    Crypto(#[from] tresor_crypto::CryptoError),
}

impl SealError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
