//! Offline verification of an audit directory: the record chain, the digests' signatures
//! and chain, and the files the digests cover.

use crate::files::{self, Digest, GENESIS_HASH};
use crate::signing;
use aws_lc_rs::digest::{Context, SHA256};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

/// At most this many problems are listed.
const MAX_PROBLEMS: usize = 50;

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Record files.
    pub files: usize,
    /// Complete records.
    pub records: u64,
    /// First and last sequence seen.
    pub sequences: Option<(u64, u64)>,
    /// Digests whose signature verified.
    pub digests: usize,
    /// Records in files no digest covers yet (the newest ones).
    pub unsigned_records: u64,
    /// Files no digest covers yet.
    pub unsigned_files: usize,
    /// When the oldest records were removed (retention): the first retained sequence
    /// and the digest that anchors the first retained file.
    pub retained_from: Option<(u64, String)>,
    /// Files listed in digests that retention removed (before the retained suffix).
    pub retired_files: usize,
    /// Fingerprints of the keys that signed the digests.
    pub key_fingerprints: BTreeSet<String>,
    /// The node ids the records name (`tresor.node`; none for logs written without one).
    pub nodes: BTreeSet<String>,
    /// Not failures (a torn last record left by a crash).
    pub warnings: Vec<String>,
    /// Failures, first broken link first. Empty when the log is intact.
    pub problems: Vec<String>,
}

