//! The file sink: a writer thread that owns the current record file.
//!
//! Callers serialize their event (in parallel) and queue it on a bounded channel; a full
//! queue blocks them. The writer takes everything queued (a batch), appends the chain
//! member to each record, writes the batch with one `write`, fsyncs, and only then
//! acknowledges the mutations in it (group commit). Read-only callers do not wait.

use crate::files::{self, Digest, DigestedFile, GENESIS_HASH};
use crate::signing::{self, SigningKey};
use aws_lc_rs::digest::{Context, SHA256};
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tresor_core::audit::{AuditError, AuditRecord, AuditSink};

/// How the file sink is set up.
#[derive(Debug, Clone)]
pub struct FileSinkConfig {
    /// The audit directory (created if missing).
    pub dir: PathBuf,
    /// The signing key's PKCS#8 PEM file (created with mode 0600 if missing; the public
    /// key is exported next to it).
    pub signing_key: PathBuf,
    /// Rotate (and sign a digest) when the current file reaches this size.
    pub max_file_bytes: u64,
    /// Rotate (and sign a digest) when the current file is this old.
    pub max_file_age: Duration,
    /// Records queued for the writer before callers block.
    pub queue_capacity: usize,
    /// Most records written (and fsynced) together.
    pub max_batch: usize,
}

impl FileSinkConfig {
    /// Defaults for `dir`: 64 MiB files, a digest at least every 15 minutes, a queue of
    /// 16384 records.
    pub fn new(dir: PathBuf, signing_key: PathBuf) -> Self {
        Self {
            dir,
            signing_key,
            max_file_bytes: 64 * 1024 * 1024,
            max_file_age: Duration::from_secs(15 * 60),
            queue_capacity: 16 * 1024,
            max_batch: 4096,
        }
    }
}

type Ack = SyncSender<Result<(), String>>;

enum Msg {
    /// A serialized event without its closing brace, and the waiter of a mutation.
    Record(Vec<u8>, Option<Ack>),
    /// Acknowledge once everything before is durable.
    Flush(Ack),
    /// Seal (digest) and stop.
    Close(Ack),
    /// Stop at once, as a crash would (tests).
    #[cfg(test)]
    Abort,
}

/// An [`AuditSink`] writing hash-chained JSON lines with signed digests.
pub struct FileAuditSink {
    tx: Mutex<Option<SyncSender<Msg>>>,
    failed: Arc<Mutex<Option<String>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    dir: PathBuf,
}

impl std::fmt::Debug for FileAuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileAuditSink")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

impl FileAuditSink {
    /// Opens the audit directory: loads (or creates) the signing key, recovers the chain
    /// from the last file (a torn last line is cut off), seals files a previous run left
    /// without a digest, and starts the writer thread.
    pub fn open(config: FileSinkConfig) -> io::Result<FileAuditSink> {
        let key = SigningKey::load_or_create(&config.signing_key)?;
        let writer = Writer::recover(&config, key)?;
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity.max(1));
        let failed = Arc::new(Mutex::new(None));
        let thread = {
            let failed = failed.clone();
            std::thread::Builder::new()
                .name("tresor-audit".into())
                .spawn(move || writer.run(&rx, &failed))?
        };
        Ok(FileAuditSink {
            tx: Mutex::new(Some(tx)),
            failed,
            thread: Mutex::new(Some(thread)),
            dir: config.dir,
        })
    }

    /// The audit directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sender(&self) -> Result<SyncSender<Msg>, AuditError> {
        if let Some(e) = self.failed.lock().as_ref() {
            return Err(AuditError(format!("the audit log failed: {e}")));
        }
        self.tx
            .lock()
            .clone()
            .ok_or_else(|| AuditError("the audit log is closed".into()))
    }

    fn round_trip(&self, make: impl FnOnce(Ack) -> Msg) -> Result<(), AuditError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.sender()?
            .send(make(ack))
            .map_err(|_| AuditError("the audit writer stopped".into()))?;
        match done.recv() {
            Ok(r) => r.map_err(AuditError),
            Err(_) => Err(AuditError("the audit writer stopped".into())),
        }
    }

    /// Waits until every record queued so far is on disk.
    pub fn flush(&self) -> Result<(), AuditError> {
        self.round_trip(Msg::Flush)
    }

    /// Writes what is queued, signs a digest over the files not yet covered, and stops
    /// the writer. Later records fail.
    pub fn close(&self) -> Result<(), AuditError> {
        let result = self.round_trip(Msg::Close);
        self.tx.lock().take();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
        result
    }
}

