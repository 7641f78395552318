//! The file sink against a real directory: durability, the chain across restarts,
//! torn lines, failures, space, retention and the page cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::event::tests::read_record;
use crate::files::{self, Digest, GENESIS_HASH};
use std::fs::OpenOptions;
use std::io::Write;
use tresor_core::Caller;

fn caller(n: usize) -> Caller {
    Caller {
        request_id: format!("req-{n}"),
        ..crate::event::tests::caller()
    }
}

fn config(dir: &Path) -> FileSinkConfig {
    FileSinkConfig::new(dir.join("audit"), dir.join("audit-signing-key.pem"))
}

fn write(sink: &FileAuditSink, n: usize, read_only: bool) {
    let c = caller(n);
    let arns = vec![format!("arn:aws:kms:us-east-1:111122223333:key/{n}")];
    sink.record(&AuditRecord {
        request_parameters: tresor_core::audit::LoggedJson::from_value(
            &serde_json::json!({"keyId": n.to_string()}),
        ),
        read_only,
        event_name: if read_only { "Encrypt" } else { "CreateKey" },
        resources: &arns,
        event_time_ms: 1_795_867_200_000,
        ..read_record(&c)
    })
    .unwrap();
}

/// Stops the writer without sealing, as a crash would.
fn crash(sink: &FileAuditSink) {
    sink.flush().unwrap();
    sink.queue.send(Msg::Abort).map_err(drop).unwrap();
    sink.closed.store(true, Ordering::Release);
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

fn config_with(dir: &Path, f: impl FnOnce(&mut FileSinkConfig)) -> FileSinkConfig {
    let mut cfg = config(dir);
    f(&mut cfg);
    cfg
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn failed_write_is_cut_back_and_retried_while_requests_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = Arc::new(FileAuditSink::open(config(tmp.path())).unwrap());
    for n in 0..3 {
        write(&sink, n, false);
    }
    sink.admit(100).unwrap();
    // The next five writes fail halfway (a torn line each time): about a second.
    sink.shared.faults.store(5, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let writer = {
        let sink = sink.clone();
        std::thread::spawn(move || write(&sink, 3, false))
    };
    wait_until("the sink to turn unhealthy", || !sink.is_healthy());
    let refused = sink.admit(100).unwrap_err();
    assert!(refused.0.contains("cannot be written"), "{refused}");
    // Nothing torn is visible while it retries, and the chain did not advance.
    let recs = files::read_all_records(&audit).unwrap();
    assert_eq!(recs.len(), 3);
    assert_intact(&audit, 3);
    // The mutation waited for the retries instead of failing.
    writer.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(5 * 150));
    // The writer acknowledges the batch before it marks the sink healthy again.
    wait_until("recovery", || sink.is_healthy());
    sink.admit(100).unwrap();
    write(&sink, 4, true);
    sink.close().unwrap();
    let r = assert_intact(&audit, 5);
    assert!(r.warnings.is_empty(), "{r:?}");
    let recs = files::read_all_records(&audit).unwrap();
    let seqs: Vec<u64> = recs
        .iter()
        .map(|(_, v)| v["tresor"]["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert_eq!(recs[3].1["requestID"], "req-3");
}

#[test]
fn a_batch_written_in_pieces_is_cut_back_whole_when_its_end_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = Arc::new(FileAuditSink::open(config(tmp.path())).unwrap());
    write(&sink, 0, false);
    // The next write fails halfway; while the writer waits to retry, 400 records
    // (~250 KiB) queue up and are then written as one batch, in several pieces.
    sink.shared.faults.store(1, Ordering::Relaxed);
    let mutation = {
        let sink = sink.clone();
        std::thread::spawn(move || write(&sink, 1, false))
    };
    wait_until("the sink to turn unhealthy", || !sink.is_healthy());
    for n in 2..402 {
        write(&sink, n, true);
    }
    mutation.join().unwrap();
    // Fail the end of the big batch too: the pieces already written go with it.
    sink.shared.faults.store(1, Ordering::Relaxed);
    write(&sink, 402, false);
    sink.close().unwrap();
    assert_intact(&audit, 403);
    let recs = files::read_all_records(&audit).unwrap();
    let ids: Vec<String> = recs
        .iter()
        .map(|(_, v)| v["requestID"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..403).map(|n| format!("req-{n}")).collect();
    assert_eq!(ids, want);
}

#[test]
fn a_mutation_gives_up_after_the_durability_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_with(tmp.path(), |c| c.durable_wait = Duration::from_millis(300));
    let sink = FileAuditSink::open(cfg).unwrap();
    sink.shared.faults.store(u32::MAX, Ordering::Relaxed);
    let c = caller(1);
    let err = sink
        .record(&AuditRecord {
            read_only: false,
            event_name: "CreateKey",
            ..read_record(&c)
        })
        .unwrap_err();
    assert!(err.0.contains("not durable"), "{err}");
    // Once writes work, the record is written after all.
    sink.shared.faults.store(0, Ordering::Relaxed);
    wait_until("recovery", || sink.is_healthy());
    sink.close().unwrap();
    assert_intact(&tmp.path().join("audit"), 1);
}

#[test]
fn admission_takes_from_the_reserved_space() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_with(tmp.path(), |c| c.reserve_bytes = 1024 * 1024);
    let sink = FileAuditSink::open(cfg).unwrap();
    sink.admit(1024 * 1024).unwrap();
    // A short budget with space on disk is backpressure: the writer reserves more.
    sink.admit(1).unwrap();
    // With the disk full (the writer's last reservation failed) it is a refusal.
    sink.shared.space_short.store(true, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let err = sink.admit(64 * 1024 * 1024).unwrap_err();
    assert!(err.0.contains("reserved"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    sink.shared.space_short.store(false, Ordering::Relaxed);
    // A record gives back what its admission over-estimated.
    let c = caller(1);
    sink.record(&AuditRecord {
        admitted_bytes: 1024 * 1024,
        ..read_record(&c)
    })
    .unwrap();
    sink.admit(512 * 1024).unwrap();
    sink.close().unwrap();
}

#[test]
fn removed_directory_is_noticed_and_writing_resumes_when_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = Arc::new(FileAuditSink::open(config(tmp.path())).unwrap());
    for n in 0..4 {
        write(&sink, n, false);
    }
    std::fs::remove_dir_all(&audit).unwrap();
    // A mutation admitted now waits for the directory to come back.
    let writer = {
        let sink = sink.clone();
        std::thread::spawn(move || write(&sink, 4, false))
    };
    wait_until("the sink to turn unhealthy", || !sink.is_healthy());
    assert!(sink.admit(100).is_err());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !sink.is_healthy(),
        "the audit directory is not recreated by the sink"
    );
    std::fs::create_dir(&audit).unwrap();
    writer.join().unwrap();
    wait_until("recovery", || sink.is_healthy());
    write(&sink, 5, false);
    sink.close().unwrap();
    // The new directory holds records 5.. anchored by a digest signed there.
    let r = assert_intact(&audit, 2);
    assert_eq!(r.sequences, Some((5, 6)));
    assert_eq!(r.retained_from.as_ref().map(|x| x.0), Some(5));
    assert!(audit.join(files::KEYS_DIR).is_dir());
}

#[test]
fn retention_by_size_keeps_a_verifiable_suffix() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let cfg = config_with(tmp.path(), |c| {
        c.max_file_bytes = 2000;
        c.retention.max_bytes = Some(8000);
    });
    let sink = FileAuditSink::open(cfg).unwrap();
    for n in 0..60 {
        write(&sink, n, false);
    }
    sink.close().unwrap();
    let r = crate::verify(&audit, None).unwrap();
    assert!(r.problems.is_empty(), "{r:?}");
    let (first, last) = r.sequences.unwrap();
    assert!(first > 1 && last == 60, "{r:?}");
    assert_eq!(r.records, 61 - first);
    assert_eq!(r.retained_from.as_ref().map(|x| x.0), Some(first));
    let total: u64 = files::list_log_files(&audit)
        .unwrap()
        .iter()
        .map(|(_, p)| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 8000 + 2100, "{total}");
    // Digests of removed files went too, but not all of them.
    let digests = files::list_digests(&audit).unwrap();
    assert!(
        digests.first().unwrap().0 > 1 && digests.len() < 30,
        "{digests:?}"
    );

    // Removing a retained file in the middle is still caught.
    let logs = files::list_log_files(&audit).unwrap();
    std::fs::remove_file(&logs[1].1).unwrap();
    let r = crate::verify(&audit, None).unwrap();
    assert!(!r.problems.is_empty(), "{r:?}");
}

#[test]
fn retention_by_age_removes_old_files_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    {
        let cfg = config_with(tmp.path(), |c| c.max_file_bytes = 2000);
        let sink = FileAuditSink::open(cfg).unwrap();
        for n in 0..30 {
            write(&sink, n, false);
        }
        sink.close().unwrap();
    }
    let logs = files::list_log_files(&audit).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(10 * 86_400);
    for (_, p) in logs.iter().take(3) {
        let f = OpenOptions::new().append(true).open(p).unwrap();
        f.set_modified(old).unwrap();
    }
    let cfg = config_with(tmp.path(), |c| {
        c.retention.max_age = Some(Duration::from_secs(5 * 86_400));
    });
    let sink = FileAuditSink::open(cfg).unwrap();
    write(&sink, 30, false);
    sink.close().unwrap();
    assert_eq!(files::list_log_files(&audit).unwrap().len(), logs.len() - 2);
    let r = crate::verify(&audit, None).unwrap();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(r.sequences.unwrap().0, logs[3].0);
    assert_eq!(r.records, 31 - (logs[3].0 - 1));
}

