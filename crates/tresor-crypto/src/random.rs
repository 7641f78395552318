//! The system random generator (aws-lc's DRBG).

use crate::{CryptoError, SecretBytes};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new().fill(buf).map_err(|_| CryptoError::Rng)
}

/// `n` random bytes meant to stay secret (data keys, key material).
pub fn secret(n: usize) -> Result<SecretBytes, CryptoError> {
    let mut s = SecretBytes::new(vec![0u8; n]);
    fill(s.expose_mut())?;
    Ok(s)
}
