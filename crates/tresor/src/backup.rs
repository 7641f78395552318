//! Backup files (docs/formats.md): a consistent copy of a production data directory's
//! database and seal file, made by the running server (`TresorOperator.Backup`), written
//! by `tresor admin backup --out FILE`, and turned into a new data directory by
//! `tresor restore`.
//!
//! Layout: the magic `TRESORBK`, a 4-byte big-endian header length, a JSON header, the
//! seal file's bytes, the database's bytes. Key material in the database is wrapped under
//! the root key and the seal file holds only the encrypted root key and its check value,
//! so a backup is useless without the shares (or the HSM) that unseal it.

use aws_lc_rs::digest;
use base64::Engine as _;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use tresor_seal::SealFile;

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"TRESORBK";
/// The backup format this build writes and reads.
pub const FORMAT_V1: u32 = 1;
const DATABASE_FILE: &str = "tresor.sqlite";
/// Headers are small; anything larger is not a backup.
const MAX_HEADER: usize = 64 * 1024;

/// The JSON header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Header {
    /// [`FORMAT_V1`].
    pub format: u32,
    /// When the copy was taken (RFC 3339, UTC).
    pub created: String,
    /// The tresor version that took it.
    pub tresor_version: String,
    /// The sealer of the copied directory (`shamir`, `pkcs11`).
    pub sealer: String,
    /// The database schema version (`PRAGMA user_version`).
    pub schema_version: i64,
    /// The seal file section.
    pub seal_file: Section,
    /// The database section.
    pub database: Section,
}

/// One section's length and SHA-256.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Section {
    /// Length in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes).as_ref())
}

fn section(bytes: &[u8]) -> Section {
    Section {
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    }
}

/// Takes a backup of the production data directory `dir` of the running server: the
/// database through SQLite's online backup API (consistent while writers continue) and
/// the seal file. The caller keeps the seal file from changing meanwhile.
pub fn create(dir: &Path) -> Result<Vec<u8>, String> {
    let seal =
        std::fs::read(SealFile::path_in(dir)).map_err(|e| format!("reading the seal file: {e}"))?;
    let sealer = SealFile::read(dir)
        .map_err(|e| e.to_string())?
        .kind()
        .name()
        .to_string();
    let tmp = dir.join(format!(".backup-{}.sqlite", uuid::Uuid::new_v4()));
    let copied = tresor_store::backup_database(&dir.join(DATABASE_FILE), &tmp)
        .map_err(|e| e.to_string())
        .and_then(|()| tresor_store::check_database(&tmp).map_err(|e| e.to_string()))
        .and_then(|schema| {
            std::fs::read(&tmp)
                .map(|db| (schema, db))
                .map_err(|e| e.to_string())
        });
    let _ = std::fs::remove_file(&tmp);
    let (schema_version, database) = copied.map_err(|e| format!("copying the database: {e}"))?;
    let header = Header {
        format: FORMAT_V1,
        created: now_rfc3339(),
        tresor_version: env!("CARGO_PKG_VERSION").into(),
        sealer,
        schema_version,
        seal_file: section(&seal),
        database: section(&database),
    };
    let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    let header_len = u32::try_from(header.len()).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(12 + header.len() + seal.len() + database.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header_len.to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&seal);
    out.extend_from_slice(&database);
    Ok(out)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A parsed, checked backup file.
pub struct Parsed<'a> {
    /// The header.
    pub header: Header,
    /// The seal file's bytes.
    pub seal: &'a [u8],
    /// The database's bytes.
    pub database: &'a [u8],
}

impl std::fmt::Debug for Parsed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("header", &self.header)
            .field("seal", &self.seal.len())
            .field("database", &self.database.len())
            .finish()
    }
}

/// Parses `bytes` as a backup and checks the lengths and hashes of its sections.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let not_backup = || "not a Tresor backup file".to_string();
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(not_backup)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(not_backup)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| not_backup())?;
    if len > MAX_HEADER || len > rest.len() {
        return Err(not_backup());
    }
    let (header, rest) = rest.split_at(len);
    let header: Header =
        serde_json::from_slice(header).map_err(|e| format!("unreadable backup header: {e}"))?;
    if header.format != FORMAT_V1 {
        return Err(format!(
            "backup format {} is not supported (this build reads {FORMAT_V1})",
            header.format
        ));
    }
    let seal_len = usize::try_from(header.seal_file.bytes).map_err(|_| not_backup())?;
    let db_len = usize::try_from(header.database.bytes).map_err(|_| not_backup())?;
    if seal_len.checked_add(db_len) != Some(rest.len()) {
        return Err("the backup file is truncated or has trailing bytes".into());
    }
    let (seal, database) = rest.split_at(seal_len);
    for (name, data, want) in [
        ("seal file", seal, &header.seal_file.sha256),
        ("database", database, &header.database.sha256),
    ] {
        if sha256_hex(data) != *want {
            return Err(format!("the backup's {name} is corrupt (SHA-256 mismatch)"));
        }
    }
    Ok(Parsed {
        header,
        seal,
        database,
    })
}

