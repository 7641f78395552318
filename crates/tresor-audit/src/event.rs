//! One request as a CloudTrail event.
//!
//! The event is serialized with CloudTrail's member order. The audit file writer appends
//! Tresor's own `tresor` member (sequence number and previous record's hash) as the last
//! member of the object, see [`crate::files`].

use serde_json::Value;
use tresor_core::audit::AuditRecord;

/// CloudTrail's `eventVersion`.
pub const EVENT_VERSION: &str = "1.11";
/// CloudTrail's `eventSource` for KMS.
pub const EVENT_SOURCE: &str = "kms.amazonaws.com";

/// The `eventSource` of an event: STS for GetCallerIdentity, KMS for everything else.
fn event_source(event_name: &str) -> &'static str {
    if event_name == "GetCallerIdentity" {
        "sts.amazonaws.com"
    } else {
        EVENT_SOURCE
    }
}
/// The `type` of every entry of `resources`.
pub const KEY_RESOURCE_TYPE: &str = "AWS::KMS::Key";
/// Longest `errorMessage` kept (characters).
const MAX_ERROR_MESSAGE: usize = 2048;

/// CloudTrail's `eventTime` for `ms` since the epoch: `2026-11-28T12:00:00Z`.
pub fn event_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format_utc_seconds(t)
}

