//! The file sink: callers serialize their event (in parallel) and queue it for the
//! writer thread ([`crate::writer`]) on a bounded channel; a full queue blocks them.
//! Mutations wait until their record is durable; read-only callers do not wait.
//!
//! Fail closed: [`AuditSink::admit`] lets a request run only while records can be
//! written and reserved space is left for its record (one atomic load and one atomic
//! subtraction); otherwise the request is refused before it changes anything. The
//! writer recovers by itself, and admission resumes as soon as writing works again.

use crate::queue::{Queue, ReceiverGuard};
use crate::retention::Retention;
use crate::signing::SigningKey;
use crate::writer::{Ack, Limits, Msg, Shared, Writer, CHAIN_BYTES};
use parking_lot::Mutex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tresor_core::audit::{AuditError, AuditRecord, AuditSink, AuditStats};

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
    /// Disk space kept allocated ahead of the write position (less when the disk has
    /// less); requests are admitted against it.
    pub reserve_bytes: u64,
    /// Which old record files to remove.
    pub retention: Retention,
    /// How long a mutation waits for its record to become durable (while the writer
    /// retries a failed write) before it fails.
    pub durable_wait: Duration,
    /// The node writing this log (`tresor.node` of every record); empty: none. See
    /// [`valid_node_id`].
    pub node_id: String,
}

/// True for a node id Tresor accepts: 1 to 64 of `A–Z a–z 0–9 . _ -` (so it needs no
/// escaping in JSON or in a file name).
pub fn valid_node_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl FileSinkConfig {
    /// Defaults for `dir`: 64 MiB files, a digest at least every 15 minutes, a queue of
    /// 16384 records, 4 MiB reserved, everything retained, a 10 s durability wait.
    pub fn new(dir: PathBuf, signing_key: PathBuf) -> Self {
        Self {
            dir,
            signing_key,
            max_file_bytes: 64 * 1024 * 1024,
            max_file_age: Duration::from_secs(15 * 60),
            queue_capacity: 16 * 1024,
            max_batch: 4096,
            reserve_bytes: 4 * 1024 * 1024,
            retention: Retention::default(),
            durable_wait: Duration::from_secs(10),
            node_id: String::new(),
        }
    }
}

/// How long a request waits for budget while the disk still has space.
const ADMIT_WAIT: Duration = Duration::from_secs(2);

/// An [`AuditSink`] writing hash-chained JSON lines with signed digests.
pub struct FileAuditSink {
    queue: Arc<Queue>,
    /// Set by [`FileAuditSink::close`]: later records are refused.
    closed: AtomicBool,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    dir: PathBuf,
    durable_wait: Duration,
    /// What every record's `tresor` member starts with: `,"tresor":{"node":"N",` (or
    /// `,"tresor":{` without a node id).
    chain_open: Vec<u8>,
}

impl std::fmt::Debug for FileAuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileAuditSink")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn stopped() -> AuditError {
    AuditError("the audit writer stopped".into())
}

impl FileAuditSink {
    /// Opens the audit directory: loads (or creates) the signing key, recovers the chain
    /// from the last file (a torn last line is cut off), seals files a previous run left
    /// without a digest, reserves space and starts the writer thread. A full disk does
    /// not prevent the start: requests are refused until records can be written.
    pub fn open(config: FileSinkConfig) -> io::Result<FileAuditSink> {
        if !config.node_id.is_empty() && !valid_node_id(&config.node_id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{:?} is not a node id: 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'",
                    config.node_id
                ),
            ));
        }
        let mut chain_open = b",\"tresor\":{".to_vec();
        if !config.node_id.is_empty() {
            chain_open.extend_from_slice(b"\"node\":\"");
            chain_open.extend_from_slice(config.node_id.as_bytes());
            chain_open.extend_from_slice(b"\",");
        }
        let key = SigningKey::load_or_create(&config.signing_key)?;
        let shared = Arc::new(Shared::default());
        let limits = Limits {
            max_file_bytes: config.max_file_bytes.max(1),
            max_file_age: config.max_file_age.max(Duration::from_secs(1)),
            max_batch: config.max_batch.max(1),
            reserve_bytes: config.reserve_bytes.max(64 * 1024),
            retention: config.retention,
        };
        let writer = Writer::recover(config.dir.clone(), key, limits, shared.clone())?;
        let queue = Arc::new(Queue::new(config.queue_capacity.max(1)));
        let rx = ReceiverGuard(queue.clone());
        let thread = std::thread::Builder::new()
            .name("tresor-audit".into())
            .spawn(move || writer.run(&rx.0))?;
        Ok(FileAuditSink {
            queue,
            closed: AtomicBool::new(false),
            shared,
            thread: Mutex::new(Some(thread)),
            dir: config.dir,
            durable_wait: config.durable_wait,
            chain_open,
        })
    }

    /// The audit directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True while records can be written.
    pub fn is_healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::Relaxed)
    }

    /// The budget is short: while the disk still has space (the writer reserves more
    /// after its current batch) this is backpressure, so wait for it (bounded); when
    /// the disk is full or writing fails, refuse.
    fn admit_slowly(&self, need: i64) -> Result<(), AuditError> {
        let deadline = std::time::Instant::now() + ADMIT_WAIT;
        loop {
            if !self.shared.healthy.load(Ordering::Relaxed) {
                return Err(AuditError("the audit log cannot be written".into()));
            }
            let full = self.shared.space_short.load(Ordering::Relaxed);
            if full || std::time::Instant::now() >= deadline {
                return Err(AuditError(
                    "no disk space is reserved for audit records (is the audit filesystem full?)"
                        .into(),
                ));
            }
            {
                let mut guard = self.shared.lock.lock();
                self.shared
                    .changed
                    .wait_for(&mut guard, Duration::from_millis(10));
            }
            if self.shared.budget.fetch_sub(need, Ordering::Relaxed) >= need {
                return Ok(());
            }
            self.shared.budget.fetch_add(need, Ordering::Relaxed);
        }
    }

    /// Hands `m` to the writer.
    fn send(&self, m: Msg) -> Result<(), AuditError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(AuditError("the audit log is closed".into()));
        }
        self.queue.send(m).map_err(|_| stopped())
    }

    fn round_trip(&self, make: impl FnOnce(Ack) -> Msg, wait: Duration) -> Result<(), AuditError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(make(ack))?;
        match done.recv_timeout(wait) {
            Ok(r) => r.map_err(AuditError),
            Err(RecvTimeoutError::Timeout) => Err(AuditError(format!(
                "the audit record was not durable within {} s",
                wait.as_secs()
            ))),
            Err(RecvTimeoutError::Disconnected) => Err(stopped()),
        }
    }

    /// Waits until every record queued so far is on disk.
    pub fn flush(&self) -> Result<(), AuditError> {
        self.round_trip(Msg::Flush, self.durable_wait)
    }

    /// Writes what is queued, signs a digest over the files not yet covered, and stops
    /// the writer. Later records fail.
    pub fn close(&self) -> Result<(), AuditError> {
        let result = self.round_trip(Msg::Close, Duration::from_secs(3600));
        self.closed.store(true, Ordering::Release);
        self.queue.close_senders();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
        result
    }
}

