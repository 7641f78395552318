//! The root key: the one key that encrypts all key material and secrets at rest.

use crate::{random, CryptoError, SecretBytes};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version byte of the wrapped-material format (`docs/formats.md`).
const WRAP_FORMAT_V1: u8 = 1;
const ROOT_KEY_LEN: usize = 32;

/// What a wrapped value is bound to. The binding is the AES-GCM AAD, so a wrapped value
/// copied onto another key, version or access key fails to unwrap.
#[derive(Debug, Clone, Copy)]
pub enum WrapPurpose<'a> {
    /// Material version `version` of the KMS key `key_arn`.
    KeyMaterial {
        /// The owning key's ARN.
        key_arn: &'a str,
        /// The material version number.
        version: u32,
    },
    /// The private wrapping key of an import token.
    ImportWrappingKey {
        /// The import token's id.
        token_id: &'a str,
    },
    /// The secret of access key `access_key_id`.
    AccessKeySecret {
        /// The access key id.
        access_key_id: &'a str,
    },
    /// The previous root key, kept under root generation `generation` while a root
    /// rotation to that generation runs.
    PreviousRoot {
        /// The generation wrapping it.
        generation: u32,
    },
    /// The fingerprint seed, kept under root generation `generation`.
    FingerprintSeed {
        /// The generation wrapping it.
        generation: u32,
    },
    /// The secret of custom key store `id` (token PIN or XKS proxy secret).
    CustomKeyStoreSecret {
        /// The CustomKeyStoreId.
        id: &'a str,
    },
}

impl WrapPurpose<'_> {
    fn aad(&self) -> Vec<u8> {
        match self {
            WrapPurpose::KeyMaterial { key_arn, version } => {
                let mut aad = b"tresor:key-material:v1\0".to_vec();
                aad.extend_from_slice(key_arn.as_bytes());
                aad.push(0);
                aad.extend_from_slice(&version.to_be_bytes());
                aad
            }
            WrapPurpose::ImportWrappingKey { token_id } => {
                let mut aad = b"tresor:import-wrapping-key:v1\0".to_vec();
                aad.extend_from_slice(token_id.as_bytes());
                aad
            }
            WrapPurpose::AccessKeySecret { access_key_id } => {
                let mut aad = b"tresor:access-key-secret:v1\0".to_vec();
                aad.extend_from_slice(access_key_id.as_bytes());
                aad
            }
            WrapPurpose::PreviousRoot { generation } => {
                let mut aad = b"tresor:previous-root:v1\0".to_vec();
                aad.extend_from_slice(&generation.to_be_bytes());
                aad
            }
            WrapPurpose::FingerprintSeed { generation } => {
                let mut aad = b"tresor:fingerprint-seed:v1\0".to_vec();
                aad.extend_from_slice(&generation.to_be_bytes());
                aad
            }
            WrapPurpose::CustomKeyStoreSecret { id } => {
                let mut aad = b"tresor:custom-key-store-secret:v1\0".to_vec();
                aad.extend_from_slice(id.as_bytes());
                aad
            }
        }
    }
}

/// The 256-bit root key, held in memory only after unsealing.
pub struct RootKey {
    material: SecretBytes,
    key: LessSafeKey,
    fingerprint_seed: SecretBytes,
    fingerprint_key: hmac::Key,
    check: [u8; 32],
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(REDACTED)")
    }
}

impl RootKey {
    /// Builds a root key from 32 bytes of material.
    pub fn from_material(material: &SecretBytes) -> Result<Self, CryptoError> {
        if material.len() != ROOT_KEY_LEN {
            return Err(CryptoError::BadKeyLength);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, material.expose())
            .map_err(|_| CryptoError::BadKeyLength)?;
        let derive =
            |label: &[u8]| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, material.expose()), label);
        let fp_seed = SecretBytes::from_slice(derive(b"tresor:fingerprint-key:v1").as_ref());
        let mut check = [0u8; 32];
        check.copy_from_slice(
            derive(b"tresor:root-check:v1")
                .as_ref()
                .get(..32)
                .unwrap_or(&[0u8; 32]),
        );
        Ok(Self {
            material: material.clone(),
            key: LessSafeKey::new(unbound),
            fingerprint_key: hmac::Key::new(hmac::HMAC_SHA256, fp_seed.expose()),
            fingerprint_seed: fp_seed,
            check,
        })
    }

    /// Wraps another root key (the previous generation, during a root rotation) under
    /// this one.
    pub fn wrap_root(&self, generation: u32, other: &RootKey) -> Result<Vec<u8>, CryptoError> {
        self.wrap(WrapPurpose::PreviousRoot { generation }, &other.material)
    }

    /// Reverses [`RootKey::wrap_root`].
    pub fn unwrap_root(&self, generation: u32, wrapped: &[u8]) -> Result<RootKey, CryptoError> {
        RootKey::from_material(&self.unwrap(WrapPurpose::PreviousRoot { generation }, wrapped)?)
    }

    /// A value that tells this root key from another (HMAC of a fixed label under the
    /// key); reveals nothing of the key.
    pub fn check_value(&self) -> [u8; 32] {
        self.check
    }

    /// The seed of the fingerprint key. Fingerprints (public KeyMaterialIds) must stay
    /// the same across root rotations, so the seed is stored wrapped and carried over.
    pub fn fingerprint_seed(&self) -> &SecretBytes {
        &self.fingerprint_seed
    }

    /// This root key, fingerprinting with `seed` (from an earlier generation) instead of
    /// the seed derived from its own material.
    pub fn with_fingerprint_seed(mut self, seed: SecretBytes) -> Self {
        self.fingerprint_key = hmac::Key::new(hmac::HMAC_SHA256, seed.expose());
        self.fingerprint_seed = seed;
        self
    }

    /// Encrypts `plaintext` under the root key, bound to `purpose`.
    ///
    /// Output: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
    pub fn wrap(
        &self,
        purpose: WrapPurpose<'_>,
        plaintext: &SecretBytes,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        random::fill(&mut nonce)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(WRAP_FORMAT_V1);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.expose().to_vec();
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(purpose.aad()),
            &mut body,
        );
        if sealed.is_err() {
            zeroize::Zeroize::zeroize(&mut body);
            return Err(CryptoError::Unauthentic);
        }
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// A keyed fingerprint of secret `data` (HMAC-SHA256 under a key derived from the
    /// root key): equal inputs give equal fingerprints, and the fingerprint reveals
    /// nothing of the input to anyone without the root key.
    pub fn fingerprint(&self, label: &str, data: &SecretBytes) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.fingerprint_key);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        ctx.update(data.expose());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref().get(..32).unwrap_or(&[0u8; 32]));
        out
    }

    /// Reverses [`RootKey::wrap`]; fails unless `purpose` is the one used to wrap.
    pub fn unwrap(
        &self,
        purpose: WrapPurpose<'_>,
        wrapped: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let Some((&WRAP_FORMAT_V1, rest)) = wrapped.split_first() else {
            return Err(CryptoError::Unauthentic);
        };
        if rest.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Unauthentic);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Unauthentic)?;
        let mut buf = SecretBytes::from_slice(body);
        let len = self
            .key
            .open_in_place(nonce, Aad::from(purpose.aad()), buf.expose_mut())
            .map_err(|_| CryptoError::Unauthentic)?
            .len();
        Ok(SecretBytes::from_slice(
            buf.expose().get(..len).unwrap_or_default(),
        ))
    }
}

