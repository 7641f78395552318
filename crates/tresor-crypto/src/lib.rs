//! Tresor's cryptographic building blocks.
//!
//! Everything that touches key material in plaintext lives here: the root key and its
//! file sealer, wrapping of key material and secrets under the root key, the symmetric
//! data-encryption scheme and the self-describing ciphertext blob format. Plaintext key
//! material is held only in [`SecretBytes`] / [`RootKey`], which zeroize on drop and never
//! print their contents.
#![deny(missing_docs)]

pub mod asymmetric;
pub mod blob;
mod error;
pub mod keywrap;
pub mod random;
mod root;
mod secret;
pub mod symmetric;

pub use error::CryptoError;
pub use root::{FileSealer, RootKey, WrapPurpose};
pub use secret::SecretBytes;

/// True when `a` and `b` are equal, compared in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
