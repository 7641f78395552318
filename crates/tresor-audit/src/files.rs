//! The on-disk layout of an audit directory.
//!
//! ```text
//! DIR/tresor-audit-<first sequence, 20 digits>-<YYYYMMDDTHHMMSSZ>.jsonl   records
//! DIR/digests/tresor-digest-<digest sequence, 10 digits>.json           digest
//! DIR/digests/tresor-digest-<digest sequence, 10 digits>.sig            its signature
//! DIR/signing-keys/<fingerprint>.pem                                    public keys
//! ```
//!
//! Each record is one line: the CloudTrail event with a last member
//! `"tresor":{"sequence":N,"previousHash":"<hex SHA-256>"}`. The hash covers every
//! byte of the record's file before its line (newlines included); a file's first
//! record has the SHA-256 of the whole previous file, and the first record of all 64
//! zeros. So one running hash per file gives every link and the file's digest entry.
//! (Logs from before this format link each record to the SHA-256 of the previous line,
//! without its newline; `verify` accepts either link.) Sequences start at 1 and have no
//! gaps across files.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// Prefix of record files.
pub const LOG_PREFIX: &str = "tresor-audit-";
/// Suffix of record files.
pub const LOG_SUFFIX: &str = ".jsonl";
/// Subdirectory of digests.
pub const DIGEST_DIR: &str = "digests";
/// Subdirectory of public keys named by fingerprint.
pub const KEYS_DIR: &str = "signing-keys";
/// Prefix of digest files.
pub const DIGEST_PREFIX: &str = "tresor-digest-";
/// `previousHash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The digest format's version.
pub const DIGEST_VERSION: &str = "1";

/// The file name of a record file whose first record is `first_seq`.
pub fn log_file_name(first_seq: u64, now: time::OffsetDateTime) -> String {
    let t = crate::event::format_utc_seconds(now).replace(['-', ':'], "");
    format!("{LOG_PREFIX}{first_seq:020}-{t}{LOG_SUFFIX}")
}

/// The first sequence a record file's name announces.
pub fn parse_log_file_name(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(LOG_PREFIX)?.strip_suffix(LOG_SUFFIX)?;
    let (seq, _) = rest.split_once('-')?;
    seq.parse().ok()
}

/// The record files of `dir`, by first sequence.
pub fn list_log_files(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(seq) = name.to_str().and_then(parse_log_file_name) {
            out.push((seq, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The name of digest number `seq` (`.json`; its signature has `.sig`).
pub fn digest_file_name(seq: u64) -> String {
    format!("{DIGEST_PREFIX}{seq:010}.json")
}

/// The digests of `dir` (`(sequence, path of the .json)`), in order.
pub fn list_digests(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let ddir = dir.join(DIGEST_DIR);
    let mut out = Vec::new();
    if !ddir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(&ddir)? {
        let entry = entry?;
        let name = entry.file_name();
        let seq = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIGEST_PREFIX))
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(seq) = seq {
            out.push((seq, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A signed digest: what the record files it covers looked like when it was signed.
/// Its exact bytes (the `.json` file) are signed; the DER signature is the `.sig` file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Format version (`"1"`).
    pub digest_version: String,
    /// 1, 2, 3… with no gaps.
    pub digest_sequence: u64,
    /// When it was written (UTC, seconds).
    pub digest_time: String,
    /// Why: `rotation` (size), `interval` (age), `startup` (sealing files left by a
    /// previous run), `shutdown`.
    pub reason: String,
    /// The previous digest's file name; `null` for the first.
    pub previous_digest_file: Option<String>,
    /// The previous digest's signature (hex of its DER); `null` for the first.
    pub previous_digest_signature: Option<String>,
    /// First record sequence covered.
    pub first_sequence: u64,
    /// Last record sequence covered.
    pub last_sequence: u64,
    /// The `previousHash` the next file's first record carries: the SHA-256 of the
    /// last covered file (of its last line, in digests from before the one-pass chain).
    pub last_record_hash: String,
    /// The record files covered, in order.
    pub log_files: Vec<DigestedFile>,
    /// `ECDSA_P384_SHA384`.
    pub signature_algorithm: String,
    /// Hex SHA-256 of the signing public key's DER SubjectPublicKeyInfo.
    pub public_key_fingerprint: String,
}

/// One record file in a digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DigestedFile {
    /// Its name (in the audit directory).
    pub file_name: String,
    /// Hex SHA-256 of the whole file.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its first record's sequence.
    pub first_sequence: u64,
    /// Its last record's sequence.
    pub last_sequence: u64,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    digest_hex(&aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        bytes,
    ))
}

/// Lower-case hex of a digest.
pub fn digest_hex(digest: &aws_lc_rs::digest::Digest) -> String {
    hex64(digest).map_or_else(
        || hex::encode(digest),
        |h| String::from_utf8_lossy(&h).into_owned(),
    )
}

/// The 64 lower-case hex digits of a SHA-256 digest (`None` for another length), in a
/// fixed buffer: `hex::encode` grows its String a character at a time, and the writer
/// puts one into every record.
pub fn hex64(digest: &aws_lc_rs::digest::Digest) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    hex::encode_to_slice(digest.as_ref(), &mut out).ok()?;
    Some(out)
}

/// The chain member of a record line: `(sequence, previousHash)`.
pub fn chain_of(record: &serde_json::Value) -> Option<(u64, &str)> {
    let t = record.get("tresor")?;
    Some((
        t.get("sequence")?.as_u64()?,
        t.get("previousHash")?.as_str()?,
    ))
}

/// The node that wrote a record (`tresor.node`), when it says.
pub fn node_of(record: &serde_json::Value) -> Option<&str> {
    record.get("tresor")?.get("node")?.as_str()
}

/// When a record's request happened, in ms since the epoch: `tresor.timeMs`, or
/// `eventTime` (seconds) for records written before Tresor kept milliseconds.
pub fn time_ms_of(record: &serde_json::Value) -> Option<i64> {
    if let Some(ms) = record
        .get("tresor")
        .and_then(|t| t.get("timeMs"))
        .and_then(serde_json::Value::as_i64)
    {
        return Some(ms);
    }
    let t = record.get("eventTime")?.as_str()?;
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp().saturating_mul(1000))
}

/// The complete records of one audit directory, oldest first, read one file at a time:
/// `(file name, raw line, record)`. Lines that are not JSON are skipped.
pub struct Records {
    files: std::vec::IntoIter<(u64, PathBuf)>,
    name: String,
    lines: std::vec::IntoIter<String>,
}

impl Records {
    /// The records of `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            files: list_log_files(dir)?.into_iter(),
            name: String::new(),
            lines: Vec::new().into_iter(),
        })
    }
}

