//! TLS to PostgreSQL: `sslmode`/`sslrootcert` parsing, and connections to the test
//! server (TLS set up by `.ci/run`) and to a plain-text impostor.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::tests::{wait_for, Collect};
use super::tls::{split_url, RootCerts, SslMode};
use super::*;
use crate::contract::key;
use crate::testing::{test_server_ca, TestDatabase};
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

/// The first message of a client asking for TLS (length 8, code 80877103).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

fn verify(url: &str, mode: &str, ca: &Path) -> String {
    with_params(url, &format!("sslmode={mode}&sslrootcert={}", ca.display()))
}

fn open_err(url: &str) -> String {
    match PostgresStore::open(url) {
        Ok(_) => panic!("connected to {url}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sslmode_and_sslrootcert_are_read_and_taken_out_of_the_url() {
    let (rest, o) = split_url("postgres://u@h:5432/db").unwrap();
    assert_eq!(rest, "postgres://u@h:5432/db");
    assert_eq!((o.mode, o.roots), (SslMode::Prefer, RootCerts::System));
    let (rest, o) = split_url(
        "postgres://u@h/db?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20b.pem&connect_timeout=3",
    )
    .unwrap();
    assert_eq!(
        rest,
        "postgres://u@h/db?application_name=x&connect_timeout=3"
    );
    assert_eq!(o.mode, SslMode::VerifyFull);
    assert_eq!(o.roots, RootCerts::File(PathBuf::from("/etc/ca b.pem")));
    for (m, want) in [
        ("disable", SslMode::Disable),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ] {
        let (rest, o) = split_url(&format!("postgres://u@h/db?sslmode={m}")).unwrap();
        assert_eq!((rest.as_str(), o.mode), ("postgres://u@h/db", want));
    }
    // As in libpq: a root file makes require check the chain.
    let (_, o) = split_url("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem").unwrap();
    assert_eq!(o.mode, SslMode::VerifyCa);
    let (_, o) = split_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=system").unwrap();
    assert_eq!((o.mode, o.roots), (SslMode::VerifyFull, RootCerts::System));
    for (bad, says) in [
        ("sslmode=allow", "sslmode=allow is not supported"),
        ("sslmode=verify", "sslmode must be disable, prefer, require"),
        (
            "sslmode=require&sslrootcert=system",
            "needs sslmode=verify-full",
        ),
        (
            "sslmode=verify-full&sslrootcert=",
            "sslrootcert needs a path",
        ),
        ("sslrootcert=%zz", "bad percent escape"),
    ] {
        let e = split_url(&format!("postgres://u@h/db?{bad}")).unwrap_err();
        assert!(e.to_string().contains(says), "{bad}: {e}");
    }
}

/// What a connection sent first, and after the `N` answer (`None`: it hung up).
type Seen = (Vec<u8>, Option<Vec<u8>>);

/// A server answering `N` (no TLS) to every TLS request, reporting what each
/// connection sent.
fn plain_text_server() -> (u16, std::sync::mpsc::Receiver<Seen>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let mut first = [0u8; 8];
            if s.read_exact(&mut first).is_err() {
                continue;
            }
            let mut next = None;
            if first == SSL_REQUEST {
                let _ = s.write_all(b"N");
                let mut more = [0u8; 8];
                next = s.read_exact(&mut more).ok().map(|()| more.to_vec());
            }
            if tx.send((first.to_vec(), next)).is_err() {
                break;
            }
        }
    });
    (port, rx)
}

/// A self-signed certificate the test server was not issued by, as a PEM file.
fn other_ca() -> (tempfile::TempDir, PathBuf) {
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other-ca.pem");
    std::fs::write(&path, other.cert.pem()).unwrap();
    (dir, path)
}

