//! The generated constraint table (src/validate/model.rs) against the vendored botocore
//! model: fails when the model changed and scripts/model/gen_constraints.py was not
//! re-run, when the table was edited by hand, or when an operation or member of the
//! model has no row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use tresor_core::validate::model::{ShapeRow, MODEL_SHA256, OPERATIONS, SHAPES};
use tresor_core::validate::shape::Str;

fn model_bytes() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tresor/tests/data/kms-model.json");
    std::fs::read(path).unwrap()
}

fn model() -> Value {
    serde_json::from_slice(&model_bytes()).unwrap()
}

fn num(shape: &Value, k: &str) -> Option<i64> {
    shape.get(k).and_then(Value::as_i64)
}

#[test]
fn the_table_was_generated_from_the_vendored_model() {
    let digest = hex::encode(tresor_crypto::sha256(&[&model_bytes()]));
    assert_eq!(
        digest, MODEL_SHA256,
        "kms-model.json changed: run scripts/model/gen_constraints.py"
    );
}

#[test]
fn every_operation_and_request_member_has_its_row_in_model_order() {
    let model = model();
    let ops = model["operations"].as_object().unwrap();
    let listed: BTreeSet<&str> = OPERATIONS.iter().map(|(op, _)| *op).collect();
    let in_model: BTreeSet<&str> = ops.keys().map(String::as_str).collect();
    assert_eq!(listed, in_model, "operations of the table and the model");
    for (op, rows) in OPERATIONS {
        let Some(input) = ops[*op]["input"]["shape"].as_str() else {
            assert!(rows.is_empty(), "{op} has no input");
            continue;
        };
        let shape = &model["shapes"][input];
        let order: Vec<&str> = shape["memberOrder"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        let required: BTreeSet<&str> = shape["required"]
            .as_array()
            .map(|r| r.iter().map(|m| m.as_str().unwrap()).collect())
            .unwrap_or_default();
        let names: Vec<&str> = rows.iter().map(|(m, _, _)| *m).collect();
        assert_eq!(names, order, "{op}: members in the model's order");
        for (member, target, req) in rows.iter() {
            assert_eq!(
                shape["members"][*member]["shape"].as_str(),
                Some(*target),
                "{op}.{member}"
            );
            assert_eq!(*req, required.contains(member), "{op}.{member} required");
        }
    }
}

fn assert_str(name: &str, shape: &Value, s: &Str) {
    assert_eq!(s.min.map(|n| n as i64), num(shape, "min"), "{name} min");
    assert_eq!(s.max.map(|n| n as i64), num(shape, "max"), "{name} max");
    assert_eq!(
        s.pattern.map(|p| p.source),
        shape.get("pattern").and_then(Value::as_str),
        "{name} pattern"
    );
    if let Some(p) = s.pattern {
        assert!(p.regex().is_some(), "{name}: {} must compile", p.rust);
    }
    let values: Vec<&str> = shape
        .get("enum")
        .and_then(Value::as_array)
        .map(|e| e.iter().map(|v| v.as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(s.values, values.as_slice(), "{name} enum");
    assert_eq!(
        s.sensitive,
        shape
            .get("sensitive")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        "{name} sensitive"
    );
}

#[test]
fn every_constraint_of_the_table_is_the_models() {
    let model = model();
    let mut seen = BTreeSet::new();
    for row in SHAPES {
        let (name, shape) = match row {
            ShapeRow::Str(n, s) => {
                assert_str(n, &model["shapes"][*n], s);
                (*n, &model["shapes"][*n])
            }
            ShapeRow::Len(n, l) => {
                let shape = &model["shapes"][*n];
                assert_eq!(l.min.map(|n| n as i64), num(shape, "min"), "{n} min");
                assert_eq!(l.max.map(|n| n as i64), num(shape, "max"), "{n} max");
                (*n, shape)
            }
            ShapeRow::Int(n, i) => {
                let shape = &model["shapes"][*n];
                assert_eq!(i.min, num(shape, "min"), "{n} min");
                assert_eq!(i.max, num(shape, "max"), "{n} max");
                (*n, shape)
            }
        };
        assert!(shape.is_object(), "{name} is not in the model");
        seen.insert(name);
    }
    // Every string, blob, integer, list and map shape a request reaches has a row.
    let mut todo: Vec<String> = Vec::new();
    for op in model["operations"].as_object().unwrap().values() {
        if let Some(input) = op["input"]["shape"].as_str() {
            todo.push(input.to_string());
        }
    }
    let mut visited = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !visited.insert(name.clone()) {
            continue;
        }
        let shape = &model["shapes"][&name];
        match shape["type"].as_str().unwrap() {
            "structure" => {
                for m in shape["members"].as_object().unwrap().values() {
                    todo.push(m["shape"].as_str().unwrap().to_string());
                }
            }
            "list" => {
                todo.push(shape["member"]["shape"].as_str().unwrap().to_string());
                assert!(seen.contains(name.as_str()), "{name} has no row");
            }
            "map" => {
                todo.push(shape["key"]["shape"].as_str().unwrap().to_string());
                todo.push(shape["value"]["shape"].as_str().unwrap().to_string());
                assert!(seen.contains(name.as_str()), "{name} has no row");
            }
            "string" | "blob" | "integer" | "long" => {
                assert!(seen.contains(name.as_str()), "{name} has no row");
            }
            _ => {}
        }
    }
}
