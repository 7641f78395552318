//! The service's audit signing key: ECDSA P-384 with SHA-384 (ASN.1 DER signatures), so
//! `openssl dgst -sha384 -verify KEY.pem -signature FILE.sig FILE` checks a digest.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING,
};
use base64::Engine;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The algorithm name written into digests.
pub const SIGNATURE_ALGORITHM: &str = "ECDSA_P384_SHA384";

/// The audit signing key pair.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    spki_der: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// The hex SHA-256 of a DER SubjectPublicKeyInfo: how digests name their key.
pub fn fingerprint(spki_der: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        spki_der,
    ))
}

/// PEM armour of `der` with `label` (`PUBLIC KEY`, `PRIVATE KEY`).
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside a PEM document (the first block).
pub fn from_pem(pem: &str) -> io::Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END "))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| other(format!("bad PEM: {e}")))
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename) with `mode`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(&tmp)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        // Do not leave a partial temporary behind (it would hold space on a full disk).
        drop(f);
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    drop(f);
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// fsyncs a directory so that the names in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl SigningKey {
    /// Loads the PKCS#8 PEM private key at `path`, or generates one and stores it there
    /// (mode 0600). Either way the public key is exported next to it as
    /// `<stem>.pub.pem` and `<stem>.pub.der`.
    pub fn load_or_create(path: &Path) -> io::Result<SigningKey> {
        let pair = if path.exists() {
            let pem = std::fs::read_to_string(path)?;
            let der = from_pem(&pem)?;
            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &der).map_err(|e| {
                other(format!(
                    "{} is not an ECDSA P-384 PKCS#8 key: {e}",
                    path.display()
                ))
            })?
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let pair = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
                .map_err(|e| other(format!("generating the audit signing key: {e}")))?;
            let der = pair
                .to_pkcs8v1()
                .map_err(|e| other(format!("encoding the audit signing key: {e}")))?;
            write_atomic(path, to_pem("PRIVATE KEY", der.as_ref()).as_bytes(), 0o600)?;
            pair
        };
        let spki_der = pair
            .public_key()
            .as_der()
            .map_err(|e| other(format!("encoding the audit public key: {e}")))?
            .as_ref()
            .to_vec();
        let key = SigningKey {
            fingerprint: fingerprint(&spki_der),
            pair,
            spki_der,
        };
        let (pem_path, der_path) = public_key_paths(path);
        if std::fs::read(&der_path).ok().as_deref() != Some(key.spki_der.as_slice()) {
            write_atomic(&der_path, &key.spki_der, 0o644)?;
            write_atomic(&pem_path, key.public_pem().as_bytes(), 0o644)?;
        }
        Ok(key)
    }

    /// The public key as PEM (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        to_pem("PUBLIC KEY", &self.spki_der)
    }

    /// The public key's fingerprint (hex SHA-256 of its DER SubjectPublicKeyInfo).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Signs `msg`: an ASN.1 DER ECDSA P-384 signature over SHA-384(msg).
    pub fn sign(&self, msg: &[u8]) -> io::Result<Vec<u8>> {
        self.pair
            .sign(&SystemRandom::new(), msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| other(format!("signing a digest: {e}")))
    }
}

/// Where [`SigningKey::load_or_create`] exports the public key: (`.pub.pem`, `.pub.der`).
pub fn public_key_paths(private_key: &Path) -> (PathBuf, PathBuf) {
    let stem = private_key
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "audit-signing-key".into());
    (
        private_key.with_file_name(format!("{stem}.pub.pem")),
        private_key.with_file_name(format!("{stem}.pub.der")),
    )
}

/// Checks `signature` over `msg` with a DER SubjectPublicKeyInfo.
pub fn verify_signature(spki_der: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, spki_der)
        .verify(msg, signature)
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_persists_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-signing-key.pem");
        let k1 = SigningKey::load_or_create(&path).unwrap();
        let k2 = SigningKey::load_or_create(&path).unwrap();
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (pem, der) = public_key_paths(&path);
        let der = std::fs::read(der).unwrap();
        assert_eq!(
            from_pem(&std::fs::read_to_string(pem).unwrap()).unwrap(),
            der
        );
        let sig = k2.sign(b"hello").unwrap();
        assert!(verify_signature(&der, b"hello", &sig));
        assert!(!verify_signature(&der, b"hellO", &sig));
    }
}