/// Development sealer: the root key lives in a file (mode 0600) in the data directory.
///
/// Anyone who can read the data directory can read every key, so this is for
/// development and tests only; production sealers (Shamir, PKCS#11) come later.
#[derive(Debug, Clone)]
pub struct FileSealer {
    path: PathBuf,
}

impl FileSealer {
    /// A sealer keeping the root key at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the root key file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when a root key file already exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads the root key, creating a fresh random one (durably) when none exists yet.
    pub fn load_or_create(&self) -> Result<RootKey, CryptoError> {
        if self.exists() {
            return self.load();
        }
        let material = random::secret(ROOT_KEY_LEN)?;
        let encoded = SecretBytes::new(hex_encode(material.expose()).into_bytes());
        let tmp = self.path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let _ = std::fs::remove_file(&tmp);
            let mut f = opts.open(&tmp)?;
            f.write_all(encoded.expose())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write()
            .map_err(|e| CryptoError::Sealer(format!("writing {}: {e}", self.path.display())))?;
        RootKey::from_material(&material)
    }

    /// Reads an existing root key.
    pub fn load(&self) -> Result<RootKey, CryptoError> {
        let text = std::fs::read(&self.path)
            .map(SecretBytes::new)
            .map_err(|e| CryptoError::Sealer(format!("reading {}: {e}", self.path.display())))?;
        let material = hex_decode(text.expose()).ok_or_else(|| {
            CryptoError::Sealer(format!("{} is not a root key file", self.path.display()))
        })?;
        RootKey::from_material(&material)
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}

fn hex_decode(text: &[u8]) -> Option<SecretBytes> {
    let text = text.trim_ascii();
    if text.len() != ROOT_KEY_LEN * 2 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = SecretBytes::new(vec![0u8; ROOT_KEY_LEN]);
    for (dst, pair) in out.expose_mut().iter_mut().zip(text.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *dst = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key() -> RootKey {
        RootKey::from_material(&random::secret(32).unwrap()).unwrap()
    }

    #[test]
    fn wrap_round_trips_and_binds_purpose() {
        let root = key();
        let secret = SecretBytes::from_slice(&[7u8; 32]);
        let p = WrapPurpose::KeyMaterial {
            key_arn: "arn:a",
            version: 1,
        };
        let w = root.wrap(p, &secret).unwrap();
        assert!(!w.windows(32).any(|win| win == secret.expose()));
        assert_eq!(root.unwrap(p, &w).unwrap(), secret);
        let other_version = WrapPurpose::KeyMaterial {
            key_arn: "arn:a",
            version: 2,
        };
        assert_eq!(
            root.unwrap(other_version, &w),
            Err(CryptoError::Unauthentic)
        );
        let other_key = WrapPurpose::KeyMaterial {
            key_arn: "arn:b",
            version: 1,
        };
        assert_eq!(root.unwrap(other_key, &w), Err(CryptoError::Unauthentic));
        let mut tampered = w.clone();
        if let Some(b) = tampered.last_mut() {
            *b ^= 1;
        }
        assert_eq!(root.unwrap(p, &tampered), Err(CryptoError::Unauthentic));
        assert_eq!(root.unwrap(p, &[]), Err(CryptoError::Unauthentic));
    }

    #[test]
    fn file_sealer_persists_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = FileSealer::new(dir.path().join("root.key"));
        let a = sealer.load_or_create().unwrap();
        let secret = SecretBytes::from_slice(b"material");
        let p = WrapPurpose::AccessKeySecret {
            access_key_id: "AKID",
        };
        let w = a.wrap(p, &secret).unwrap();
        let b = sealer.load_or_create().unwrap();
        assert_eq!(b.unwrap(p, &w).unwrap(), secret);
    }

    #[test]
    fn rejects_garbage_root_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        std::fs::write(&path, "zz").unwrap();
        assert!(FileSealer::new(path).load().is_err());
    }
}
