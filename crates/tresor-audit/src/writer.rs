//! The writer thread of the file sink: it owns the current record file.
//!
//! It takes everything queued (a batch), chains each record to the previous one, writes
//! the batch with one `write` and one fsync, and only then acknowledges the mutations in
//! it (group commit). It keeps space allocated ahead of the write position and publishes
//! how much is left as the sink's admission budget, so records of admitted requests fit
//! in blocks that are already allocated.
//!
//! A failed write is undone: the file is cut back to its last durable length, the chain
//! state is that of the last durable record, and the records stay queued in memory and
//! are retried every [`RETRY`]. Meanwhile the sink is unhealthy and admits nothing. A
//! current file that was removed or replaced (the audit directory deleted, say) is
//! noticed by comparing its inode with the path's, and writing resumes in a fresh file.

use crate::files::{self, Digest, DigestedFile, GENESIS_HASH};
use crate::queue::{Queue, Taken};
use crate::signing::{self, SigningKey};
use crate::{retention, space};
use aws_lc_rs::digest::{Context, SHA256};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a failed write (or a failed reservation) is retried.
pub(crate) const RETRY: Duration = Duration::from_millis(200);
/// What the chain member and the newline add to a record, at most.
pub(crate) const CHAIN_BYTES: usize = 128;
/// While the log is busy, read-only records arriving within this time after a write are
/// written (and fsynced) together with the next one; a mutation's record is written at once.
pub(crate) const READ_GROUP: Duration = Duration::from_millis(10);
/// The log counts as busy while its last write held at least this many records; a quiet
/// log writes each record as it comes.
const BUSY_BATCH: usize = 8;
/// The smallest reservation worth having.
const MIN_RESERVE: u64 = 64 * 1024;
/// Records held in memory while they cannot be written; beyond, callers block.
const MAX_PENDING: usize = 64 * 1024;
/// A batch is handed to the kernel in pieces of about this size while it is built, each
/// while it is still in the CPU's cache (a group of reads can be ~0.5 MiB), and fsynced
/// once at its end.
const WRITE_CHUNK: usize = 64 * 1024;

/// State the writer shares with the callers.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Reserved bytes not yet promised to a record; admission takes from it.
    pub budget: AtomicI64,
    /// False while records cannot be written.
    pub healthy: AtomicBool,
    /// True when the last attempt to reserve more space failed (the disk is full).
    pub space_short: AtomicBool,
    /// Signalled when the budget or the state above changed, for callers waiting for
    /// budget (a short budget with space on disk is backpressure, not a refusal).
    pub changed: parking_lot::Condvar,
    /// The lock of `changed`.
    pub lock: parking_lot::Mutex<()>,
    /// Records handed to the writer and not yet durable (the queue depth).
    pub queued: AtomicU64,
    /// fsyncs of record batches, and the nanoseconds they took in all.
    pub fsyncs: AtomicU64,
    /// See `fsyncs`.
    pub fsync_nanos: AtomicU64,
    /// Writes to fail after writing half their bytes (tests).
    #[cfg(test)]
    pub faults: std::sync::atomic::AtomicU32,
    /// Bytes of durable records dropped from the page cache (tests).
    #[cfg(test)]
    pub forgotten: AtomicU64,
}

impl Shared {
    fn add_budget(&self, bytes: i64) {
        self.budget.fetch_add(bytes, Ordering::Relaxed);
    }

    fn notify(&self) {
        self.changed.notify_all();
    }
}

/// A waiter for durability.
pub(crate) type Ack = SyncSender<Result<(), String>>;

