/// Why a cryptographic operation failed. Deliberately coarse: callers map every
/// decryption failure to one wire error so that no failure reason leaks (no oracle).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed or the input is not a well-formed ciphertext.
    #[error("ciphertext could not be authenticated")]
    Unauthentic,
    /// Key material has the wrong length for the algorithm.
    #[error("key material has the wrong length")]
    BadKeyLength,
    /// The algorithm, spec or message kind is not available in this provider.
    #[error("not supported by the crypto provider")]
    Unsupported,
    /// A key (e.g. a peer's public key, or imported material) could not be parsed or is invalid.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The input is invalid for the operation (e.g. a digest of the wrong length, a plaintext too long).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The system random generator failed.
    #[error("the random generator failed")]
    Rng,
    /// A sealed root key could not be read or written.
    #[error("root key store: {0}")]
    Sealer(String),
}
