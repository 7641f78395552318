//! `audit_reader`: arbitrary bytes as the files of an audit directory, read and verified
//! by `tresor-audit` (`verify`, `files::read_all_records`, PEM keys).
//!
//! Input: parts separated by `0x00`: `pem`, then up to four groups of
//! `log file, digest JSON, digest signature (hex)`. A log part's first line is its file
//! name when that is a valid record-file name (else one is made up); the PEM is stored
//! under its fingerprint in `signing-keys/`. [`pack`] turns a real directory into this
//! form, so a real log (the seed corpus) verifies as intact.

use std::path::Path;
use tresor_audit::{files, signing};

const GROUPS: usize = 4;

/// Runs one input; panics only when the reader fails on the files it listed itself.
pub fn run(data: &[u8]) {
    let Ok(dir) = tempdir() else {
        return;
    };
    if unpack(data, dir.path()).is_err() {
        return;
    }
    let report = tresor_audit::verify(dir.path(), None);
    if let Err(e) = &report {
        io_error("verify", e);
    }
    let pinned = dir.path().join("pinned.pem");
    if pinned.exists() {
        let _ = tresor_audit::verify(dir.path(), Some(&pinned));
    }
    if let Err(e) = files::read_all_records(dir.path()) {
        io_error("read_all_records", &e);
    }
}

/// Verifies an unpacked input: `Ok(intact)`; for the seed test.
pub fn verify_packed(data: &[u8]) -> std::io::Result<bool> {
    let dir = tempdir()?;
    unpack(data, dir.path())?;
    Ok(tresor_audit::verify(dir.path(), None)?.is_intact())
}

/// A real audit directory in the input form of [`run`] (records, digests and the key).
pub fn pack(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let keys = dir.join(files::KEYS_DIR);
    let pem = match std::fs::read_dir(&keys) {
        Ok(mut entries) => match entries.next() {
            Some(e) => std::fs::read(e?.path())?,
            None => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    parts.push(pem);
    let logs = files::list_log_files(dir)?;
    let digests = files::list_digests(dir)?;
    for i in 0..logs.len().max(digests.len()).min(GROUPS) {
        let log = match logs.get(i) {
            Some((_, path)) => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let mut part = name.unwrap_or_default().into_bytes();
                part.push(b'\n');
                part.extend(std::fs::read(path)?);
                part
            }
            None => Vec::new(),
        };
        let (json, sig) = match digests.get(i) {
            Some((_, path)) => (
                std::fs::read(path)?,
                encode_hex(&std::fs::read(path.with_extension("sig"))?).into_bytes(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        parts.extend([log, json, sig]);
    }
    Ok(parts.join(&0u8))
}

fn unpack(data: &[u8], dir: &Path) -> std::io::Result<()> {
    let mut parts = data.split(|b| *b == 0);
    let pem = parts.next().unwrap_or_default();
    if !pem.is_empty() {
        let text = String::from_utf8_lossy(pem);
        std::fs::write(dir.join("pinned.pem"), pem)?;
        if let Ok(der) = signing::from_pem(&text) {
            let keys = dir.join(files::KEYS_DIR);
            std::fs::create_dir_all(&keys)?;
            std::fs::write(
                keys.join(format!("{}.pem", signing::fingerprint(&der))),
                pem,
            )?;
        }
    }
    let t0 = time::OffsetDateTime::UNIX_EPOCH;
    for group in 0..GROUPS {
        let (Some(log), json, sig) = (parts.next(), parts.next(), parts.next()) else {
            break;
        };
        if !log.is_empty() {
            let (first, rest) = crate::split_at_byte(log, b'\n');
            let first = String::from_utf8_lossy(first);
            let (name, content) = if files::parse_log_file_name(&first).is_some() {
                (first.into_owned(), rest)
            } else {
                let seq = u64::try_from(group).unwrap_or(0).saturating_add(1);
                let at = t0 + time::Duration::seconds(i64::try_from(group).unwrap_or(0));
                (files::log_file_name(seq, at), log)
            };
            std::fs::write(dir.join(name), content)?;
        }
        if let Some(json) = json.filter(|j| !j.is_empty()) {
            let ddir = dir.join(files::DIGEST_DIR);
            std::fs::create_dir_all(&ddir)?;
            let seq = u64::try_from(group).unwrap_or(0).saturating_add(1);
            let path = ddir.join(files::digest_file_name(seq));
            std::fs::write(&path, json)?;
            if let Some(sig) = sig {
                let raw = decode_hex(sig).unwrap_or_else(|| sig.to_vec());
                std::fs::write(path.with_extension("sig"), raw)?;
            }
        }
    }
    Ok(())
}

fn tempdir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i.checked_add(2)?)?, 16).ok())
        .collect()
}

#[allow(clippy::panic)]
fn io_error(what: &str, e: &std::io::Error) -> ! {
    panic!("audit_reader: {what} failed on files it listed itself: {e}")
}
