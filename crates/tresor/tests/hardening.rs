//! Process hardening of a running server: no core dumps (RLIMIT_CORE 0 and not
//! dumpable) and memory locked where permitted, or a warning when not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

/// `tresor serve` on `dir` with a core limit of "unlimited" inherited, so that only the
/// server itself can bring it to 0; `as_nobody` runs it as uid/gid 65534.
fn serve_with_core_limit(dir: &Path, as_nobody: bool) -> Server {
    let mut cmd = Command::new("prlimit");
    cmd.args(["--core=unlimited:unlimited", "--"]);
    if as_nobody {
        cmd.args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ]);
    }
    cmd.arg(env!("CARGO_BIN_EXE_tresor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir);
    Server::start_command(cmd, dir)
}

fn proc_file(pid: u32, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap()
}

fn core_limit(pid: u32) -> String {
    proc_file(pid, "limits")
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .split_whitespace()
        .skip(4)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn status_field(pid: u32, field: &str) -> String {
    proc_file(pid, "status")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap()
        .trim()
        .to_string()
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

#[test]
fn server_sets_core_limit_to_zero_and_locks_memory_when_permitted() {
    if !have("prlimit") {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    let srv = serve_with_core_limit(&dir, false);
    unseal_with(&srv, &init.shares[..3]);
    assert_eq!(
        core_limit(srv.pid()),
        "0 0",
        "{}",
        proc_file(srv.pid(), "limits")
    );
    // Root (CAP_IPC_LOCK) or an unlimited RLIMIT_MEMLOCK: memory is locked; otherwise
    // the server says once that it is not.
    let locked_kb: u64 = status_field(srv.pid(), "VmLck")
        .trim_end_matches(" kB")
        .parse()
        .unwrap();
    const CAP_IPC_LOCK: u64 = 1 << 14;
    let caps = u64::from_str_radix(&status_field(std::process::id(), "CapEff"), 16).unwrap();
    let unlimited = proc_file(std::process::id(), "limits")
        .lines()
        .any(|l| l.starts_with("Max locked memory") && l.contains("unlimited"));
    if caps & CAP_IPC_LOCK != 0 || unlimited {
        assert!(locked_kb > 0, "VmLck {locked_kb} kB\n{}", srv.stderr());
    } else {
        assert!(
            srv.stderr().contains("not locked in memory"),
            "{}",
            srv.stderr()
        );
    }
}

#[test]
fn server_run_by_another_user_is_not_dumpable_and_warns_it_runs_unlocked() {
    let root = status_field(std::process::id(), "Uid").starts_with("0\t");
    if !(root && have("prlimit") && have("setpriv")) {
        eprintln!("skipped: needs root, prlimit and setpriv (util-linux)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    let mut paths = files_under(&dir);
    paths.push(dir.clone());
    for p in paths {
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    }
    let srv = serve_with_core_limit(&dir, true);
    let pid = srv.pid();
    assert!(
        status_field(pid, "Uid").starts_with("65534"),
        "{}",
        status_field(pid, "Uid")
    );
    // A non-dumpable process's /proc files belong to root, not to the process's user:
    // the only outside view of PR_GET_DUMPABLE.
    let owner = std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid();
    assert_eq!(owner, 0, "the server is dumpable");
    assert_eq!(core_limit(pid), "0 0");
    // uid 65534 has neither CAP_IPC_LOCK nor an unlimited RLIMIT_MEMLOCK here.
    let unlimited = proc_file(pid, "limits")
        .lines()
        .any(|l| l.starts_with("Max locked memory") && l.contains("unlimited"));
    if !unlimited {
        assert!(
            srv.stderr().contains("not locked in memory"),
            "{}",
            srv.stderr()
        );
    }
    unseal_with(&srv, &init.shares[..3]);
}