/// What callers send the writer.
pub(crate) enum Msg {
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

impl Msg {
    /// Whether the writer must take it at once rather than with the next group write:
    /// anything but a read-only record.
    pub(crate) fn is_urgent(&self) -> bool {
        !matches!(self, Msg::Record(_, None))
    }
}

/// How a round of the writer's loop ends.
enum End {
    /// Write what is pending and go on.
    No,
    /// Write, seal and stop, then answer.
    Close(Ack),
    /// The sink is gone: write, seal and stop.
    Disconnected,
    /// Stop at once (tests).
    #[cfg(test)]
    Abort,
}

enum Item {
    Record(Vec<u8>, Option<Ack>),
    Flush(Ack),
}

/// How the writer is set up (from [`crate::FileSinkConfig`]).
pub(crate) struct Limits {
    pub max_file_bytes: u64,
    pub max_file_age: Duration,
    pub max_batch: usize,
    pub reserve_bytes: u64,
    pub retention: retention::Retention,
}

struct OpenFile {
    file: File,
    name: String,
    /// Durable length.
    bytes: u64,
    first_seq: u64,
    last_seq: u64,
    opened: Instant,
    hasher: Context,
    /// (device, inode) when opened.
    identity: (u64, u64),
    /// End of the allocated space (at least `bytes`).
    reserved_end: u64,
    /// A failed write left bytes past `bytes` that are still to be cut off.
    torn: bool,
    /// The durable bytes before this offset were dropped from the page cache.
    uncached: u64,
}

impl OpenFile {
    fn headroom(&self) -> u64 {
        self.reserved_end.saturating_sub(self.bytes)
    }

    /// Hands the whole pages of durable records back to the kernel every
    /// [`FORGET_EVERY`] bytes: the log is written once and read rarely, and its pages
    /// would otherwise crowd the page cache. Returns the bytes dropped.
    fn forget_durable(&mut self) -> u64 {
        let end = self.bytes - self.bytes % PAGE;
        if end < self.uncached.saturating_add(FORGET_EVERY) {
            return 0;
        }
        let len = end - self.uncached;
        space::forget_cached(&self.file, self.uncached, len);
        self.uncached = end;
        len
    }
}

/// Page size assumed when dropping written pages from the cache.
const PAGE: u64 = 4096;
/// Durable bytes written between two page-cache drops.
const FORGET_EVERY: u64 = 256 * 1024;

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

pub(crate) struct Writer {
    dir: PathBuf,
    key: SigningKey,
    limits: Limits,
    shared: Arc<Shared>,
    seq: u64,
    last_hash: String,
    current: Option<OpenFile>,
    /// Closed files not yet covered by a digest.
    unsealed: Vec<DigestedFile>,
    digest_seq: u64,
    /// The last digest's file name and hex signature.
    previous_digest: Option<(String, String)>,
    buf: Vec<u8>,
    pending: VecDeque<Item>,
    /// When writing started failing, while it does.
    failing_since: Option<Instant>,
    next_retry: Instant,
    next_top_up: Instant,
    next_retention: Instant,
    next_rotation: Instant,
    /// The current file replaced a lost one: seal it as soon as it holds records.
    reseal: bool,
    /// When records were last written, and how many (see [`READ_GROUP`]).
    last_write: Instant,
    last_batch: usize,
    warned_rotation: bool,
}

mod recovery;

impl Writer {
    /// Serves the queue until it is closed.
    pub(crate) fn run(mut self, queue: &Queue) {
        let mut batch = Vec::new();
        loop {
            let mut end = End::No;
            if self.pending.len() < MAX_PENDING {
                match queue.take(&mut batch, self.limits.max_batch, self.wait_time(), false) {
                    Taken::Some => end = self.gather(queue, &mut batch),
                    Taken::Timeout => {}
                    Taken::Disconnected => end = End::Disconnected,
                }
            } else {
                std::thread::sleep(RETRY);
            }
            match end {
                End::Disconnected => {
                    let _ = self.close();
                    return;
                }
                #[cfg(test)]
                End::Abort => return,
                End::No | End::Close(_) => {}
            }
            self.step();
            if let End::Close(ack) = end {
                let _ = ack.send(self.close().map_err(|e| e.to_string()));
                return;
            }
        }
    }

