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
    /// The system random generator failed.
    #[error("the random generator failed")]
    Rng,
    /// A sealed root key could not be read or written.
    #[error("root key store: {0}")]
    Sealer(String),
}