#[test]
fn durable_records_leave_the_page_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = FileAuditSink::open(config(tmp.path())).unwrap();
    for n in 0..2000 {
        write(&sink, n, true);
    }
    sink.flush().unwrap();
    let forgotten = sink.shared.forgotten.load(Ordering::Relaxed);
    let (_, log) = files::list_log_files(&audit).unwrap().pop().unwrap();
    let len = std::fs::metadata(&log).unwrap().len();
    // Whole pages of what is durable, in steps of at least 256 KiB.
    assert!(len > 600 * 1024, "{len}");
    assert!(
        forgotten >= 256 * 1024 && forgotten.is_multiple_of(4096) && forgotten <= len,
        "{forgotten} of {len}"
    );
    sink.close().unwrap();
    // Reading them back (from disk now) still verifies.
    assert_intact(&audit, 2000);
}

/// The lines of a record file, each with its newline.
fn raw_lines(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read(path)
        .unwrap()
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A sink whose files rotate every few records.
fn small_file_sink(dir: &std::path::Path) -> FileAuditSink {
    FileAuditSink::open(config_with(dir, |c| c.max_file_bytes = 2000)).unwrap()
}

fn previous_hash(line: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(line).unwrap();
    v["tresor"]["previousHash"].as_str().unwrap().to_string()
}

#[test]
fn each_record_links_to_its_file_so_far_and_a_file_to_the_previous_file() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = small_file_sink(tmp.path());
    for n in 0..12 {
        write(&sink, n, n % 2 == 0);
    }
    sink.close().unwrap();
    let logs = files::list_log_files(&audit).unwrap();
    assert!(logs.len() >= 3, "{logs:?}");
    let mut previous_file = GENESIS_HASH.to_string();
    for (_, path) in &logs {
        let lines = raw_lines(path);
        assert!(lines.len() >= 2, "{path:?}");
        assert_eq!(previous_hash(&lines[0]), previous_file, "{path:?}");
        for k in 1..lines.len() {
            assert_eq!(
                previous_hash(&lines[k]),
                files::sha256_hex(&lines[..k].concat()),
                "{path:?} line {}",
                k + 1
            );
        }
        previous_file = files::sha256_hex(&std::fs::read(path).unwrap());
    }
    assert_intact(&audit, 12);

    // A changed record breaks the next record's link, in the middle of a file or at its
    // end (the next file's first record).
    for (file, line) in [(0, 0), (1, usize::MAX)] {
        let copy = tmp.path().join(format!("copy-{file}"));
        std::fs::create_dir_all(copy.join(files::DIGEST_DIR)).unwrap();
        for (_, p) in &logs {
            std::fs::copy(p, copy.join(p.file_name().unwrap())).unwrap();
        }
        let path = copy.join(logs[file].1.file_name().unwrap());
        let mut lines = raw_lines(&path);
        let line = line.min(lines.len() - 1);
        let at = lines[line].windows(4).position(|w| w == b"req-").unwrap();
        lines[line][at] = b'R';
        std::fs::write(&path, lines.concat()).unwrap();
        let r = crate::verify(&copy, None).unwrap();
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("previousHash does not match")),
            "{r:?}"
        );
    }
}