    /// Queues `batch` and what follows it: while only read-only records are queued and
    /// the log is busy, what arrives until [`READ_GROUP`] after the last write, so that
    /// a busy log writes and fsyncs in groups (the callers do not wake the writer for
    /// these). A mutation, a flush or a full batch ends the wait at once.
    fn gather(&mut self, queue: &Queue, batch: &mut Vec<Msg>) -> End {
        let deadline = self.last_write + READ_GROUP;
        let mut waiter = self.failing_since.is_some()
            || self
                .pending
                .iter()
                .any(|i| matches!(i, Item::Flush(_) | Item::Record(_, Some(_))));
        let mut taken = 0;
        loop {
            for m in batch.drain(..) {
                match m {
                    Msg::Record(body, ack) => {
                        waiter |= ack.is_some();
                        self.pending.push_back(Item::Record(body, ack));
                    }
                    Msg::Flush(ack) => {
                        waiter = true;
                        self.pending.push_back(Item::Flush(ack));
                    }
                    Msg::Close(ack) => return End::Close(ack),
                    #[cfg(test)]
                    Msg::Abort => return End::Abort,
                }
                taken += 1;
            }
            let now = Instant::now();
            let busy = self.last_batch >= BUSY_BATCH;
            if !busy || waiter || taken >= self.limits.max_batch || now >= deadline {
                return End::No;
            }
            let room = self.limits.max_batch - taken;
            match queue.take(batch, room, deadline.saturating_duration_since(now), true) {
                Taken::Some => {}
                Taken::Timeout => return End::No,
                Taken::Disconnected => return End::Disconnected,
            }
        }
    }

    fn wait_time(&self) -> Duration {
        if self.failing_since.is_some() {
            return self.next_retry.saturating_duration_since(Instant::now());
        }
        self.current
            .as_ref()
            .filter(|c| c.last_seq >= c.first_seq)
            .map_or(Duration::from_secs(1), |c| {
                self.limits
                    .max_file_age
                    .saturating_sub(c.opened.elapsed())
                    .clamp(Duration::from_millis(10), Duration::from_secs(1))
            })
    }

    /// Writes what is pending (unless a retry is not due yet), then keeps the
    /// reservation topped up and applies retention.
    fn step(&mut self) {
        let now = Instant::now();
        if self.failing_since.is_some() && now < self.next_retry {
            return;
        }
        match self.drain() {
            Ok(()) => {
                if let Some(since) = self.failing_since.take() {
                    tracing::warn!(
                        "the audit log is writable again after {:.1} s; requests are served",
                        since.elapsed().as_secs_f64()
                    );
                }
                self.shared.healthy.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                self.fail(&e);
                return;
            }
        }
        self.top_up();
        self.shared.notify();
        if now >= self.next_retention {
            self.next_retention = now + Duration::from_secs(60);
            self.apply_retention();
        }
    }

    fn fail(&mut self, e: &io::Error) {
        self.shared.healthy.store(false, Ordering::Relaxed);
        self.shared.notify();
        self.next_retry = Instant::now() + RETRY;
        if self.failing_since.is_none() {
            self.failing_since = Some(Instant::now());
            tracing::error!(
                dir = %self.dir.display(),
                pending = self.pending.len(),
                "the audit log cannot be written; requests are refused until it can: {e}"
            );
        }
    }

    /// Writes every pending record; on failure they stay pending, the file is as it was.
    fn drain(&mut self) -> io::Result<()> {
        self.check_file()?;
        if self.current.is_none() {
            let f = self.open_new(MIN_RESERVE, self.limits.reserve_bytes)?;
            self.shared.add_budget(signed(f.headroom()));
            self.current = Some(f);
        }
        if self.rotation_due().is_some() && self.pending.is_empty() {
            self.rotate(self.rotation_due().unwrap_or("interval"));
        }
        loop {
            while let Some(Item::Flush(_)) = self.pending.front() {
                if let Some(Item::Flush(ack)) = self.pending.pop_front() {
                    let _ = ack.send(Ok(()));
                }
            }
            if self.pending.is_empty() {
                break;
            }
            if let Some(reason) = self.rotation_due() {
                self.rotate(reason);
            }
            // A file that could not be rotated takes the whole batch.
            let unbounded = self.rotation_due().is_some();
            self.write_some(unbounded)?;
        }
        if self.reseal
            && self
                .current
                .as_ref()
                .is_some_and(|c| c.last_seq >= c.first_seq)
        {
            // Anchor the fresh file with a digest in the (new) directory at once.
            self.rotate("recovery");
        }
        Ok(())
    }