/// `tresor restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (`tresor admin backup --out FILE`).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The data directory to create (must not exist; made mode 0700).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// Runs `tresor restore`: checks the backup, then builds a new data directory from it.
pub fn restore(args: RestoreArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    let dir = &args.data_dir;
    if dir.exists() {
        return Err(format!(
            "{} already exists; `tresor restore` makes a new data directory",
            dir.display()
        ));
    }
    let bytes =
        std::fs::read(&args.from).map_err(|e| format!("reading {}: {e}", args.from.display()))?;
    let backup = parse(&bytes)?;
    crate::init::create_private_dir(dir)?;
    let made = (|| {
        write_private(&SealFile::path_in(dir), backup.seal)?;
        SealFile::read(dir).map_err(|e| format!("the backup's seal file: {e}"))?;
        let db = dir.join(DATABASE_FILE);
        write_private(&db, backup.database)?;
        tresor_store::check_database(&db).map_err(|e| format!("the backup's database: {e}"))?;
        crate::init::check_production_dir(dir, false)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| e.to_string())
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(dir);
        return Err(e);
    }
    println!(
        "Restored {} ({} sealer, taken {}) into {} in {:.2} s.",
        args.from.display(),
        backup.header.sealer,
        backup.header.created,
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "Start it with `tresor serve --data-dir {}` and unseal it with the shares current when the backup was taken.",
        dir.display()
    );
    Ok(())
}

/// Creates `path` (mode 0600; never overwrites) holding `bytes`, synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = opts.open(path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.map_err(|e| format!("writing {}: {e}", path.display()))
}

/// `tresor admin backup`: decodes the server's answer and writes the file.
pub fn save_answer(answer: &serde_json::Value, out: &Path) -> Result<String, String> {
    let encoded = answer
        .get("Backup")
        .and_then(serde_json::Value::as_str)
        .ok_or("the server's answer has no Backup")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the server's backup is not base64: {e}"))?;
    let parsed = parse(&bytes)?;
    write_private(out, &bytes)?;
    Ok(format!(
        "Backup written to {} ({} bytes, {} sealer, schema {}, SHA-256 {})",
        out.display(),
        bytes.len(),
        parsed.header.sealer,
        parsed.header.schema_version,
        sha256_hex(&bytes)
    ))
}

/// The server's answer to `TresorOperator.Backup`.
pub fn answer(bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "Backup": base64::engine::general_purpose::STANDARD.encode(bytes),
        "Bytes": bytes.len(),
        "Sha256": sha256_hex(bytes),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let (seal, db) = (
            b"{\"seal\":1}".as_slice(),
            b"SQLite format 3\0...".as_slice(),
        );
        let header = serde_json::to_vec(&Header {
            format: FORMAT_V1,
            created: "2025-01-01T00:00:00Z".into(),
            tresor_version: "0".into(),
            sealer: "shamir".into(),
            schema_version: 1,
            seal_file: section(seal),
            database: section(db),
        })
        .unwrap();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&u32::try_from(header.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(seal);
        out.extend_from_slice(db);
        out
    }

    #[test]
    fn parses_its_own_format_and_refuses_damage() {
        let good = sample();
        let p = parse(&good).unwrap();
        assert_eq!(p.seal, b"{\"seal\":1}");
        assert!(p.database.starts_with(b"SQLite"));
        // Truncated, extended, flipped, foreign, absurd header length: refused, no panic.
        assert!(parse(&good[..good.len() - 1]).is_err());
        let mut longer = good.clone();
        longer.push(0);
        assert!(parse(&longer).is_err());
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(parse(&flipped).unwrap_err().contains("corrupt"));
        assert!(parse(b"SQLite format 3\0").is_err());
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(&huge).is_err());
        for n in 0..good.len().min(200) {
            let _ = parse(&good[..n]);
        }
    }
}