/// Appends `"eventTime":"…"` for `ms`. Records arrive many to the second, so each
/// thread keeps the last second it formatted and copies it.
fn event_time_member(out: &mut Vec<u8>, ms: i64) {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let second = ms.div_euclid(1000);
    LAST.with_borrow_mut(|(at, text)| {
        if *at != second {
            *text = event_time(ms);
            *at = second;
        }
        str_member(out, "eventTime", text);
    });
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_utc_seconds(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Appends `"name":` to `out` (after a comma unless it opens the object).
fn key(out: &mut Vec<u8>, name: &str) {
    if out.last().is_some_and(|b| *b != b'{') {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `value` as a JSON string.
fn string(out: &mut Vec<u8>, value: &str) {
    if is_plain(value.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
    }
}

/// A byte a JSON string cannot hold as it is (or that the record escapes anyway).
fn is_special(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// No byte of `bytes` [`is_special`]. Checked eight bytes at a time (every record
/// runs this over each of its ~20 strings): `has_less(x, n)` is non-zero exactly when
/// some byte of `x` is below `n` (for `n` ≤ 128), so a byte equal to `c` is a zero
/// byte, one below 1, in `x ^ cccccccc`.
fn is_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let has = |x: u64, c: u8| has_less(x ^ (ONES * u64::from(c)), 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if has_less(x, 0x20) | has(x, b'"') | has(x, b'\\') | has(x, 0x7f) != 0 {
            return false;
        }
    }
    !chunks.remainder().iter().any(|&b| is_special(b))
}

fn str_member(out: &mut Vec<u8>, name: &str, value: &str) {
    key(out, name);
    string(out, value);
}

/// Pre-serialized JSON text, or `null`.
fn logged(out: &mut Vec<u8>, value: Option<&tresor_core::audit::LoggedJson>) {
    match value {
        Some(p) => out.extend_from_slice(p.as_str().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

fn value_member(out: &mut Vec<u8>, name: &str, value: Option<&Value>) -> serde_json::Result<()> {
    key(out, name);
    match value {
        Some(v) => serde_json::to_writer(&mut *out, v),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

fn user_identity(out: &mut Vec<u8>, r: &AuditRecord<'_>) {
    let c = r.caller;
    key(out, "userIdentity");
    out.push(b'{');
    if r.service_event {
        if !c.account.is_empty() {
            str_member(out, "accountId", &c.account);
        }
        str_member(out, "invokedBy", "AWS Internal");
        out.push(b'}');
        return;
    }
    let arn = c.principal_arn.as_str();
    let (kind, principal_id, user_name) = if arn.is_empty() {
        ("Unknown", String::new(), None)
    } else if arn.ends_with(":root") {
        ("Root", c.account.clone(), None)
    } else if let Some((_, name)) = arn.split_once(":user/") {
        let name = name.rsplit('/').next().unwrap_or(name);
        ("IAMUser", synthetic_user_id(arn), Some(name))
    } else if arn.contains(":assumed-role/") {
        ("AssumedRole", synthetic_user_id(arn), None)
    } else {
        ("Unknown", synthetic_user_id(arn), None)
    };
    str_member(out, "type", kind);
    for (name, value) in [
        ("principalId", principal_id.as_str()),
        ("arn", arn),
        ("accountId", c.account.as_str()),
        ("accessKeyId", c.access_key_id.as_str()),
    ] {
        if !value.is_empty() {
            str_member(out, name, value);
        }
    }
    if let Some(name) = user_name {
        str_member(out, "userName", name);
    }
    out.push(b'}');
}

/// Tresor keeps no IAM unique ids (`AIDA…`): a stable stand-in derived from the ARN.
fn synthetic_user_id(arn: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, arn.as_bytes());
    let mut id = String::from("AIDA");
    id.extend(hex::encode_upper(d.as_ref()).chars().take(17));
    id
}

fn resources(out: &mut Vec<u8>, arns: &[String]) {
    key(out, "resources");
    out.push(b'[');
    for (i, arn) in arns.iter().enumerate() {
        if arns.get(..i).is_some_and(|seen| seen.contains(arn)) {
            continue;
        }
        if out.last() == Some(&b'}') {
            out.push(b',');
        }
        out.push(b'{');
        str_member(out, "accountId", arn.split(':').nth(4).unwrap_or_default());
        str_member(out, "type", KEY_RESOURCE_TYPE);
        str_member(out, "ARN", arn);
        out.push(b'}');
    }
    out.push(b']');
}

/// The CloudTrail event for `r` as JSON (one object, no newline), in CloudTrail's
/// member order, written straight into one buffer. `event_id` is the new event's
/// `eventID`.
pub fn to_json(r: &AuditRecord<'_>, event_id: &str) -> serde_json::Result<Vec<u8>> {
    let c = r.caller;
    // A cryptographic call's record is ~1.1 KiB with the `tresor` member the sink
    // appends: room for it up front, so the line is never copied to grow.
    let mut out = Vec::with_capacity(1536);
    out.push(b'{');
    str_member(&mut out, "eventVersion", EVENT_VERSION);
    user_identity(&mut out, r);
    event_time_member(&mut out, r.event_time_ms);
    str_member(&mut out, "eventSource", event_source(r.event_name));
    str_member(&mut out, "eventName", r.event_name);
    str_member(&mut out, "awsRegion", &c.region);
    str_member(&mut out, "sourceIPAddress", &c.source_ip);
    str_member(&mut out, "userAgent", &c.user_agent);
    if let Some(code) = r.error_code {
        str_member(&mut out, "errorCode", code);
    }
    if let Some(m) = &r.error_message {
        let end = m
            .char_indices()
            .nth(MAX_ERROR_MESSAGE)
            .map_or(m.len(), |(i, _)| i);
        str_member(&mut out, "errorMessage", m.get(..end).unwrap_or(m));
    }
    key(&mut out, "requestParameters");
    logged(&mut out, r.request_parameters.as_ref());
    key(&mut out, "responseElements");
    logged(&mut out, r.response_elements.as_ref());
    match (&r.additional_event_data, &r.key_material_id) {
        (None, None) => {}
        (None, Some(id)) => {
            key(&mut out, "additionalEventData");
            out.push(b'{');
            str_member(&mut out, "keyMaterialId", id);
            out.push(b'}');
        }
        (Some(extra), None) => value_member(&mut out, "additionalEventData", Some(extra))?,
        (Some(extra), Some(id)) => {
            let mut extra = extra.clone();
            if let Value::Object(m) = &mut extra {
                m.insert("keyMaterialId".into(), Value::String(id.clone()));
            }
            value_member(&mut out, "additionalEventData", Some(&extra))?;
        }
    }
    str_member(&mut out, "requestID", &c.request_id);
    str_member(&mut out, "eventID", event_id);
    key(&mut out, "readOnly");
    out.extend_from_slice(if r.read_only { b"true" } else { b"false" });
    resources(&mut out, r.resources);
    let event_type = if r.service_event {
        "AwsServiceEvent"
    } else {
        "AwsApiCall"
    };
    str_member(&mut out, "eventType", event_type);
    key(&mut out, "managementEvent");
    out.extend_from_slice(b"true");
    if !c.account.is_empty() {
        str_member(&mut out, "recipientAccountId", &c.account);
    }
    str_member(&mut out, "eventCategory", "Management");
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) mod tests {
    use super::*;
    use tresor_core::audit::LoggedJson;
    use tresor_core::Caller;

    pub(crate) fn caller() -> Caller {
        Caller {
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:root".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            region: "us-east-1".into(),
            operator: false,
            source_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            request_id: "req-1".into(),
            secure_transport: false,
        }
    }

    /// A successful read-only Encrypt record by `c` with no parameters or resources.
    pub(crate) fn read_record(c: &Caller) -> AuditRecord<'_> {
        AuditRecord {
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            key_material_id: None,
            read_only: true,
            service_event: false,
            event_name: "Encrypt",
            caller: c,
            resources: &[],
            error_code: None,
            error_message: None,
            event_time_ms: 0,
            admitted_bytes: 0,
            event_id: None,
        }
    }

    #[test]
    fn cloudtrail_shape() {
        let c = caller();
        let arns = vec![
            "arn:aws:kms:us-east-1:111122223333:key/k1".to_string(),
            "arn:aws:kms:us-east-1:111122223333:key/k1".to_string(),
        ];
        let r = AuditRecord {
            request_parameters: LoggedJson::from_value(&serde_json::json!({"keyId": "k1"})),
            resources: &arns,
            event_time_ms: 1_795_867_200_123,
            ..read_record(&c)
        };
        let v: Value = serde_json::from_slice(&to_json(&r, "e1").unwrap()).unwrap();
        assert_eq!(v["eventVersion"], "1.11");
        assert_eq!(v["eventTime"], "2026-11-28T12:00:00Z");
        assert_eq!(v["userIdentity"]["type"], "Root");
        assert_eq!(v["userIdentity"]["principalId"], "111122223333");
        assert_eq!(v["responseElements"], Value::Null);
        assert!(v.get("errorCode").is_none());
        assert_eq!(v["resources"].as_array().unwrap().len(), 1);
        assert_eq!(v["resources"][0]["type"], "AWS::KMS::Key");
        assert_eq!(v["resources"][0]["accountId"], "111122223333");
        assert_eq!(v["requestID"], "req-1");
        assert_eq!(v["sourceIPAddress"], "127.0.0.1");
    }

    #[test]
    fn plain_strings_are_told_apart_from_ones_to_escape() {
        // Every byte value at every position of a chunk and of the remainder.
        for len in [1usize, 7, 8, 9, 16, 23] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(is_plain(&v), !is_special(b), "{b:#x} at {at} of {len}");
                }
            }
        }
        // Random words of any bytes (a fixed LCG, so a failure repeats).
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let v: Vec<u8> = (0..17)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    // Mostly bytes around the special ones and above 0x7f.
                    [0x1f, 0x20, 0x21, b'"', b'\\', 0x7e, 0x7f, 0x80, 0xff, b'a']
                        [(seed >> 60) as usize % 10]
                })
                .collect();
            assert_eq!(is_plain(&v), !v.iter().any(|&b| is_special(b)), "{v:?}");
        }
        assert!(is_plain(b""));
        assert!(is_plain(
            "arn:aws:kms:us-east-1:111122223333:key/é".as_bytes()
        ));
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\n");
        assert_eq!(out, br#""a\"b\\c\n""#.to_vec());
    }

    #[test]
    fn each_record_has_its_own_second() {
        let c = caller();
        let time_of = |ms: i64| {
            let r = AuditRecord {
                event_time_ms: ms,
                ..read_record(&c)
            };
            let v: Value = serde_json::from_slice(&to_json(&r, "e").unwrap()).unwrap();
            v["eventTime"].as_str().unwrap().to_string()
        };
        assert_eq!(time_of(1_795_867_200_999), "2026-11-28T12:00:00Z");
        assert_eq!(time_of(1_795_867_201_000), "2026-11-28T12:00:01Z");
        assert_eq!(time_of(1_795_867_201_500), "2026-11-28T12:00:01Z");
        // A clock that steps back is followed too.
        assert_eq!(time_of(1_795_867_199_000), "2026-11-28T11:59:59Z");
        assert_eq!(time_of(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn users_service_events_errors_and_escapes() {
        let mut c = caller();
        c.principal_arn = "arn:aws:iam::111122223333:user/ops/alice".into();
        c.user_agent = "agent \"quoted\"\n\u{7}\\ é".into();
        let long = format!("bad \"{}\"", "x".repeat(3000));
        let arns = vec!["arn:aws:kms:us-east-1:111122223333:key/k1".to_string()];
        let mut r = AuditRecord {
            response_elements: tresor_core::audit::LoggedJson::from_value(
                &serde_json::json!({"keyMetadata": {"keyId": "k1"}}),
            ),
            additional_event_data: Some(serde_json::json!({"n": 1})),
            read_only: false,
            event_name: "CreateKey",
            resources: &arns,
            error_code: Some("ValidationException"),
            error_message: Some(long.clone()),
            ..read_record(&c)
        };
        let v: Value = serde_json::from_slice(&to_json(&r, "e2").unwrap()).unwrap();
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(v["userIdentity"]["userName"], "alice");
        assert!(v["userIdentity"]["principalId"]
            .as_str()
            .unwrap()
            .starts_with("AIDA"));
        assert_eq!(v["userAgent"], c.user_agent.as_str());
        let msg = v["errorMessage"].as_str().unwrap();
        assert_eq!(msg.chars().count(), MAX_ERROR_MESSAGE);
        assert!(long.starts_with(msg));
        assert_eq!(v["requestParameters"], Value::Null);
        assert_eq!(v["responseElements"]["keyMetadata"]["keyId"], "k1");
        assert_eq!(v["additionalEventData"]["n"], 1);
        assert_eq!(v["readOnly"], false);
        assert_eq!(v["eventTime"], "1970-01-01T00:00:00Z");
        let raw = String::from_utf8(to_json(&r, "e2").unwrap()).unwrap();
        assert!(raw.starts_with(r#"{"eventVersion":"1.11","userIdentity":{"type":"IAMUser""#));
        assert!(raw.ends_with(r#""eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}"#), "{raw}");
        r.service_event = true;
        r.error_code = None;
        r.error_message = None;
        let v: Value = serde_json::from_slice(&to_json(&r, "e3").unwrap()).unwrap();
        assert_eq!(
            v["userIdentity"],
            serde_json::json!({"accountId": "111122223333", "invokedBy": "AWS Internal"})
        );
        assert_eq!(v["eventType"], "AwsServiceEvent");
        assert!(v.get("errorCode").is_none() && v.get("errorMessage").is_none());
        let mut c2 = c.clone();
        c2.account = String::new();
        c2.principal_arn = String::new();
        let r = AuditRecord {
            service_event: false,
            caller: &c2,
            resources: &[],
            ..r
        };
        let v: Value = serde_json::from_slice(&to_json(&r, "e4").unwrap()).unwrap();
        assert_eq!(
            v["userIdentity"],
            serde_json::json!({"type": "Unknown", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"})
        );
        assert!(v.get("recipientAccountId").is_none());
        assert_eq!(v["resources"], serde_json::json!([]));
    }

    /// The material id goes into `additionalEventData` as CloudTrail logs it, alone or
    /// next to other data.
    #[test]
    fn key_material_id_is_logged_in_additional_event_data() {
        let c = caller();
        let mut r = AuditRecord {
            key_material_id: Some("ab12".into()),
            ..read_record(&c)
        };
        let v: Value = serde_json::from_slice(&to_json(&r, "e").unwrap()).unwrap();
        assert_eq!(
            v["additionalEventData"],
            serde_json::json!({"keyMaterialId": "ab12"})
        );
        r.additional_event_data = Some(serde_json::json!({"n": 2}));
        let v: Value = serde_json::from_slice(&to_json(&r, "e").unwrap()).unwrap();
        assert_eq!(
            v["additionalEventData"],
            serde_json::json!({"n": 2, "keyMaterialId": "ab12"})
        );
        r.key_material_id = None;
        r.additional_event_data = None;
        let v: Value = serde_json::from_slice(&to_json(&r, "e").unwrap()).unwrap();
        assert!(v.get("additionalEventData").is_none());
    }
}