    fn rotation_due(&self) -> Option<&'static str> {
        let c = self.current.as_ref()?;
        if c.last_seq < c.first_seq {
            None
        } else if c.bytes >= self.limits.max_file_bytes {
            Some("rotation")
        } else if c.opened.elapsed() >= self.limits.max_file_age {
            Some("interval")
        } else {
            None
        }
    }

    /// Notices a current file that is gone or replaced, and finishes cutting off a torn
    /// write.
    fn check_file(&mut self) -> io::Result<()> {
        let Some(c) = self.current.as_mut() else {
            return Ok(());
        };
        let same = std::fs::metadata(self.dir.join(&c.name))
            .is_ok_and(|m| space::identity(&m) == c.identity);
        if !same {
            tracing::error!(
                file = %c.name,
                records = c.last_seq.saturating_sub(c.first_seq).saturating_add(1),
                "the current audit file was removed or replaced; the records in it since the last digest are lost with it; continuing in a fresh file"
            );
            self.shared.add_budget(-signed(c.headroom()));
            self.current = None;
            let dir = self.dir.clone();
            self.unsealed.retain(|f| dir.join(&f.file_name).is_file());
            self.reseal = true;
            return Ok(());
        }
        if c.torn {
            c.file.set_len(c.bytes)?;
            c.file.sync_all()?;
            c.torn = false;
        }
        Ok(())
    }