impl VerifyReport {
    fn problem(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// True when no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

struct FileFacts {
    sha256: String,
    bytes: u64,
    first: Option<u64>,
    last: Option<u64>,
    records: u64,
}

/// Verifies the audit directory `dir`. With `public_key` (a PEM file), every digest must
/// be signed by that key; otherwise the keys in `DIR/signing-keys/` are used (and their
/// fingerprints reported, to compare with a trusted copy).
pub fn verify(dir: &Path, public_key: Option<&Path>) -> io::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let pinned = match public_key {
        Some(p) => Some(signing::from_pem(&std::fs::read_to_string(p)?)?),
        None => None,
    };
    let logs = files::list_log_files(dir)?;
    report.files = logs.len();
    let mut facts: BTreeMap<String, FileFacts> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // The log may start after sequence 1 when retention removed its oldest files: the
    // first retained file is then anchored by the signed digest that covers it.
    let first_retained = logs.first().map_or(1, |(first, _)| (*first).max(1));
    let mut expected_seq: u64 = first_retained;
    // A record's previousHash is the SHA-256 of its file before its line, or for a
    // file's first record the SHA-256 of the whole previous file (64 zeros for the
    // first record of all). Logs written before that format chain each record to the
    // SHA-256 of the line before it; a link either way commits to everything before.
    let mut prev_line_hash = GENESIS_HASH.to_string();
    let mut prev_file_hash = GENESIS_HASH.to_string();
    let n_logs = logs.len();
    for (i, (named_first, path)) in logs.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path)?;
        let (lines, torn) = files::split_lines(&bytes);
        let mut f = FileFacts {
            sha256: files::sha256_hex(&bytes),
            bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            first: None,
            last: None,
            records: 0,
        };
        let mut running = Context::new(&SHA256);
        for (ln, line) in lines.iter().enumerate() {
            let at = format!("{name} line {}", ln.saturating_add(1));
            let link = if ln == 0 {
                prev_file_hash.clone()
            } else {
                files::digest_hex(&running.clone().finish())
            };
            running.update(line);
            running.update(b"\n");
            let old_link = std::mem::replace(&mut prev_line_hash, files::sha256_hex(line));
            let v: serde_json::Value = match serde_json::from_slice(line) {
                Ok(v) => v,
                Err(e) => {
                    report.problem(format!("{at}: not a JSON record ({e})"));
                    expected_seq = expected_seq.saturating_add(1);
                    continue;
                }
            };
            if let Some(node) = files::node_of(&v) {
                if !report.nodes.contains(node) {
                    report.nodes.insert(node.to_string());
                }
            }
            let Some((seq, claimed_prev)) = files::chain_of(&v) else {
                report.problem(format!("{at}: record has no tresor.sequence/previousHash"));
                expected_seq = expected_seq.saturating_add(1);
                continue;
            };
            if seq != expected_seq {
                let what = if seq > expected_seq {
                    format!(
                        "records {expected_seq}..{} are missing",
                        seq.saturating_sub(1)
                    )
                } else {
                    "records are duplicated or out of order".to_string()
                };
                report.problem(format!(
                    "{at}: sequence {seq}, expected {expected_seq}: {what}"
                ));
            } else if claimed_prev != link
                && claimed_prev != old_link
                && !(seq == first_retained && seq > 1)
            {
                report.problem(format!(
                    "{at}: sequence {seq}: previousHash does not match the previous record (a record was altered, removed or reordered)"
                ));
            }
            if f.first.is_none() {
                f.first = Some(seq);
                if seq != *named_first {
                    report.problem(format!(
                        "{name}: first record has sequence {seq} but the file name says {named_first}"
                    ));
                }
            }
            f.last = Some(seq);
            f.records = f.records.saturating_add(1);
            report.records = report.records.saturating_add(1);
            expected_seq = seq.saturating_add(1);
        }
        if torn > 0 {
            if i.saturating_add(1) == n_logs {
                report.warnings.push(format!(
                    "{name}: ignoring a torn last record ({torn} bytes, an interrupted write)"
                ));
            } else {
                report.problem(format!(
                    "{name}: ends with a partial record ({torn} bytes) but is not the newest file"
                ));
            }
        }
        if lines.is_empty() && torn == 0 {
            report.warnings.push(format!("{name}: empty file"));
        }
        if f.records > 0 {
            prev_file_hash.clone_from(&f.sha256);
        }
        facts.insert(name.clone(), f);
        order.push(name);
    }
    if report.records > 0 {
        report.sequences = Some((
            facts.values().filter_map(|f| f.first).min().unwrap_or(0),
            expected_seq.saturating_sub(1),
        ));
    }

    // Digests.
    let digests = files::list_digests(dir)?;
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut prev: Option<(String, String, u64)> = None; // name, hex signature, last sequence
    let mut expected_digest = digests.first().map_or(1, |(seq, _)| *seq);
    let mut anchor: Option<String> = None;
    for (seq, path) in &digests {
        let dname = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if *seq != expected_digest {
            report.problem(format!(
                "digests/{dname}: digest {seq} follows digest {}: digest(s) missing",
                expected_digest.saturating_sub(1)
            ));
        }
        expected_digest = seq.saturating_add(1);
        let bytes = std::fs::read(path)?;
        let sig = match std::fs::read(path.with_extension("sig")) {
            Ok(s) => s,
            Err(_) => {
                report.problem(format!("digests/{dname}: its signature file is missing"));
                Vec::new()
            }
        };
        let d: Digest = match serde_json::from_slice(&bytes) {
            Ok(d) => d,
            Err(e) => {
                report.problem(format!("digests/{dname}: not a digest ({e})"));
                prev = Some((dname, hex::encode(&sig), 0));
                continue;
            }
        };
        let mut signature_ok = false;
        let key = match &pinned {
            Some(k) => Some(k.clone()),
            None => {
                let kp = dir
                    .join(files::KEYS_DIR)
                    .join(format!("{}.pem", d.public_key_fingerprint));
                std::fs::read_to_string(&kp)
                    .ok()
                    .and_then(|pem| signing::from_pem(&pem).ok())
            }
        };
        match key {
            None => report.problem(format!(
                "digests/{dname}: public key {} not found in {}/",
                d.public_key_fingerprint,
                files::KEYS_DIR
            )),
            Some(k) if signing::fingerprint(&k) != d.public_key_fingerprint => {
                report.problem(format!(
                    "digests/{dname}: bad signature: signed by key {}, not the given key {}",
                    d.public_key_fingerprint,
                    signing::fingerprint(&k)
                ))
            }
            Some(k) => {
                if signing::verify_signature(&k, &bytes, &sig) {
                    signature_ok = true;
                    report.digests = report.digests.saturating_add(1);
                    report
                        .key_fingerprints
                        .insert(d.public_key_fingerprint.clone());
                } else {
                    report.problem(format!(
                        "digests/{dname}: bad signature (the digest or its .sig was altered)"
                    ));
                }
            }
        }
        let (prev_name, prev_sig, prev_last) = match &prev {
            Some((n, s, l)) => (Some(n.clone()), Some(s.clone()), *l),
            None => (None, None, 0),
        };
        if d.digest_sequence != *seq {
            report.problem(format!(
                "digests/{dname}: says it is digest {}",
                d.digest_sequence
            ));
        }
        // The first digest kept after retention links to one that was removed.
        let link_removed = prev.is_none() && *seq > 1;
        if !link_removed
            && (d.previous_digest_file != prev_name || d.previous_digest_signature != prev_sig)
        {
            report.problem(format!(
                "digests/{dname}: does not chain to the previous digest (previousDigestFile/previousDigestSignature)"
            ));
        }
        if prev.is_some() && d.first_sequence != prev_last.saturating_add(1) {
            report.problem(format!(
                "digests/{dname}: covers records from {} but the previous digest ended at {prev_last}",
                d.first_sequence
            ));
        }
        for lf in &d.log_files {
            covered.insert(lf.file_name.clone());
            match facts.get(&lf.file_name) {
                None if lf.last_sequence < first_retained => {
                    report.retired_files = report.retired_files.saturating_add(1);
                }
                None => report.problem(format!(
                    "{}: missing (listed in digests/{dname})",
                    lf.file_name
                )),
                Some(f) if f.sha256 != lf.sha256 || f.bytes != lf.bytes => report.problem(format!(
                    "{}: changed since digests/{dname} was signed (SHA-256 {} != {})",
                    lf.file_name, f.sha256, lf.sha256
                )),
                Some(f)
                    if f.first != Some(lf.first_sequence) || f.last != Some(lf.last_sequence) =>
                {
                    report.problem(format!(
                        "{}: holds records {:?}..{:?}, digests/{dname} says {}..{}",
                        lf.file_name, f.first, f.last, lf.first_sequence, lf.last_sequence
                    ))
                }
                Some(_) => {
                    if signature_ok && order.first() == Some(&lf.file_name) {
                        anchor = Some(dname.clone());
                    }
                }
            }
        }
        prev = Some((dname, hex::encode(&sig), d.last_sequence));
    }
    if first_retained > 1 && report.records > 0 {
        match anchor {
            Some(d) => report.retained_from = Some((first_retained, d)),
            None => report.problem(format!(
                "records 1..{} are missing and the first file ({}) is not covered by a signed digest",
                first_retained.saturating_sub(1),
                order.first().map_or("", String::as_str)
            )),
        }
    }
    // Files not covered by a digest must all come after the covered ones.
    let last_covered = order.iter().rposition(|n| covered.contains(n));
    for (i, name) in order.iter().enumerate() {
        if covered.contains(name) {
            continue;
        }
        if last_covered.is_some_and(|lc| i < lc) {
            report.problem(format!(
                "{name}: not covered by any digest although later files are"
            ));
        } else {
            report.unsigned_files = report.unsigned_files.saturating_add(1);
            report.unsigned_records = report
                .unsigned_records
                .saturating_add(facts.get(name).map_or(0, |f| f.records));
        }
    }
    if let Some((_, _, last)) = &prev {
        let newest = report.sequences.map_or(0, |s| s.1);
        if *last > newest {
            report.problem(format!(
                "the last digest covers records up to {last} but the log ends at {newest}: records or files were removed"
            ));
        }
    }
    Ok(report)
}
