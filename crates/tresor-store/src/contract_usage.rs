//! Contract tests for GetKeyLastUsage's storage: each key's latest flushed use (a
//! monotonic upsert, raced by several threads as several nodes would) and the
//! deployment's tracking start.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::contract::key;
use crate::*;

fn usage(key_id: &str, time_ms: i64, operation: &str) -> KeyUsageRecord {
    KeyUsageRecord {
        key_id: key_id.into(),
        operation: operation.into(),
        time_ms,
        event_id: format!("event-{time_ms}-{operation}"),
        request_id: format!("request-{time_ms}-{operation}"),
    }
}

pub(crate) fn key_usage_keeps_the_latest_use_of_each_key(s: &dyn Store) {
    s.apply(vec![
        Write::InsertKey(key("k1")),
        Write::InsertKey(key("k2")),
    ])
    .unwrap();
    assert_eq!(s.key_usage("k1").unwrap(), None);
    s.apply(vec![Write::PutKeyUsage(usage("k1", 10, "Encrypt"))])
        .unwrap();
    assert_eq!(s.key_usage("k1").unwrap(), Some(usage("k1", 10, "Encrypt")));
    // An earlier use, or another at the same time, leaves the stored one alone.
    s.apply(vec![
        Write::PutKeyUsage(usage("k1", 5, "Decrypt")),
        Write::PutKeyUsage(usage("k1", 10, "Sign")),
    ])
    .unwrap();
    assert_eq!(s.key_usage("k1").unwrap(), Some(usage("k1", 10, "Encrypt")));
    // A later one replaces every member.
    s.apply(vec![Write::PutKeyUsage(usage("k1", 20, "GenerateMac"))])
        .unwrap();
    assert_eq!(
        s.key_usage("k1").unwrap(),
        Some(usage("k1", 20, "GenerateMac"))
    );
    assert_eq!(s.key_usage("k2").unwrap(), None, "per key");
    // A key that is gone is skipped without failing the batch.
    s.apply(vec![
        Write::PutKeyUsage(usage("gone", 30, "Encrypt")),
        Write::PutKeyUsage(usage("k2", 30, "Verify")),
    ])
    .unwrap();
    assert_eq!(s.key_usage("gone").unwrap(), None);
    assert_eq!(s.key_usage("k2").unwrap(), Some(usage("k2", 30, "Verify")));
    // Deleting a key deletes its use.
    s.apply(vec![Write::DeleteKey {
        key_id: "k1".into(),
    }])
    .unwrap();
    assert_eq!(s.key_usage("k1").unwrap(), None);
    s.apply(vec![Write::InsertKey(key("k1"))]).unwrap();
    assert_eq!(s.key_usage("k1").unwrap(), None, "a new key starts afresh");
}

pub(crate) fn racing_usage_flushes_keep_the_latest(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("k"))]).unwrap();
    // Eight writers (nodes) flush interleaved times, each in its own order.
    std::thread::scope(|scope| {
        for node in 0..8i64 {
            scope.spawn(move || {
                for round in 0..10i64 {
                    let t = if node % 2 == 0 { round } else { 9 - round } * 8 + node;
                    s.apply(vec![Write::PutKeyUsage(usage("k", t, "Encrypt"))])
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(s.key_usage("k").unwrap(), Some(usage("k", 79, "Encrypt")));
}

pub(crate) fn usage_tracking_keeps_the_earliest_start(s: &dyn Store) {
    assert_eq!(s.usage_tracking_start().unwrap(), None);
    let start = |t: i64| {
        s.apply(vec![Write::StartUsageTracking { started_ms: t }])
            .unwrap()
    };
    start(100);
    assert_eq!(s.usage_tracking_start().unwrap(), Some(100));
    start(200);
    assert_eq!(s.usage_tracking_start().unwrap(), Some(100));
    start(50);
    assert_eq!(s.usage_tracking_start().unwrap(), Some(50));
}
