//! `serve --dev --tls`: a throwaway CA and a server certificate for the loopback names
//! (`localhost`, `127.0.0.1`, `::1`), made with rcgen in `DATA_DIR/tls/`.
//!
//! The CA's private key is never written: it signs the one server certificate and is
//! dropped, so the CA can vouch for nothing else. The files are reused on later starts
//! (clients keep trusting `ca.pem`) and made anew when one is missing.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// The files of a dev TLS setup.
#[derive(Debug, Clone)]
pub struct DevTls {
    /// The CA certificate clients trust (`AWS_CA_BUNDLE`).
    pub ca: PathBuf,
    /// The server certificate chain (server certificate, then the CA).
    pub cert: PathBuf,
    /// The server's private key (mode 0600).
    pub key: PathBuf,
}

/// Makes (or reuses) the dev certificate in `data_dir/tls`.
pub fn ensure(data_dir: &Path) -> Result<DevTls, String> {
    let dir = data_dir.join("tls");
    let files = DevTls {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.ca.is_file() && files.cert.is_file() && files.key.is_file() {
        return Ok(files);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let (ca_pem, chain_pem, key_pem) = generate().map_err(|e| format!("dev TLS: {e}"))?;
    write_private(&files.key, key_pem.as_bytes())?;
    std::fs::write(&files.cert, chain_pem)
        .map_err(|e| format!("writing {}: {e}", files.cert.display()))?;
    std::fs::write(&files.ca, ca_pem)
        .map_err(|e| format!("writing {}: {e}", files.ca.display()))?;
    tracing::info!("made a development TLS certificate in {}", dir.display());
    Ok(files)
}

/// (CA certificate, server chain, server key), PEM.
fn generate() -> Result<(String, String, zeroize::Zeroizing<String>), rcgen::Error> {
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "Tresor development CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::hours(1);
    ca.not_after = now + time::Duration::days(825);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut leaf = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "Tresor development server");
    leaf.use_authority_key_identifier_extension = true;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = now - time::Duration::hours(1);
    leaf.not_after = now + time::Duration::days(397);
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    let ca_pem = ca_cert.pem();
    Ok((
        ca_pem.clone(),
        leaf_cert.pem() + &ca_pem,
        zeroize::Zeroizing::new(leaf_key.serialize_pem()),
    ))
}

/// Writes `bytes` to a new file only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("writing {}: {e}", path.display()))
}
