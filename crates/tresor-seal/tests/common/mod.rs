//! Test helpers: a SoftHSM2 token of its own per test, in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tresor_seal::pkcs11::Pkcs11Config;

/// Debian's SoftHSM2 module (`apt-get install softhsm2`).
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const TOKEN_LABEL: &str = "tresor-test";
pub const USER_PIN: &str = "482916";

/// SoftHSM2 reads `SOFTHSM2_CONF` (process-wide) at `C_Initialize`, so tests that use a
/// token take turns.
static SOFTHSM_LOCK: Mutex<()> = Mutex::new(());

/// A fresh, initialized token; it and its configuration live as long as this value.
pub struct SoftHsm {
    pub dir: tempfile::TempDir,
    pub config: Pkcs11Config,
    _turn: MutexGuard<'static, ()>,
}

impl SoftHsm {
    pub fn new() -> Self {
        let turn = SOFTHSM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            Path::new(SOFTHSM_MODULE).exists(),
            "{SOFTHSM_MODULE} missing: apt-get install softhsm2"
        );
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let out = std::process::Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", TOKEN_LABEL])
            .args(["--pin", USER_PIN, "--so-pin", "99887766"])
            .output()
            .expect("softhsm2-util (apt-get install softhsm2)");
        assert!(out.status.success(), "{out:?}");
        let pin_file = write_pin(dir.path(), "pin", USER_PIN);
        Self {
            config: Pkcs11Config {
                module: PathBuf::from(SOFTHSM_MODULE),
                token_label: TOKEN_LABEL.to_owned(),
                pin_file,
            },
            dir,
            _turn: turn,
        }
    }
}

/// Writes `pin` to `dir/name`, mode 0600.
pub fn write_pin(dir: &Path, name: &str, pin: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A data directory.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
