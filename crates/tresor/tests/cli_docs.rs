//! `tresor completions` and `tresor man`: generated from the clap definitions, covering
//! the client-side encryption commands.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

fn tresor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args(args)
        .output()
        .expect("run tresor")
}

#[test]
fn completions_for_each_shell_know_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tresor"),
        ("fish", "complete -c tresor"),
    ] {
        let out = tresor(&["completions", shell]);
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for word in ["encrypt", "decrypt", "discovery", "serve"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    let out = tresor(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_prints_roff_and_writes_a_page_per_command() {
    let out = tresor(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH tresor"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains("encrypt"));
    let dir = tempfile::tempdir().unwrap();
    let out = tresor(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decrypt = std::fs::read_to_string(dir.path().join("tresor-decrypt.1")).unwrap();
    assert!(
        decrypt.contains("discovery") && decrypt.contains("strict"),
        "tresor-decrypt.1 lacks its options"
    );
    assert!(dir.path().join("tresor-encrypt.1").exists());
}