impl Drop for FileAuditSink {
    fn drop(&mut self) {
        if !self.closed.load(Ordering::Acquire) {
            let _ = self.close();
        }
    }
}

impl AuditSink for FileAuditSink {
    fn admit(&self, bytes: usize) -> Result<(), AuditError> {
        if !self.shared.healthy.load(Ordering::Relaxed) {
            return Err(AuditError("the audit log cannot be written".into()));
        }
        let need = i64::try_from(bytes).unwrap_or(i64::MAX);
        if self.shared.budget.fetch_sub(need, Ordering::Relaxed) >= need {
            return Ok(());
        }
        self.shared.budget.fetch_add(need, Ordering::Relaxed);
        self.admit_slowly(need)
    }

    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError> {
        // Into a stack buffer: `to_string` goes through `core::fmt` and allocates.
        let mut fresh = uuid::Uuid::encode_buffer();
        let event_id = match record.event_id {
            Some(id) => id,
            None => uuid::Uuid::new_v4().hyphenated().encode_lower(&mut fresh),
        };
        let mut body = crate::event::to_json(record, event_id)
            .map_err(|e| AuditError(format!("serializing the audit record: {e}")))?;
        // Drop the closing brace and open the `tresor` member with the node and the
        // time in ms (records of several nodes merge by it); the writer appends the
        // chain (`sequence`, `previousHash`) and closes both.
        if body.pop() != Some(b'}') {
            return Err(AuditError("audit record is not a JSON object".into()));
        }
        body.extend_from_slice(&self.chain_open);
        body.extend_from_slice(b"\"timeMs\":");
        body.extend_from_slice(itoa::Buffer::new().format(record.event_time_ms).as_bytes());
        body.push(b',');
        // Trade the admission's estimate for what the line takes at most.
        let charge = i64::try_from(body.len().saturating_add(CHAIN_BYTES)).unwrap_or(i64::MAX);
        let admitted = i64::try_from(record.admitted_bytes).unwrap_or(i64::MAX);
        self.shared
            .budget
            .fetch_add(admitted.saturating_sub(charge), Ordering::Relaxed);
        // The writer counts each record down once it is durable.
        self.shared.queued.fetch_add(1, Ordering::Relaxed);
        if record.read_only {
            let sent = self.send(Msg::Record(body, None));
            if sent.is_err() {
                self.shared.queued.fetch_sub(1, Ordering::Relaxed);
            }
            sent
        } else {
            // A mutation that gave up waiting stays queued (the writer retries it).
            self.round_trip(|ack| Msg::Record(body, Some(ack)), self.durable_wait)
        }
    }

    fn health(&self) -> Result<(), AuditError> {
        if self.shared.healthy.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(AuditError("the audit log cannot be written".into()))
        }
    }

    fn stats(&self) -> AuditStats {
        AuditStats {
            queued: self.shared.queued.load(Ordering::Relaxed),
            fsyncs: self.shared.fsyncs.load(Ordering::Relaxed),
            fsync_seconds: Duration::from_nanos(self.shared.fsync_nanos.load(Ordering::Relaxed))
                .as_secs_f64(),
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

#[cfg(test)]
mod tests;