impl Iterator for Records {
    type Item = io::Result<(String, String, serde_json::Value)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            for raw in self.lines.by_ref() {
                if let Ok(v) = serde_json::from_str(&raw) {
                    return Some(Ok((self.name.clone(), raw, v)));
                }
            }
            let (_, path) = self.files.next()?;
            self.name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            };
            let (lines, _) = split_lines(&bytes);
            self.lines = lines
                .into_iter()
                .filter_map(|l| std::str::from_utf8(l).ok().map(str::to_string))
                .collect::<Vec<_>>()
                .into_iter();
        }
    }
}

/// The records of several nodes' audit directories merged by time (`tresor.timeMs`),
/// each directory's own order kept: `(directory index, file name, raw line, record)`.
/// Reads one file per directory at a time.
pub fn merged_records(
    dirs: &[PathBuf],
) -> io::Result<impl Iterator<Item = io::Result<(usize, String, String, serde_json::Value)>>> {
    let mut streams = Vec::with_capacity(dirs.len());
    for d in dirs {
        streams.push(Records::open(d)?.peekable());
    }
    Ok(std::iter::from_fn(move || {
        // The stream whose next record is the oldest (ties: the first directory).
        let mut best: Option<(usize, i64)> = None;
        for (i, s) in streams.iter_mut().enumerate() {
            let Some(head) = s.peek() else {
                continue;
            };
            let t = match head {
                Err(_) => i64::MIN,
                Ok((_, _, v)) => time_ms_of(v).unwrap_or(i64::MIN),
            };
            if best.is_none_or(|(_, bt)| t < bt) {
                best = Some((i, t));
            }
        }
        let (i, _) = best?;
        let next = streams.get_mut(i)?.next()?;
        Some(next.map(|(name, raw, v)| (i, name, raw, v)))
    }))
}

/// The complete lines of a record file (each without its newline) and the length of a
/// torn last line (bytes after the last newline).
pub fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let complete = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p.saturating_add(1));
    let (head, torn) = bytes.split_at(complete);
    let lines = if head.is_empty() {
        Vec::new()
    } else {
        head.strip_suffix(b"\n")
            .unwrap_or(head)
            .split(|b| *b == b'\n')
            .collect()
    };
    (lines, torn.len())
}

/// Calls `f(file name, raw line, record)` for every complete record of `dir`, oldest
/// first, until it returns `false`. Lines that are not JSON are skipped.
pub fn for_each_record(
    dir: &Path,
    mut f: impl FnMut(&str, &str, &serde_json::Value) -> bool,
) -> io::Result<()> {
    for (_, path) in list_log_files(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path)?;
        let (lines, _) = split_lines(&bytes);
        for line in lines {
            let Ok(raw) = std::str::from_utf8(line) else {
                continue;
            };
            if let Ok(v) = serde_json::from_str(raw) {
                if !f(&name, raw, &v) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Every complete record of `dir`, oldest first: `(file name, record)`.
pub fn read_all_records(dir: &Path) -> io::Result<Vec<(String, serde_json::Value)>> {
    let mut out = Vec::new();
    for_each_record(dir, |name, _, v| {
        out.push((name.to_string(), v.clone()));
        true
    })?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_795_867_200).unwrap();
        let n = log_file_name(42, t);
        assert_eq!(
            n,
            "tresor-audit-00000000000000000042-20261128T120000Z.jsonl"
        );
        assert_eq!(parse_log_file_name(&n), Some(42));
        assert!(log_file_name(9, t) < log_file_name(10, t));
    }

    #[test]
    fn split_lines_handles_torn_tails() {
        assert_eq!(split_lines(b""), (vec![], 0));
        assert_eq!(split_lines(b"a\nb\n"), (vec![&b"a"[..], &b"b"[..]], 0));
        assert_eq!(split_lines(b"a\nb\n{\"x"), (vec![&b"a"[..], &b"b"[..]], 3));
        assert_eq!(split_lines(b"{\"x"), (vec![], 3));
    }
}