#[test]
fn a_server_without_tls_is_refused_unless_tls_is_only_preferred() {
    let (port, seen) = plain_text_server();
    let url = format!("postgres://postgres@127.0.0.1:{port}/db");
    let (_dir, some_ca) = other_ca();
    for url in [
        with_params(&url, "sslmode=require"),
        verify(&url, "verify-ca", &some_ca),
        verify(&url, "verify-full", &some_ca),
    ] {
        let e = open_err(&url);
        assert!(e.contains("server does not support TLS"), "{url}: {e}");
        let (first, next) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, SSL_REQUEST, "{url}");
        assert_eq!(next, None, "{url}: the client went on in plain text");
    }
    // An unreadable root file is refused before any connection.
    let missing = some_ca.with_file_name("missing.pem");
    let e = open_err(&verify(&url, "verify-full", &missing));
    assert!(
        e.contains("sslrootcert") && e.contains("missing.pem"),
        "{e}"
    );
    // prefer (the default) asks for TLS, then goes on in plain text: a startup
    // message, protocol 3.0.
    let _ = PostgresStore::open(&url);
    let (first, next) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first, SSL_REQUEST);
    assert_eq!(next.unwrap()[4..8], [0, 3, 0, 0]);
    // disable never asks.
    let _ = PostgresStore::open(&with_params(&url, "sslmode=disable"));
    let (first, next) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first[4..8], [0, 3, 0, 0]);
    assert_eq!(next, None);
}

/// Whether every connection to this store's database is encrypted, and how many.
fn connections_encrypted(store: &PostgresStore) -> (bool, i64) {
    let rows = store
        .query(
            "SELECT bool_and(s.ssl), count(*) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.datname = current_database()",
            Vec::new(),
        )
        .unwrap();
    (get(&rows[0], 0).unwrap(), get(&rows[0], 1).unwrap())
}

#[test]
fn verify_full_with_the_servers_ca_works_over_tls() {
    let (Some(ca), Some(db)) = (test_server_ca(), TestDatabase::create()) else {
        return;
    };
    let url = verify(db.url(), "verify-full", &ca);
    let a = PostgresStore::open(&url).unwrap();
    let b = PostgresStore::open(&url).unwrap();
    let heard = Arc::new(Collect(Mutex::new(Vec::new())));
    b.subscribe(heard.clone());
    wait_for(&heard, &Change::All);
    a.apply(vec![Write::InsertKey(key("k1"))]).unwrap();
    assert_eq!(b.key("k1").unwrap().unwrap().key_id, "k1");
    // The change notification came over the listener's own TLS connection.
    wait_for(&heard, &Change::Key("k1".into()));
    let (all_tls, count) = connections_encrypted(&a);
    assert!(all_tls, "a connection in plain text");
    assert!(count >= 3, "{count} connections");
    // verify-ca and require with the CA work too; the default negotiates TLS.
    for url in [
        verify(db.url(), "verify-ca", &ca),
        verify(db.url(), "require", &ca),
        db.url().to_string(),
    ] {
        let s = PostgresStore::open(&url).unwrap();
        assert!(s.key("k1").unwrap().is_some());
        assert!(connections_encrypted(&s).0, "{url}");
    }
    // disable is plain text.
    let plain = PostgresStore::open(&with_params(db.url(), "sslmode=disable")).unwrap();
    assert!(!connections_encrypted(&plain).0);
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let (Some(_), Some(db)) = (test_server_ca(), TestDatabase::create()) else {
        return;
    };
    let (_dir, wrong) = other_ca();
    for mode in ["verify-full", "verify-ca", "require"] {
        let e = open_err(&verify(db.url(), mode, &wrong));
        assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
    }
    // Not one of the system's roots either.
    let e = open_err(&with_params(
        db.url(),
        "sslmode=verify-full&sslrootcert=system",
    ));
    assert!(
        e.contains("UnknownIssuer") || e.contains("no system root certificates"),
        "{e}"
    );
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host() {
    let (Some(ca), Some(db)) = (test_server_ca(), TestDatabase::create()) else {
        return;
    };
    if !db.url().contains("@127.0.0.1:") {
        eprintln!("SKIPPED: the test server is not at 127.0.0.1");
        return;
    }
    // The same server, reached by address, under a name its certificate lacks.
    let renamed = with_params(
        &db.url().replacen("@127.0.0.1:", "@db.wrong.invalid:", 1),
        "hostaddr=127.0.0.1",
    );
    let e = open_err(&verify(&renamed, "verify-full", &ca));
    assert!(
        e.contains("certificate not valid for name \"db.wrong.invalid\""),
        "{e}"
    );
    // verify-ca checks only the chain; verify-full under the right name passes.
    assert!(PostgresStore::open(&verify(&renamed, "verify-ca", &ca)).is_ok());
    let right = db.url().replacen("@127.0.0.1:", "@localhost:", 1);
    let right = with_params(&right, "hostaddr=127.0.0.1");
    assert!(PostgresStore::open(&verify(&right, "verify-full", &ca)).is_ok());
}
