//! The system random generator (aws-lc's DRBG).

use crate::{CryptoError, SecretBytes};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use std::cell::RefCell;

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

/// Bytes each thread draws from the DRBG at once for [`fill_public`].
const POOL_BYTES: usize = 1024;

/// A thread's unused DRBG output for [`fill_public`]: `bytes[used..]` were never
/// handed out.
struct Pool {
    bytes: [u8; POOL_BYTES],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL_BYTES], used: POOL_BYTES })
    };
}

/// Fills `buf` with random bytes that will be published (a blob's salt, a nonce):
/// drawn from a per-thread buffer of DRBG output refilled 1 KiB at a time, since each
/// DRBG call costs far more than the bytes it makes. Every byte is handed out once.
/// Never for secrets: those come from [`fill`] or [`secret`] and stay out of the buffer.
pub fn fill_public(buf: &mut [u8]) -> Result<(), CryptoError> {
    if buf.len() > POOL_BYTES / 4 {
        return fill(buf);
    }
    POOL.with_borrow_mut(|pool| {
        if POOL_BYTES - pool.used < buf.len() {
            fill(&mut pool.bytes)?;
            pool.used = 0;
        }
        let end = pool.used + buf.len();
        let taken = pool.bytes.get(pool.used..end).ok_or(CryptoError::Rng)?;
        buf.copy_from_slice(taken);
        pool.used = end;
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn public_bytes_never_repeat_across_refills() {
        // 32-byte salts over many refills (1024 / 32 per pool), and odd sizes that
        // leave a remainder at each refill: no value is ever handed out twice.
        let mut seen = HashSet::new();
        for i in 0..5000 {
            let mut salt = [0u8; 32];
            fill_public(&mut salt).unwrap();
            assert!(seen.insert(salt.to_vec()), "salt {i} repeated");
            let mut odd = [0u8; 12];
            fill_public(&mut odd).unwrap();
            assert!(seen.insert(odd.to_vec()), "nonce {i} repeated");
        }
    }

    #[test]
    fn public_bytes_differ_between_threads() {
        let draw = || {
            let mut b = [0u8; 32];
            fill_public(&mut b).unwrap();
            b
        };
        let here = draw();
        let there = std::thread::spawn(draw).join().unwrap();
        assert_ne!(here, there);
        assert_ne!(here, [0u8; 32]);
    }

    #[test]
    fn large_public_requests_bypass_the_pool() {
        let used = || POOL.with_borrow(|p| p.used);
        let mut small = [0u8; 16];
        fill_public(&mut small).unwrap();
        let before = used();
        let mut big = [0u8; 512];
        fill_public(&mut big).unwrap();
        assert_eq!(used(), before, "a large request took bytes from the pool");
        assert!(big.iter().any(|b| *b != 0));
    }
}