    /// Writes the leading pending records (as many as the file takes) with one write and
    /// one fsync, then acknowledges them.
    fn write_some(&mut self, unbounded: bool) -> io::Result<()> {
        let Some(c) = self.current.as_ref() else {
            return Err(other("audit records without an open file"));
        };
        let room = if unbounded {
            u64::MAX
        } else {
            self.limits.max_file_bytes.saturating_sub(c.bytes)
        };
        let mut seq = self.seq;
        // One pass over each byte: the file's running hash gives both each record's
        // link (the hash of the file before it) and, at the end, the file's SHA-256.
        let mut hasher = c.hasher.clone();
        let mut first_in_file = c.bytes == 0;
        let mut n = 0usize;
        let mut charged = 0u64;
        // Bytes of this batch already handed to the kernel (not yet durable).
        let mut spilled = 0usize;
        self.buf.clear();
        for item in &self.pending {
            let Item::Record(body, _) = item else {
                break;
            };
            if n > 0 && len64(spilled + self.buf.len() + body.len() + CHAIN_BYTES) > room {
                break;
            }
            seq = seq.saturating_add(1);
            let start = self.buf.len();
            // The body ends inside its open `tresor` member (see `sink::record`).
            self.buf.extend_from_slice(body);
            self.buf.extend_from_slice(b"\"sequence\":");
            self.buf
                .extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
            self.buf.extend_from_slice(b",\"previousHash\":\"");
            if first_in_file {
                // A file's first record links to the whole previous file.
                self.buf.extend_from_slice(self.last_hash.as_bytes());
            } else {
                let Some(hex) = files::hex64(&hasher.clone().finish()) else {
                    return Err(other("SHA-256 is not 32 bytes"));
                };
                self.buf.extend_from_slice(&hex);
            }
            self.buf.extend_from_slice(b"\"}}\n");
            hasher.update(self.buf.get(start..).unwrap_or_default());
            first_in_file = false;
            charged = charged.saturating_add(len64(body.len() + CHAIN_BYTES));
            n += 1;
            if self.buf.len() >= WRITE_CHUNK {
                let Some(c) = self.current.as_mut() else {
                    return Err(other("audit records without an open file"));
                };
                if let Err(e) = c.file.write_all(&self.buf) {
                    Self::cut_back(c, &self.shared);
                    return Err(e);
                }
                spilled += self.buf.len();
                self.buf.clear();
            }
        }
        self.flush_buf(hasher)?;
        self.last_write = Instant::now();
        self.last_batch = n;
        let written = len64(spilled + self.buf.len());
        self.buf.clear();
        self.seq = seq;
        if let Some(c) = self.current.as_mut() {
            let before = c.bytes;
            if c.last_seq < c.first_seq {
                // Its age counts from its first record.
                c.opened = Instant::now();
            }
            c.last_seq = seq;
            c.bytes = c.bytes.saturating_add(written);
            // Records beyond the reservation (unadmitted ones) did not use reserved space.
            let overrun = c.bytes.saturating_sub(c.reserved_end.max(before));
            c.reserved_end = c.reserved_end.max(c.bytes);
            let _forgotten = c.forget_durable();
            #[cfg(test)]
            self.shared
                .forgotten
                .fetch_add(_forgotten, Ordering::Relaxed);
            self.shared.add_budget(signed(
                charged.saturating_sub(written).saturating_add(overrun),
            ));
        }
        for _ in 0..n {
            if let Some(Item::Record(_, Some(ack))) = self.pending.pop_front() {
                let _ = ack.send(Ok(()));
            }
        }
        self.shared
            .queued
            .fetch_sub(u64::try_from(n).unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// Appends `buf` (the rest of a batch) to the current file and fsyncs, and then takes
    /// `hasher` (the file's running hash through the batch) as the file's; on failure
    /// cuts the file back to its durable length.
    fn flush_buf(&mut self, hasher: Context) -> io::Result<()> {
        let Some(c) = self.current.as_mut() else {
            return Err(other("audit records without an open file"));
        };
        let result = Self::write_durably(&mut c.file, &self.buf, &self.shared);
        if let Err(e) = result {
            Self::cut_back(c, &self.shared);
            return Err(e);
        }
        c.hasher = hasher;
        Ok(())
    }

    /// After a failed write: cuts `c` back to its durable length, which also frees its
    /// reservation (a torn file is cut when it next can be).
    fn cut_back(c: &mut OpenFile, shared: &Shared) {
        shared.add_budget(-signed(c.headroom()));
        c.reserved_end = c.bytes;
        c.torn = true;
        if c.file
            .set_len(c.bytes)
            .and_then(|()| c.file.sync_all())
            .is_ok()
        {
            c.torn = false;
        }
    }

    fn write_durably(file: &mut File, buf: &[u8], shared: &Shared) -> io::Result<()> {
        #[cfg(test)]
        if shared
            .faults
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            file.write_all(buf.get(..buf.len() / 2).unwrap_or_default())?;
            return Err(other("injected write failure"));
        }
        file.write_all(buf)?;
        let started = Instant::now();
        file.sync_data()?;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        shared.fsyncs.fetch_add(1, Ordering::Relaxed);
        shared.fsync_nanos.fetch_add(nanos, Ordering::Relaxed);
        Ok(())
    }

    /// Opens a fresh record file for the next sequence with at least `min` and up to
    /// `want` bytes reserved.
    fn open_new(&mut self, min: u64, want: u64) -> io::Result<OpenFile> {
        if !self.dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the audit directory {} does not exist", self.dir.display()),
            ));
        }
        self.ensure_layout()?;
        let first = self.seq.saturating_add(1);
        let name = files::log_file_name(first, time::OffsetDateTime::now_utc());
        let path = self.dir.join(&name);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)?;
        let reserved = space::reserve_up_to(&file, 0, want.max(min), min)
            .and_then(|r| signing::sync_dir(&self.dir).map(|()| r))
            .and_then(|r| file.metadata().map(|m| (r, space::identity(&m))));
        let (reserved, identity) = match reserved {
            Ok(r) => r,
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        Ok(OpenFile {
            file,
            name,
            bytes: 0,
            first_seq: first,
            last_seq: self.seq,
            opened: Instant::now(),
            hasher: Context::new(&SHA256),
            identity,
            reserved_end: reserved,
            torn: false,
            uncached: 0,
        })
    }

    /// Moves to a fresh file and seals the current one. The fresh file must get at
    /// least the space promised to admitted requests, else writing goes on in the
    /// current file (past its nominal size) and rotation is retried later.
    fn rotate(&mut self, reason: &str) {
        if Instant::now() < self.next_rotation {
            return;
        }
        // The fresh file must hold what queued records were promised, and should leave
        // the budget at twice the configured reserve.
        let budget = i128::from(self.shared.budget.load(Ordering::Relaxed));
        let headroom = self
            .current
            .as_ref()
            .map_or(0, |c| i128::from(c.headroom()));
        let promised = u64::try_from((headroom - budget).max(0)).unwrap_or(u64::MAX);
        let keep = promised.max(MIN_RESERVE);
        let want = promised.saturating_add(self.limits.reserve_bytes.saturating_mul(2));
        let fresh = match self.open_new(keep, want) {
            Ok(f) => f,
            Err(e) => {
                self.next_rotation = Instant::now() + RETRY;
                if !self.warned_rotation {
                    self.warned_rotation = true;
                    tracing::warn!(
                        "cannot start a new audit file yet (going on in the current one): {e}"
                    );
                }
                return;
            }
        };
        self.warned_rotation = false;
        self.shared.add_budget(signed(fresh.headroom()));
        if let Some(old) = self.current.replace(fresh) {
            self.seal(old);
        }
        self.reseal = false;
        if let Err(e) = self.write_digest(reason) {
            tracing::warn!("cannot sign a digest yet (retried at the next rotation): {e}");
        } else {
            self.apply_retention();
        }
    }

    /// Closes a file: gives back its unused reservation and queues it for the digest.
    fn seal(&mut self, c: OpenFile) {
        self.shared.add_budget(-signed(c.headroom()));
        if let Err(e) = space::release(&c.file, c.bytes, c.headroom()) {
            tracing::debug!("releasing reserved audit space: {e}");
        }
        if let Err(e) = c.file.sync_all() {
            tracing::warn!(file = %c.name, "fsync at close: {e}");
        }
        if c.last_seq >= c.first_seq {
            let sha256 = files::digest_hex(&c.hasher.finish());
            // The next file's first record links to this one, whole.
            self.last_hash.clone_from(&sha256);
            self.unsealed.push(DigestedFile {
                file_name: c.name,
                sha256,
                bytes: c.bytes,
                first_sequence: c.first_seq,
                last_sequence: c.last_seq,
            });
        } else {
            let _ = std::fs::remove_file(self.dir.join(&c.name));
        }
    }

    /// Keeps the budget (the reservation of the current file less what queued records
    /// were promised) at two to four times the configured size: under load the queue
    /// holds megabytes, and a batch's write and fsync may take a while. The reservation
    /// grows up to sixteen times the configured size and is given back at rotation.
    fn top_up(&mut self) {
        let now = Instant::now();
        let want = self.limits.reserve_bytes;
        let budget = u64::try_from(self.shared.budget.load(Ordering::Relaxed)).unwrap_or(0);
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let available = c.headroom().min(budget);
        if now < self.next_top_up || available >= want.saturating_mul(2) {
            return;
        }
        let from = c.reserved_end.max(c.bytes);
        let missing = want
            .saturating_mul(4)
            .saturating_sub(available)
            .min(want.saturating_mul(16).saturating_sub(c.headroom()));
        if missing == 0 {
            return;
        }
        match space::reserve_up_to(&c.file, from, missing, 4096) {
            Ok(added) => {
                c.reserved_end = from.saturating_add(added);
                self.shared.add_budget(signed(added));
                self.shared.space_short.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                self.shared.space_short.store(true, Ordering::Relaxed);
                self.next_top_up = now + RETRY;
                tracing::debug!("cannot reserve audit space: {e}");
            }
        }
    }

    /// Writes what is pending (failing if it cannot), then seals the current file.
    fn close(&mut self) -> io::Result<()> {
        let drained = self.drain();
        if let Some(c) = self.current.take() {
            self.seal(c);
        }
        drained?;
        self.write_digest("shutdown")
    }

    fn apply_retention(&mut self) {
        let mut open: Vec<&str> = self.unsealed.iter().map(|f| f.file_name.as_str()).collect();
        if let Some(c) = &self.current {
            open.push(&c.name);
        }
        self.limits.retention.apply(&self.dir, &open);
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
        self.ensure_layout()?;
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