#[test]
fn a_log_chained_line_by_line_still_verifies() {
    // Tresor before the one-pass chain linked each record to the SHA-256 of the line
    // before it (the first record of a file to the previous file's last line).
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let sink = small_file_sink(tmp.path());
    for n in 0..8 {
        write(&sink, n, false);
    }
    crash(&sink);
    let old = tmp.path().join("old");
    std::fs::create_dir_all(old.join(files::DIGEST_DIR)).unwrap();
    let mut prev = GENESIS_HASH.to_string();
    let mut old_files = Vec::new();
    for (_, path) in files::list_log_files(&audit).unwrap() {
        let mut out = Vec::new();
        for line in raw_lines(&path) {
            let mut v: serde_json::Value = serde_json::from_slice(&line).unwrap();
            v["tresor"]["previousHash"] = prev.clone().into();
            let text = serde_json::to_vec(&v).unwrap();
            prev = files::sha256_hex(&text);
            out.extend_from_slice(&text);
            out.push(b'\n');
        }
        let dest = old.join(path.file_name().unwrap());
        std::fs::write(&dest, &out).unwrap();
        old_files.push(dest);
    }
    assert!(old_files.len() >= 2);
    let r = crate::verify(&old, None).unwrap();
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(r.records, 8);
    // And a record altered there is still caught.
    let mut lines = raw_lines(&old_files[0]);
    let at = lines[0].windows(4).position(|w| w == b"req-").unwrap();
    lines[0][at] = b'R';
    std::fs::write(&old_files[0], lines.concat()).unwrap();
    let r = crate::verify(&old, None).unwrap();
    assert!(!r.problems.is_empty(), "{r:?}");
}