impl Drop for FileAuditSink {
    fn drop(&mut self) {
        if self.tx.lock().is_some() {
            let _ = self.close();
        }
    }
}

impl AuditSink for FileAuditSink {
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError> {
        let event_id = uuid::Uuid::new_v4().to_string();
        let mut body = crate::event::to_json(record, &event_id)
            .map_err(|e| AuditError(format!("serializing the audit record: {e}")))?;
        // Drop the closing brace: the writer appends the chain member and closes it.
        if body.pop() != Some(b'}') {
            return Err(AuditError("audit record is not a JSON object".into()));
        }
        let tx = self.sender()?;
        if record.read_only {
            tx.send(Msg::Record(body, None))
                .map_err(|_| AuditError("the audit writer stopped".into()))
        } else {
            drop(tx);
            self.round_trip(|ack| Msg::Record(body, Some(ack)))
        }
    }
}

/// A sink that keeps nothing: for benchmarks only.
#[derive(Debug, Default)]
pub struct NullAuditSink;

impl AuditSink for NullAuditSink {
    fn record(&self, _record: &AuditRecord<'_>) -> Result<(), AuditError> {
        Ok(())
    }
}

struct OpenFile {
    file: File,
    name: String,
    bytes: u64,
    first_seq: u64,
    last_seq: u64,
    opened: Instant,
    hasher: Context,
}

struct Writer {
    dir: PathBuf,
    key: SigningKey,
    max_file_bytes: u64,
    max_file_age: Duration,
    max_batch: usize,
    seq: u64,
    last_hash: String,
    current: Option<OpenFile>,
    /// Closed files not yet covered by a digest.
    unsealed: Vec<DigestedFile>,
    digest_seq: u64,
    /// The last digest's file name and hex signature.
    previous_digest: Option<(String, String)>,
    buf: Vec<u8>,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sequence and hash of a complete record line.
fn line_chain(line: &[u8], path: &Path) -> io::Result<u64> {
    let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        other(format!(
            "audit file {} has a corrupt record ({e}); run `tresor audit verify`",
            path.display()
        ))
    })?;
    files::chain_of(&v).map(|(s, _)| s).ok_or_else(|| {
        other(format!(
            "audit file {} has a record without a chain member",
            path.display()
        ))
    })
}

