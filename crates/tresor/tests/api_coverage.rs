//! docs/api-coverage.md against the botocore model (vendored, trimmed:
//! tests/data/kms-model.json) and the operation sources: every operation and member of the
//! model is listed, nothing else is, and every member listed as handled is a field of the
//! operation's request or response type in `tresor-core/src/ops/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model() -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kms-model.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (operation, member, "request" | "response") of the model.
fn model_members(model: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (op, spec) in model["operations"].as_object().unwrap() {
        for (dir, label) in [("input", "request"), ("output", "response")] {
            let Some(shape) = spec[dir]["shape"].as_str() else {
                continue;
            };
            if let Some(members) = model["shapes"][shape]["members"].as_object() {
                for name in members.keys() {
                    out.insert((op.clone(), name.clone(), label.to_string()));
                }
            }
        }
    }
    out
}

struct Coverage {
    operations: BTreeMap<String, String>,
    members: BTreeMap<(String, String, String), String>,
}

/// Parses the two tables of docs/api-coverage.md.
fn coverage() -> Coverage {
    let text = std::fs::read_to_string(repo().join("docs/api-coverage.md")).unwrap();
    let mut operations = BTreeMap::new();
    let mut members = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if !line.starts_with('|') || cells[0] == "Operation" || cells[0].starts_with("---") {
            continue;
        }
        match cells.len() {
            2 => {
                let dup = operations.insert(cells[0].to_string(), cells[1].to_string());
                assert!(dup.is_none(), "operation {} listed twice", cells[0]);
            }
            4 => {
                let key = (
                    cells[0].to_string(),
                    cells[1].to_string(),
                    cells[2].to_string(),
                );
                let dup = members.insert(key, cells[3].to_string());
                assert!(dup.is_none(), "{line} listed twice");
            }
            _ => panic!("unexpected table row: {line}"),
        }
    }
    Coverage {
        operations,
        members,
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (chars[i - 1].is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The operation's source file and the sibling modules it takes types from (`use super::x::`).
fn sources(op: &str) -> String {
    let dir = repo().join("crates/tresor-core/src/ops");
    let main = std::fs::read_to_string(dir.join(format!("{}.rs", snake(op))))
        .unwrap_or_else(|e| panic!("{op}: no operation module ({e})"));
    let mut all = main.clone();
    for line in main.lines() {
        if let Some(rest) = line.trim().strip_prefix("use super::") {
            let module: String = rest.chars().take_while(|c| *c != ':').collect();
            if let Ok(text) = std::fs::read_to_string(dir.join(format!("{module}.rs"))) {
                all.push_str(&text);
            }
        }
    }
    all
}

#[test]
fn the_model_has_56_operations_and_every_one_is_listed() {
    let model = model();
    let ops: BTreeSet<String> = model["operations"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(ops.len(), 56);
    let listed: BTreeSet<String> = coverage().operations.keys().cloned().collect();
    assert_eq!(
        ops.symmetric_difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "operations in the model but not in docs/api-coverage.md, or the other way round"
    );
}

#[test]
fn every_member_of_the_model_is_listed_and_nothing_else() {
    let model = model_members(&model());
    let listed: BTreeSet<_> = coverage().members.keys().cloned().collect();
    let missing: Vec<_> = model.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&model).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not listed: {missing:?}; listed but not in the model: {extra:?} \
         (re-run scripts/model/api_coverage.py)"
    );
}

#[test]
fn every_handled_member_is_a_field_of_the_operation_types() {
    let cov = coverage();
    let dispatched: BTreeSet<&str> = tresor_core::ops::ALL.iter().map(|e| e.name).collect();
    for (op, status) in &cov.operations {
        if status == "implemented" {
            assert!(
                dispatched.contains(op.as_str()),
                "{op} is listed as implemented but not dispatched"
            );
        } else {
            assert!(status.starts_with("in progress"), "{op}: {status}");
        }
    }
    let mut wrong = Vec::new();
    for ((op, member, dir), status) in &cov.members {
        let handled = ["validated", "accepted", "returned"]
            .iter()
            .any(|s| status.starts_with(s));
        let refused = status.starts_with("unsupported: ") || status.starts_with("not returned: ");
        let pending = status.starts_with("in progress");
        assert!(
            handled || refused || pending,
            "{op}.{member}: unknown status {status:?}"
        );
        if pending {
            continue;
        }
        assert_eq!(
            cov.operations.get(op).map(String::as_str),
            Some("implemented"),
            "{op}.{member}"
        );
        let src = sources(op);
        let field = format!("pub {}:", snake(member));
        // A refused request member is still read (so that it can be refused).
        let must_be_a_field = handled || (refused && dir == "request");
        if must_be_a_field && !src.contains(&field) {
            wrong.push(format!("{op}.{member} ({dir}, {status}): no `{field}`"));
        }
        if refused && dir == "response" && src.contains(&field) {
            wrong.push(format!(
                "{op}.{member} is a response field but listed as {status}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn snake_case_names_match_the_sources() {
    assert_eq!(snake("KeyId"), "key_id");
    assert_eq!(snake("CiphertextBlob"), "ciphertext_blob");
    assert_eq!(
        snake("GenerateDataKeyPairWithoutPlaintext"),
        "generate_data_key_pair_without_plaintext"
    );
    assert_eq!(snake("ReEncrypt"), "re_encrypt");
    assert_eq!(snake("XksKeyId"), "xks_key_id");
    assert_eq!(
        snake("BypassPolicyLockoutSafetyCheck"),
        "bypass_policy_lockout_safety_check"
    );
}
