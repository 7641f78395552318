//! Reading and verifying the audit log of a test server.

use super::*;
use serde_json::Value;

/// The audit directory of a test server.
pub fn audit_dir(server: &Server) -> PathBuf {
    server.data_dir.join("audit")
}

/// Every complete record of the audit directory, oldest first.
pub fn records(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.split_inclusive('\n') {
            if let Some(line) = line.strip_suffix('\n') {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    out
}

/// Runs the tresor binary with `args`: (success, stdout, stderr).
pub fn tresor(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args(args)
        .output()
        .expect("run tresor");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tresor audit verify DIR`: (passed, output).
pub fn verify(dir: &Path) -> (bool, String) {
    let (ok, out, err) = tresor(&["audit", "verify", dir.to_str().unwrap()]);
    (ok, format!("{out}{err}"))
}