impl Writer {
    fn recover(cfg: &FileSinkConfig, key: SigningKey) -> io::Result<Writer> {
        let dir = cfg.dir.clone();
        let ddir = dir.join(files::DIGEST_DIR);
        let kdir = dir.join(files::KEYS_DIR);
        std::fs::create_dir_all(&ddir)?;
        std::fs::create_dir_all(&kdir)?;
        let kpath = kdir.join(format!("{}.pem", key.fingerprint()));
        if !kpath.exists() {
            signing::write_atomic(&kpath, key.public_pem().as_bytes(), 0o644)?;
        }
        // Leftovers of a digest write that did not finish: temporaries, and signatures
        // whose digest was never renamed into place.
        for entry in std::fs::read_dir(&ddir)? {
            let path = entry?.path();
            let name = file_name(&path);
            let orphan_sig = name.ends_with(".sig") && !path.with_extension("json").exists();
            if name.ends_with(".tmp") || orphan_sig {
                std::fs::remove_file(&path)?;
            }
        }
        let mut w = Writer {
            dir: dir.clone(),
            key,
            max_file_bytes: cfg.max_file_bytes.max(1),
            max_file_age: cfg.max_file_age.max(Duration::from_secs(1)),
            max_batch: cfg.max_batch.max(1),
            seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            current: None,
            unsealed: Vec::new(),
            digest_seq: 0,
            previous_digest: None,
            buf: Vec::with_capacity(1 << 20),
        };
        let mut digested_up_to = 0;
        if let Some((seq, path)) = files::list_digests(&dir)?.pop() {
            let bytes = std::fs::read(&path)?;
            let d: Digest = serde_json::from_slice(&bytes)
                .map_err(|e| other(format!("digest {} is corrupt: {e}", path.display())))?;
            let sig = std::fs::read(path.with_extension("sig"))?;
            w.digest_seq = seq;
            w.previous_digest = Some((file_name(&path), hex::encode(sig)));
            w.seq = d.last_sequence;
            w.last_hash = d.last_record_hash;
            digested_up_to = d.last_sequence;
        }
        let mut logs: Vec<(u64, PathBuf)> = files::list_log_files(&dir)?
            .into_iter()
            .filter(|(first, _)| *first > digested_up_to)
            .collect();
        // Cut a torn last line off the newest file (it was never acknowledged); a file
        // left empty goes away.
        while let Some((_, path)) = logs.last() {
            let bytes = std::fs::read(path)?;
            let (lines, torn) = files::split_lines(&bytes);
            if torn > 0 {
                tracing::warn!(
                    file = %path.display(),
                    bytes = torn,
                    "dropping a torn audit record left by a crash"
                );
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(u64::try_from(bytes.len().saturating_sub(torn)).unwrap_or(0))?;
                f.sync_all()?;
            }
            if lines.is_empty() {
                std::fs::remove_file(path)?;
                logs.pop();
                continue;
            }
            break;
        }
        for (first, path) in &logs {
            let bytes = std::fs::read(path)?;
            let (lines, torn) = files::split_lines(&bytes);
            if torn > 0 {
                return Err(other(format!(
                    "audit file {} ends with a partial record but is not the newest; run `tresor audit verify`",
                    path.display()
                )));
            }
            let (Some(first_line), Some(last_line)) = (lines.first(), lines.last()) else {
                continue;
            };
            let first_seq = line_chain(first_line, path)?;
            let last_seq = line_chain(last_line, path)?;
            if first_seq != *first {
                return Err(other(format!(
                    "audit file {} starts at sequence {first_seq}, its name says {first}",
                    path.display()
                )));
            }
            w.seq = last_seq;
            w.last_hash = files::sha256_hex(last_line);
            w.unsealed.push(DigestedFile {
                file_name: file_name(path),
                sha256: files::sha256_hex(&bytes),
                bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                first_sequence: first_seq,
                last_sequence: last_seq,
            });
        }
        w.write_digest("startup")?;
        Ok(w)
    }

    fn run(mut self, rx: &Receiver<Msg>, failed: &Mutex<Option<String>>) {
        let mut batch: Vec<Msg> = Vec::with_capacity(self.max_batch);
        loop {
            let wait = self.current.as_ref().map_or(Duration::from_secs(1), |c| {
                self.max_file_age
                    .saturating_sub(c.opened.elapsed())
                    .clamp(Duration::from_millis(10), Duration::from_secs(1))
            });
            match rx.recv_timeout(wait) {
                Ok(m) => batch.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    if self.is_too_old() {
                        if let Err(e) = self.rotate("interval") {
                            self.fail(failed, &e);
                        }
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if let Err(e) = self.rotate("shutdown") {
                        tracing::error!("sealing the audit log: {e}");
                    }
                    return;
                }
            }
            while batch.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            let failure = failed.lock().clone();
            let result = match failure {
                Some(e) => Err(e),
                None => self.write_batch(&batch).map_err(|e| e.to_string()),
            };
            if let Err(e) = &result {
                self.fail(failed, e);
            }
            let mut closing = None;
            for m in batch.drain(..) {
                match m {
                    Msg::Record(_, None) => {}
                    Msg::Record(_, Some(ack)) | Msg::Flush(ack) => {
                        let _ = ack.send(result.clone());
                    }
                    Msg::Close(ack) => closing = Some(ack),
                    #[cfg(test)]
                    Msg::Abort => return,
                }
            }
            if let Some(ack) = closing {
                let sealed = match &result {
                    Ok(()) => self.rotate("shutdown").map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                let _ = ack.send(sealed);
                return;
            }
        }
    }

    fn fail(&self, failed: &Mutex<Option<String>>, e: &dyn std::fmt::Display) {
        let mut f = failed.lock();
        if f.is_none() {
            tracing::error!("the audit log failed; requests are refused: {e}");
            *f = Some(e.to_string());
        }
    }

    fn is_too_old(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.opened.elapsed() >= self.max_file_age)
    }

