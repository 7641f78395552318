//! One logged-in PKCS#11 session of an `AWS_CLOUDHSM` store, and the key operations
//! that run inside the token: AES-256 key generation, AES-GCM, random bytes.
//!
//! Ciphertexts use the blob layout of `tresor_crypto::blob` (format byte, key id,
//! material version, 16-byte nonce field, ciphertext, tag). For a key in an HSM the
//! nonce field's first 12 bytes are the AES-GCM IV used in the token, with the token's
//! key directly (no per-message derivation: the key never leaves the token); the AAD is
//! the 37-byte header followed by the canonical encryption context, as for software keys.

use crate::error::{KmsError, KmsResult};

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use tresor_crypto::blob::{FORMAT_V1, HEADER_LEN};
use tresor_crypto::SecretBytes;
use tresor_seal::token::{ObjectHandle, TokenError, TokenSession, GCM_IV_LEN};

/// The material version of keys in an HSM store (they never rotate).
pub const HSM_VERSION: u32 = 1;
const TAG_LEN: usize = 16;

/// A logged-in session on a store's token.
pub struct HsmConnection {
    store_id: String,
    session: Mutex<TokenSession>,
    handles: Mutex<HashMap<String, ObjectHandle>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for HsmConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmConnection")
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

/// The token object label of KMS key `key_id`.
fn label(key_id: &str) -> String {
    format!("tresor-kms-key-{key_id}")
}

fn unavailable(key_arn: &str) -> KmsError {
    KmsError::InvalidState(format!("{key_arn} is unavailable."))
}

impl HsmConnection {
    pub(crate) fn new(store_id: String, session: TokenSession) -> Self {
        Self {
            store_id,
            session: Mutex::new(session),
            handles: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// After a disconnect: every later use is refused.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// True until the store is disconnected.
    pub fn is_open(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    fn session(&self, key_arn: &str) -> KmsResult<parking_lot::MutexGuard<'_, TokenSession>> {
        if !self.is_open() {
            return Err(unavailable(key_arn));
        }
        Ok(self.session.lock())
    }

    /// Generates the non-extractable AES-256 key of KMS key `key_id` in the token.
    pub(crate) fn generate_key(&self, key_id: &str, key_id_bytes: [u8; 16]) -> KmsResult<()> {
        let session = self.session(key_id)?;
        let handle = session
            .generate_aes_key(&label(key_id), &key_id_bytes)
            .map_err(|e| KmsError::internal(format!("HSM key generation: {e}")))?;
        self.handles.lock().insert(key_id.to_owned(), handle);
        Ok(())
    }

    fn handle(
        &self,
        session: &TokenSession,
        key_id: &str,
        key_id_bytes: [u8; 16],
    ) -> KmsResult<ObjectHandle> {
        if let Some(h) = self.handles.lock().get(key_id) {
            return Ok(*h);
        }
        let h = session
            .find_key(&label(key_id), &key_id_bytes)
            .map_err(|e| KmsError::internal(format!("HSM key {key_id}: {e}")))?;
        self.handles.lock().insert(key_id.to_owned(), h);
        Ok(h)
    }

    /// Encrypts `plaintext` in the token into a blob bound to `context` (canonical form).
    pub(crate) fn seal(
        &self,
        key_arn: &str,
        key_id: &str,
        key_id_bytes: [u8; 16],
        context: &[u8],
        plaintext: &[u8],
    ) -> KmsResult<Vec<u8>> {
        let session = self.session(key_arn)?;
        let handle = self.handle(&session, key_id, key_id_bytes)?;
        let mut nonce = [0u8; 16];
        tresor_crypto::random::fill(&mut nonce).map_err(KmsError::internal)?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.push(FORMAT_V1);
        header.extend_from_slice(&key_id_bytes);
        header.extend_from_slice(&HSM_VERSION.to_be_bytes());
        header.extend_from_slice(&nonce);
        let mut iv = iv_of(&nonce);
        let chosen = iv;
        let aad = [header.as_slice(), context].concat();
        let body = session
            .encrypt_gcm(handle, &mut iv, &aad, plaintext)
            .map_err(|e| KmsError::internal(format!("HSM encrypt: {e}")))?;
        if iv != chosen {
            return Err(KmsError::internal("the token chose its own GCM IV"));
        }
        Ok([header, body].concat())
    }

    /// Decrypts a blob made by [`HsmConnection::seal`]; every failure of the data is
    /// `InvalidCiphertextException`.
    pub(crate) fn open(
        &self,
        key_arn: &str,
        key_id: &str,
        key_id_bytes: [u8; 16],
        blob: &[u8],
        context: &[u8],
    ) -> KmsResult<SecretBytes> {
        let invalid = || KmsError::InvalidCiphertext(String::new());
        if blob.len() < HEADER_LEN + TAG_LEN {
            return Err(invalid());
        }
        let (header, body) = blob.split_at(HEADER_LEN);
        let nonce = header.get(21..37).ok_or_else(invalid)?;
        let mut n = [0u8; 16];
        n.copy_from_slice(nonce);
        let iv = iv_of(&n);
        let session = self.session(key_arn)?;
        let handle = self.handle(&session, key_id, key_id_bytes)?;
        let aad = [header, context].concat();
        session
            .decrypt_gcm(handle, &iv, &aad, body)
            .map_err(|e| match e {
                TokenError::Unauthentic => invalid(),
                e => KmsError::internal(format!("HSM decrypt: {e}")),
            })
    }

    /// `n` bytes from the token's random number generator.
    pub(crate) fn random(&self, n: usize) -> KmsResult<SecretBytes> {
        let session = self.session(&self.store_id)?;
        let mut out = vec![0u8; n];
        session
            .random(&mut out)
            .map_err(|e| KmsError::internal(format!("HSM random: {e}")))?;
        Ok(SecretBytes::new(out))
    }
}

fn iv_of(nonce: &[u8; 16]) -> [u8; GCM_IV_LEN] {
    let mut iv = [0u8; GCM_IV_LEN];
    for (d, s) in iv.iter_mut().zip(nonce.iter()) {
        *d = *s;
    }
    iv
}
