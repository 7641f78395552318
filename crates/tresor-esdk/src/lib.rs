//! The AWS Encryption SDK message format, version 2, for `tresor encrypt`/`decrypt`.
//!
//! Implements the key-committing suites 0x0578 (AES-256-GCM, HKDF-SHA512, key
//! commitment, ECDSA P-384 signature; the ESDK default) and 0x0478 (the same without the
//! signature), framed bodies only, streaming in constant memory (one frame at a time).
//! Getting and decrypting data keys (KMS) is the caller's job: encryption takes the
//! plaintext data key and its encrypted copies; decryption reads the header
//! ([`read_header`]), lets the caller choose and decrypt a data key, then streams.
//!
//! The format: <https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html>.

mod body;
mod decrypt;
mod encrypt;
mod error;
mod header;
mod signing;
mod suite;

pub use decrypt::Decryptor;
pub use encrypt::{signing_context, Encryptor, Materials};
pub use error::Error;
pub use header::{
    parse_context, read_header, serialize_context, EncryptedDataKey, EncryptionContext, Header,
    Limits, ParsedHeader, MAX_FRAME_LENGTH, PROVIDER_AWS_KMS, PUBLIC_KEY_CONTEXT_KEY,
    RESERVED_PREFIX,
};
pub use signing::Signer;
pub use suite::{Suite, KEY_LEN};

#[cfg(test)]
mod tests;