    fn write_batch(&mut self, batch: &[Msg]) -> io::Result<()> {
        for m in batch {
            if let Msg::Record(body, _) = m {
                self.append(body)?;
            }
        }
        self.flush_buf()
    }

    fn append(&mut self, body: &[u8]) -> io::Result<()> {
        let pending = u64::try_from(self.buf.len()).unwrap_or(u64::MAX);
        let full = self
            .current
            .as_ref()
            .is_some_and(|c| c.bytes.saturating_add(pending) >= self.max_file_bytes);
        if full || self.is_too_old() {
            self.rotate(if full { "rotation" } else { "interval" })?;
        }
        if self.current.is_none() {
            self.open_file()?;
        }
        let seq = self.seq.saturating_add(1);
        let start = self.buf.len();
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(
            format!(
                ",\"tresor\":{{\"sequence\":{seq},\"previousHash\":\"{}\"}}}}",
                self.last_hash
            )
            .as_bytes(),
        );
        let line = self.buf.get(start..).unwrap_or_default();
        self.last_hash = files::sha256_hex(line);
        self.buf.push(b'\n');
        self.seq = seq;
        if let Some(c) = self.current.as_mut() {
            c.last_seq = seq;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(c) = self.current.as_mut() else {
            return Err(other("audit records without an open file"));
        };
        c.file.write_all(&self.buf)?;
        c.file.sync_data()?;
        c.hasher.update(&self.buf);
        c.bytes = c
            .bytes
            .saturating_add(u64::try_from(self.buf.len()).unwrap_or(u64::MAX));
        self.buf.clear();
        Ok(())
    }

    fn open_file(&mut self) -> io::Result<()> {
        let first = self.seq.saturating_add(1);
        let name = files::log_file_name(first, time::OffsetDateTime::now_utc());
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(self.dir.join(&name))?;
        signing::sync_dir(&self.dir)?;
        self.current = Some(OpenFile {
            file,
            name,
            bytes: 0,
            first_seq: first,
            last_seq: self.seq,
            opened: Instant::now(),
            hasher: Context::new(&SHA256),
        });
        Ok(())
    }

    /// Closes the current file (if any) and signs a digest over the unsealed files.
    fn rotate(&mut self, reason: &str) -> io::Result<()> {
        self.flush_buf()?;
        if let Some(c) = self.current.take() {
            c.file.sync_all()?;
            if c.last_seq >= c.first_seq {
                self.unsealed.push(DigestedFile {
                    file_name: c.name,
                    sha256: hex::encode(c.hasher.finish()),
                    bytes: c.bytes,
                    first_sequence: c.first_seq,
                    last_sequence: c.last_seq,
                });
            }
        }
        self.write_digest(reason)
    }

    fn write_digest(&mut self, reason: &str) -> io::Result<()> {
        let (Some(first), Some(last)) = (self.unsealed.first(), self.unsealed.last()) else {
            return Ok(());
        };
        let seq = self.digest_seq.saturating_add(1);
        let digest = Digest {
            digest_version: files::DIGEST_VERSION.into(),
            digest_sequence: seq,
            digest_time: crate::event::format_utc_seconds(time::OffsetDateTime::now_utc()),
            reason: reason.into(),
            previous_digest_file: self.previous_digest.as_ref().map(|p| p.0.clone()),
            previous_digest_signature: self.previous_digest.as_ref().map(|p| p.1.clone()),
            first_sequence: first.first_sequence,
            last_sequence: last.last_sequence,
            last_record_hash: self.last_hash.clone(),
            log_files: self.unsealed.clone(),
            signature_algorithm: signing::SIGNATURE_ALGORITHM.into(),
            public_key_fingerprint: self.key.fingerprint().into(),
        };
        let mut bytes = serde_json::to_vec_pretty(&digest)
            .map_err(|e| other(format!("serializing a digest: {e}")))?;
        bytes.push(b'\n');
        let sig = self.key.sign(&bytes)?;
        let name = files::digest_file_name(seq);
        let path = self.dir.join(files::DIGEST_DIR).join(&name);
        // The signature first: a digest in place always has its signature.
        signing::write_atomic(&path.with_extension("sig"), &sig, 0o644)?;
        signing::write_atomic(&path, &bytes, 0o644)?;
        self.digest_seq = seq;
        self.previous_digest = Some((name, hex::encode(sig)));
        self.unsealed.clear();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use tresor_core::Caller;

    fn caller(n: usize) -> Caller {
        Caller {
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:root".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            region: "us-east-1".into(),
            operator: false,
            source_ip: "127.0.0.1".into(),
            user_agent: "unit".into(),
            request_id: format!("req-{n}"),
            secure_transport: false,
        }
    }

    fn config(dir: &Path) -> FileSinkConfig {
        FileSinkConfig::new(dir.join("audit"), dir.join("audit-signing-key.pem"))
    }

    fn write(sink: &FileAuditSink, n: usize, read_only: bool) {
        let c = caller(n);
        let arns = vec![format!("arn:aws:kms:us-east-1:111122223333:key/{n}")];
        sink.record(&AuditRecord {
            request_parameters: Some(serde_json::json!({"keyId": n.to_string()})),
            response_elements: None,
            additional_event_data: None,
            read_only,
            service_event: false,
            event_name: if read_only { "Encrypt" } else { "CreateKey" },
            caller: &c,
            resources: &arns,
            error_code: None,
            error_message: None,
            event_time_ms: 1_795_867_200_000,
        })
        .unwrap();
    }

    /// Stops the writer without sealing, as a crash would.
    fn crash(sink: &FileAuditSink) {
        sink.flush().unwrap();
        let tx = sink.tx.lock().take().unwrap();
        tx.send(Msg::Abort).unwrap();
        if let Some(t) = sink.thread.lock().take() {
            t.join().unwrap();
        }
    }

    fn assert_intact(dir: &Path, records: u64) -> crate::VerifyReport {
        let r = crate::verify(dir, None).unwrap();
        assert!(r.problems.is_empty(), "problems: {:?}", r.problems);
        assert_eq!(r.records, records, "{r:?}");
        r
    }

    #[test]
    fn mutation_is_on_disk_when_record_returns() {
        let tmp = tempfile::tempdir().unwrap();
        let sink = FileAuditSink::open(config(tmp.path())).unwrap();
        write(&sink, 1, false);
        let recs = files::read_all_records(&tmp.path().join("audit")).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].1["tresor"]["sequence"], 1);
        assert_eq!(recs[0].1["tresor"]["previousHash"], GENESIS_HASH);
        assert_eq!(recs[0].1["eventName"], "CreateKey");
    }

