//! `tresor encrypt` / `tresor decrypt` against a real server: round trips with several
//! keys, strict and discovery mode, the encryption context check, tampered and truncated
//! messages (no plaintext file left behind), and a 64 MiB stream in bounded memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `tresor ARGS` as a client of `srv` (endpoint and dev credentials from the environment).
fn tresor(srv: &Server) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tresor"));
    for k in [
        "AWS_ENDPOINT_URL_KMS",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AWS_ENDPOINT_URL", &srv.endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_DEFAULT_REGION", REGION)
        .stdin(Stdio::null());
    cmd
}

fn run(srv: &Server, args: &[&str]) -> Output {
    tresor(srv).args(args).output().expect("run tresor")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[track_caller]
fn succeeds(out: &Output) {
    assert!(
        out.status.success(),
        "tresor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[track_caller]
fn fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "tresor succeeded; stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
}

/// Plaintext that spans several 4 KiB frames and a partial final frame.
fn sample() -> Vec<u8> {
    (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn two_keys_either_decrypts_and_the_context_is_checked() {
    let srv = Server::start();
    let c = srv.client().await;
    let (a, b) = (create_key(&c).await, create_key(&c).await);
    ok(c.create_alias()
        .alias_name("alias/files-b")
        .target_key_id(&b)
        .send()
        .await);
    let dir = tempfile::tempdir().unwrap();
    let (plain, sealed, out) = (
        dir.path().join("p"),
        dir.path().join("s"),
        dir.path().join("o"),
    );
    std::fs::write(&plain, sample()).unwrap();

    succeeds(&run(
        &srv,
        &[
            "encrypt",
            "--key",
            &a,
            "--key",
            "alias/files-b",
            "--context",
            "purpose=test",
            "--context",
            "tenant=acme",
            path(&plain),
            path(&sealed),
        ],
    ));
    let message = std::fs::read(&sealed).unwrap();
    assert_eq!(&message[..3], &[0x02, 0x05, 0x78], "format 2, suite 0x0578");
    assert!(!message
        .windows(64)
        .any(|w| sample().windows(64).any(|p| p == w)));
    let text = String::from_utf8_lossy(&message);
    assert!(text.contains(&key_arn(REGION, &a)) && text.contains(&key_arn(REGION, &b)));
    assert!(text.contains("aws-crypto-public-key"));

    // Either key alone decrypts (by ARN, key id or alias).
    for key in [key_arn(REGION, &a), b.clone(), "alias/files-b".to_string()] {
        let _ = std::fs::remove_file(&out);
        succeeds(&run(
            &srv,
            &[
                "decrypt",
                "--key",
                &key,
                "--context",
                "purpose=test",
                path(&sealed),
                path(&out),
            ],
        ));
        assert_eq!(std::fs::read(&out).unwrap(), sample(), "decrypt with {key}");
    }

    // A context entry the message does not have, or with another value: refused, no output.
    let _ = std::fs::remove_file(&out);
    for wrong in ["purpose=prod", "owner=acme"] {
        let r = run(
            &srv,
            &[
                "decrypt",
                "--key",
                &a,
                "--context",
                wrong,
                path(&sealed),
                path(&out),
            ],
        );
        fails_with(&r, "does not contain");
        assert!(!out.exists());
    }
    // The reserved prefix cannot be set by hand.
    let r = run(
        &srv,
        &[
            "encrypt",
            "--key",
            &a,
            "--context",
            "aws-crypto-public-key=x",
            path(&plain),
            path(&out),
        ],
    );
    fails_with(&r, "reserved");
}

#[tokio::test]
async fn strict_mode_refuses_other_keys_and_discovery_is_explicit() {
    let srv = Server::start();
    let c = srv.client().await;
    let (a, other) = (create_key(&c).await, create_key(&c).await);
    let dir = tempfile::tempdir().unwrap();
    let (plain, sealed, out) = (
        dir.path().join("p"),
        dir.path().join("s"),
        dir.path().join("o"),
    );
    std::fs::write(&plain, b"strict").unwrap();
    succeeds(&run(
        &srv,
        &["encrypt", "--key", &a, path(&plain), path(&sealed)],
    ));

    // A key the caller may use, but not the one the message names: refused without
    // asking KMS to decrypt anything.
    let r = run(
        &srv,
        &["decrypt", "--key", &other, path(&sealed), path(&out)],
    );
    fails_with(
        &r,
        "no encrypted data key of the message is under an allowed key",
    );
    assert!(!out.exists());
    // Neither --key nor --discovery: a usage error.
    let r = run(&srv, &["decrypt", path(&sealed), path(&out)]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    // Both: refused too.
    let r = run(
        &srv,
        &[
            "decrypt",
            "--discovery",
            "--key",
            &a,
            path(&sealed),
            path(&out),
        ],
    );
    assert_eq!(r.status.code(), Some(2));
    // Discovery filtered to another account: nothing to try.
    let r = run(
        &srv,
        &[
            "decrypt",
            "--discovery",
            "--discovery-account",
            "999999999999",
            path(&sealed),
            path(&out),
        ],
    );
    fails_with(&r, "no encrypted data key");
    succeeds(&run(
        &srv,
        &[
            "decrypt",
            "--discovery",
            "--discovery-account",
            ACCOUNT,
            path(&sealed),
            path(&out),
        ],
    ));
    assert_eq!(std::fs::read(&out).unwrap(), b"strict");

    // A message relabelled to name the allowed key while carrying another key's data key:
    // KMS refuses to decrypt it under the named key, and nothing is written.
    let _ = std::fs::remove_file(&out);
    let message = std::fs::read(&sealed).unwrap();
    let (from, to) = (key_arn(REGION, &a), key_arn(REGION, &other));
    let at = message
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap();
    let mut forged = message.clone();
    forged[at..at + to.len()].copy_from_slice(to.as_bytes());
    let bad = dir.path().join("forged");
    std::fs::write(&bad, &forged).unwrap();
    let r = run(&srv, &["decrypt", "--key", &other, path(&bad), path(&out)]);
    fails_with(&r, "could not decrypt a data key");
    assert!(!out.exists());
}

#[tokio::test]
async fn tampered_or_truncated_messages_leave_no_plaintext() {
    let srv = Server::start();
    let c = srv.client().await;
    let a = create_key(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let (plain, sealed, bad, out) = (
        dir.path().join("p"),
        dir.path().join("s"),
        dir.path().join("bad"),
        dir.path().join("o"),
    );
    std::fs::write(&plain, sample()).unwrap();
    succeeds(&run(
        &srv,
        &["encrypt", "--key", &a, path(&plain), path(&sealed)],
    ));
    let message = std::fs::read(&sealed).unwrap();
    let n = message.len();
    // Positions: the message id (header), inside the first frame, inside the final frame,
    // the last byte of the signature.
    for (what, at) in [
        ("header", 10),
        ("a middle frame", n - 6000),
        ("final frame", n - 300),
        ("signature", n - 1),
    ] {
        let mut m = message.clone();
        m[at] ^= 0x40;
        std::fs::write(&bad, &m).unwrap();
        std::fs::write(&out, b"previous contents").unwrap();
        let r = run(&srv, &["decrypt", "--key", &a, path(&bad), path(&out)]);
        assert!(
            !r.status.success(),
            "a flipped byte in the {what} went unnoticed"
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            b"previous contents",
            "{what}: OUT was touched"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".tresor-partial")
            })
            .collect();
        assert!(
            leftovers.is_empty(),
            "{what}: a partial file was left behind"
        );
    }
    let _ = std::fs::remove_file(&out);
    for cut in [0, 5, 200, n - 5000, n - 1] {
        std::fs::write(&bad, &message[..cut]).unwrap();
        let r = run(&srv, &["decrypt", "--key", &a, path(&bad), path(&out)]);
        assert!(
            !r.status.success(),
            "a message cut at {cut} of {n} was accepted"
        );
        assert!(!out.exists(), "cut at {cut}: plaintext written");
    }
    std::fs::write(&bad, b"just some text, not a message").unwrap();
    fails_with(
        &run(&srv, &["decrypt", "--key", &a, path(&bad), path(&out)]),
        "not an AWS Encryption SDK message",
    );
    // To stdout, a failure is still an error exit (what was written before it came from
    // frames whose tags checked; the documentation says to use a file OUT).
    let mut m = message.clone();
    m[n - 1] ^= 0x40;
    std::fs::write(&bad, &m).unwrap();
    let r = run(&srv, &["decrypt", "--key", &a, path(&bad), "-"]);
    fails_with(&r, "signature");
}

/// Peak resident set (VmHWM, KiB) of `pid` as last seen, polled until it exits.
fn watch_peak_rss(pid: u32) -> (Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let peak = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&peak);
    let handle = std::thread::spawn(move || {
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                seen.fetch_max(kb, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (peak, handle)
}

/// Pseudo-random MiB blocks: one base block, block `i` starts with `i` (cheap to make
/// in a debug build, different from frame to frame and block to block).
struct Blocks(Vec<u8>);

impl Blocks {
    fn new() -> Self {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        Blocks(
            (0..1 << 20)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect(),
        )
    }

    fn block(&mut self, i: u64) -> &[u8] {
        self.0[..8].copy_from_slice(&i.to_be_bytes());
        &self.0
    }
}

/// Streams 64 MiB (`TRESOR_STREAM_TEST_MIB=1024` for the 1 GiB) through
/// `encrypt - FILE` and `decrypt FILE -`, sampling each process's peak RSS.
#[tokio::test]
async fn a_64_mib_stream_round_trips_in_bounded_memory() {
    let mib: u64 = std::env::var("TRESOR_STREAM_TEST_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let srv = Server::start();
    let c = srv.client().await;
    let a = create_key(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let sealed = dir.path().join("s");
    let mut expected = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);

    // stdin → file.
    let started = Instant::now();
    let mut child = tresor(&srv)
        .args(["encrypt", "--quiet", "--key", &a, "-", path(&sealed)])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (enc_peak, enc_watch) = watch_peak_rss(child.id());
    let mut stdin = child.stdin.take().unwrap();
    let mut blocks = Blocks::new();
    for i in 0..mib {
        let b = blocks.block(i);
        expected.update(b);
        stdin.write_all(b).unwrap();
    }
    drop(stdin);
    let status = child.wait_with_output().unwrap();
    succeeds(&status);
    let enc_time = started.elapsed();
    enc_watch.join().unwrap();
    let size = std::fs::metadata(&sealed).unwrap().len();
    assert!(size > mib << 20, "message of {size} bytes");

    // file → stdout.
    let started = Instant::now();
    let mut child = tresor(&srv)
        .args(["decrypt", "--quiet", "--key", &a, path(&sealed), "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (dec_peak, dec_watch) = watch_peak_rss(child.id());
    let mut stdout = child.stdout.take().unwrap();
    let mut got = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        got.update(&buf[..n]);
    }
    let status = child.wait_with_output().unwrap();
    succeeds(&status);
    let dec_time = started.elapsed();
    dec_watch.join().unwrap();
    assert_eq!(total, mib << 20);
    assert_eq!(
        got.finish().as_ref(),
        expected.finish().as_ref(),
        "plaintext differs"
    );

    let (enc_kib, dec_kib) = (
        enc_peak.load(Ordering::Relaxed),
        dec_peak.load(Ordering::Relaxed),
    );
    eprintln!(
        "{mib} MiB: encrypt {enc_time:?} peak RSS {enc_kib} KiB; decrypt {dec_time:?} peak RSS {dec_kib} KiB"
    );
    assert!(enc_kib > 0 && dec_kib > 0, "RSS was never sampled");
    // Far below the 64 MiB of data: neither side holds the stream.
    for (what, kib) in [("encrypt", enc_kib), ("decrypt", dec_kib)] {
        assert!(kib < 40 * 1024, "{what} peak RSS {kib} KiB");
    }
}