    #[test]
    fn chain_continues_across_restart() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        {
            let sink = FileAuditSink::open(config(tmp.path())).unwrap();
            for n in 0..5 {
                write(&sink, n, n % 2 == 0);
            }
            sink.flush().unwrap();
            crash(&sink);
        }
        {
            let sink = FileAuditSink::open(config(tmp.path())).unwrap();
            for n in 5..8 {
                write(&sink, n, false);
            }
            sink.close().unwrap();
        }
        let r = assert_intact(&audit, 8);
        assert_eq!(r.files, 2);
        assert_eq!(r.digests, 2);
        assert_eq!(r.unsigned_records, 0);
    }

    #[test]
    fn torn_last_line_is_dropped_at_start_and_ignored_by_verify() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        {
            let sink = FileAuditSink::open(config(tmp.path())).unwrap();
            for n in 0..3 {
                write(&sink, n, false);
            }
            crash(&sink);
        }
        let (_, path) = files::list_log_files(&audit).unwrap().pop().unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"eventVersion\":\"1.11\",\"userIdent")
            .unwrap();
        drop(f);
        let r = assert_intact(&audit, 3);
        assert_eq!(r.warnings.len(), 1, "{r:?}");
        {
            let sink = FileAuditSink::open(config(tmp.path())).unwrap();
            write(&sink, 3, false);
            sink.close().unwrap();
        }
        let r = assert_intact(&audit, 4);
        assert!(r.warnings.is_empty(), "{r:?}");
    }

    #[test]
    fn rotation_by_size_signs_chained_digests() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        let mut cfg = config(tmp.path());
        cfg.max_file_bytes = 2000;
        let sink = FileAuditSink::open(cfg).unwrap();
        for n in 0..40 {
            write(&sink, n, n % 3 == 0);
        }
        sink.close().unwrap();
        let r = assert_intact(&audit, 40);
        assert!(r.files > 5, "{r:?}");
        assert_eq!(r.digests, r.files, "one digest per rotation");
        let digests = files::list_digests(&audit).unwrap();
        let d2: Digest = serde_json::from_slice(&std::fs::read(&digests[1].1).unwrap()).unwrap();
        let sig1 = std::fs::read(digests[0].1.with_extension("sig")).unwrap();
        assert_eq!(d2.previous_digest_signature, Some(hex::encode(sig1)));
        for (_, p) in &digests {
            let bytes = std::fs::read(p).unwrap();
            let d: Digest = serde_json::from_slice(&bytes).unwrap();
            for f in &d.log_files {
                let data = std::fs::read(audit.join(&f.file_name)).unwrap();
                assert_eq!(files::sha256_hex(&data), f.sha256);
            }
        }
    }

    #[test]
    fn rotation_by_age() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        let mut cfg = config(tmp.path());
        cfg.max_file_age = Duration::from_secs(1);
        let sink = FileAuditSink::open(cfg).unwrap();
        write(&sink, 0, false);
        std::thread::sleep(Duration::from_millis(1600));
        // The idle writer sealed the file on its own.
        assert_eq!(files::list_digests(&audit).unwrap().len(), 1);
        write(&sink, 1, false);
        sink.close().unwrap();
        let r = assert_intact(&audit, 2);
        assert_eq!((r.files, r.digests), (2, 2));
    }

    #[test]
    fn digest_signature_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        let sink = FileAuditSink::open(config(tmp.path())).unwrap();
        write(&sink, 0, false);
        sink.close().unwrap();
        assert_intact(&audit, 1);
        let (_, p) = files::list_digests(&audit).unwrap().pop().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("\"shutdown\"", "\"rotation\"")).unwrap();
        let r = crate::verify(&audit, None).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains("signature")),
            "{:?}",
            r.problems
        );
        // And a different key is refused when pinned.
        std::fs::write(&p, text).unwrap();
        let other = tempfile::tempdir().unwrap();
        let k = SigningKey::load_or_create(&other.path().join("k.pem")).unwrap();
        let pem = other.path().join("other.pem");
        std::fs::write(&pem, k.public_pem()).unwrap();
        let r = crate::verify(&audit, Some(&pem)).unwrap();
        assert!(!r.problems.is_empty());
    }

    #[test]
    fn read_only_records_are_group_committed() {
        let tmp = tempfile::tempdir().unwrap();
        let audit = tmp.path().join("audit");
        let sink = Arc::new(FileAuditSink::open(config(tmp.path())).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for n in 0..200 {
                        write(&sink, t * 1000 + n, n % 50 != 0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        sink.close().unwrap();
        assert_intact(&audit, 1600);
    }
}
