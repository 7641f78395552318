//! The audit point: one record per request, success or failure.
//!
//! The pipeline builds one [`AuditRecord`] per request and hands it to the configured
//! [`AuditSink`]. Records carry identifiers, algorithms and encryption contexts, never
//! plaintexts, data keys, signatures' inputs, MACs or key material.

use crate::caller::Caller;

/// What happened in one request.
#[derive(Debug)]
pub struct AuditRecord<'a> {
    /// The request's members as CloudTrail logs them (camelCase; secrets and blobs
    /// removed); `None` when the body was not a JSON object.
    pub request_parameters: Option<serde_json::Value>,
    /// For successful mutations, the response's members logged the same way; `None`
    /// otherwise (CloudTrail logs `null` for cryptographic and read-only calls).
    pub response_elements: Option<serde_json::Value>,
    /// CloudTrail's `additionalEventData`: what the record says beyond the request
    /// (e.g. how many refused requests an aggregated record stands for).
    pub additional_event_data: Option<serde_json::Value>,
    /// The KeyMaterialId of the material a cryptographic operation used, logged as
    /// `additionalEventData.keyMaterialId` (written straight into the record, no map).
    pub key_material_id: Option<String>,
    /// CloudTrail's `readOnly`: the request changed nothing.
    pub read_only: bool,
    /// Something the service did by itself (a scheduled deletion, an automatic rotation,
    /// an expiry): CloudTrail's `AwsServiceEvent`, invoked by "AWS Internal".
    pub service_event: bool,
    /// The operation (`Encrypt`, `CreateKey`, …).
    pub event_name: &'a str,
    /// Who called.
    pub caller: &'a Caller,
    /// ARNs of the keys the request touched.
    pub resources: &'a [String],
    /// The error's wire name, when it failed.
    pub error_code: Option<&'a str>,
    /// The error's message, when it failed.
    pub error_message: Option<String>,
    /// When, in ms since the epoch.
    pub event_time_ms: i64,
    /// The bytes [`AuditSink::admit`] reserved for this record; 0 when none were.
    pub admitted_bytes: usize,
    /// CloudTrail's `eventID` when the caller chose it (GetKeyLastUsage reports it);
    /// `None`: the sink makes one.
    pub event_id: Option<&'a str>,
}

/// What a cryptographic operation adds to its record beyond the body, as CloudTrail's
/// Encrypt / Decrypt records have it: the algorithm used (logged as
/// `requestParameters.encryptionAlgorithm` when the request gave none) and the key
/// material used (`additionalEventData.keyMaterialId`). Set by the operation from what
/// it already knows, so the body is not read again.
#[derive(Debug, Default)]
pub struct CryptoDetails {
    /// The encryption algorithm the operation used.
    pub encryption_algorithm: Option<&'static str>,
    /// The KeyMaterialId of the material the operation used.
    pub key_material_id: Option<String>,
}

impl CryptoDetails {
    /// Adds the algorithm to `request_parameters` (when the request named none) and
    /// returns the material id to log as `additionalEventData.keyMaterialId`.
    pub fn apply(self, request_parameters: &mut Option<serde_json::Value>) -> Option<String> {
        if let (Some(alg), Some(serde_json::Value::Object(params))) =
            (self.encryption_algorithm, request_parameters.as_mut())
        {
            params
                .entry("encryptionAlgorithm")
                .or_insert_with(|| serde_json::Value::String(alg.into()));
        }
        self.key_material_id
    }
}

/// Why a record could not be kept.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuditError(pub String);

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    /// Called before a request runs: reserves room for a record of at most `bytes`, or
    /// refuses when no record could be kept now (the log cannot be written). A refused
    /// request must not run. Must be cheap: it is on every request's path.
    fn admit(&self, bytes: usize) -> Result<(), AuditError> {
        let _ = bytes;
        Ok(())
    }

    /// Records one request. For a mutation (`!record.read_only`) the record must be
    /// durable when this returns `Ok`; other records may be written with group commit.
    /// An error fails the request.
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError>;

    /// Whether records can be kept now (`GET /health` answers 503 otherwise). Sinks
    /// that cannot fail short of a failed `record` keep this default.
    fn health(&self) -> Result<(), AuditError> {
        Ok(())
    }

    /// Counters for `/metrics`; sinks without a queue keep the default (zeros).
    fn stats(&self) -> AuditStats {
        AuditStats::default()
    }
}

/// What a sink reports for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AuditStats {
    /// Records handed to the sink and not yet durable.
    pub queued: u64,
    /// fsyncs of record batches so far.
    pub fsyncs: u64,
    /// Seconds those fsyncs took in all.
    pub fsync_seconds: f64,
}

/// An upper bound of the size of the record of a request with a `body_len`-byte body:
/// the request parameters are at most the body re-serialized, an error message quotes
/// at most the body, and the rest (identity, response elements of a mutation) fits in
/// 4 KiB besides the caller's user agent and ARN.
pub fn record_size_bound(body_len: usize, caller: &Caller) -> usize {
    4 * 1024 + body_len.saturating_mul(2) + caller.user_agent.len() + caller.principal_arn.len()
}

/// Members never written to an audit record: every blob of the API (plaintexts,
/// ciphertexts, messages, signatures, MACs, keys, tokens) and secret strings.
const NEVER_LOGGED: &[&str] = &[
    "Plaintext",
    "CiphertextBlob",
    "Message",
    "Signature",
    "Mac",
    "PublicKey",
    "PrivateKeyPlaintext",
    "PrivateKeyCiphertextBlob",
    "SharedSecret",
    "SharedSecretCiphertextBlob",
    "CiphertextForRecipient",
    "ImportToken",
    "EncryptedKeyMaterial",
    "AttestationDocument",
    "GrantTokens",
    "GrantToken",
    "KeyStorePassword",
    "XksProxyAuthenticationCredential",
    "RawSecretAccessKey",
    "SecretAccessKey",
    "Share",
    "Shares",
    // The XKS proxy API's blobs (its members are camelCase on the wire).
    "plaintext",
    "ciphertext",
    "ciphertextMetadata",
    "additionalAuthenticatedData",
    "initializationVector",
    "authenticationTag",
];

/// The loggable form of a JSON request or response body: the members at `unknown`
/// (paths of member names and array indexes the operation does not have) left out,
/// members renamed to camelCase (`KeyId` → `keyId`) and [`NEVER_LOGGED`] members
/// removed, at every depth. Built in one pass over the body: left-out members are
/// skipped unparsed (a 4 KiB plaintext is never copied).
pub fn loggable_parameters(body: &[u8], unknown: &[Vec<String>]) -> Option<serde_json::Value> {
    use serde::de::DeserializeSeed;
    let paths: Vec<&[String]> = unknown.iter().map(Vec::as_slice).collect();
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Scrub { unknown: &paths }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    value.is_object().then_some(value)
}

/// Reads one JSON value the way [`loggable_parameters`] logs it; `unknown` are the
/// remaining segments of the left-out paths that lead into this value.
struct Scrub<'p, 'q> {
    unknown: &'p [&'q [String]],
}

impl Scrub<'_, '_> {
    /// The left-out paths under member (or index) `segment`, and whether the member
    /// itself is left out.
    fn under<'q>(paths: &[&'q [String]], segment: &str) -> (Vec<&'q [String]>, bool) {
        let mut rest = Vec::new();
        let mut whole = false;
        for p in paths {
            if let Some((first, tail)) = p.split_first() {
                if first == segment {
                    whole |= tail.is_empty();
                    rest.push(tail);
                }
            }
        }
        (rest, whole)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Scrub<'_, '_> {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Scrub<'_, '_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::IgnoredAny;
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let (rest, whole) = Scrub::under(self.unknown, &k);
            if whole || NEVER_LOGGED.contains(&k.as_ref()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let v = if k == "EncryptionContext" || k.ends_with("EncryptionContext") {
                // Logged as given (its keys are the caller's, not API members).
                map.next_value::<serde_json::Value>()?
            } else {
                map.next_value_seed(Scrub { unknown: &rest })?
            };
            out.insert(camel_case(&k), v);
        }
        Ok(serde_json::Value::Object(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut i = 0usize;
        loop {
            let index = if self.unknown.is_empty() {
                String::new()
            } else {
                i.to_string()
            };
            let (rest, _) = Scrub::under(self.unknown, &index);
            match seq.next_element_seed(Scrub { unknown: &rest })? {
                Some(v) => out.push(v),
                None => break,
            }
            i = i.saturating_add(1);
        }
        Ok(serde_json::Value::Array(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
}

fn camel_case(name: &str) -> String {
    // CloudTrail lowercases the first letter only: KeyId → keyId.
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Writes each record as a structured log event with target `tresor::audit`.
#[derive(Debug, Default)]
pub struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, r: &AuditRecord<'_>) -> Result<(), AuditError> {
        tracing::info!(
            target: "tresor::audit",
            event_name = r.event_name,
            request_id = %r.caller.request_id,
            principal = %r.caller.principal_arn,
            access_key_id = %r.caller.access_key_id,
            region = %r.caller.region,
            source_ip = %r.caller.source_ip,
            resources = ?r.resources,
            error_code = r.error_code.unwrap_or(""),
            event_time_ms = r.event_time_ms,
        );
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_removed_and_names_camel_cased() {
        let body = br#"{"KeyId":"k","Plaintext":"c2VjcmV0","EncryptionContext":{"Dept":"IT"},"Recipient":{"AttestationDocument":"eA=="},"GrantTokens":["t"]}"#;
        let v = loggable_parameters(body, &[]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"keyId":"k","encryptionContext":{"Dept":"IT"},"recipient":{}})
        );
        assert!(loggable_parameters(b"[1]", &[]).is_none());
        let unknown = vec![
            vec!["PlainText".to_string()],
            vec!["Tags".to_string(), "0".to_string(), "Extra".to_string()],
        ];
        let v = loggable_parameters(
            br#"{"KeyId":"k","PlainText":"c2VjcmV0","Tags":[{"TagKey":"a","TagValue":"b","Extra":1}]}"#,
            &unknown,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"keyId": "k", "tags": [{"tagKey": "a", "tagValue": "b"}]})
        );
        // Left-out paths inside arrays, secrets at depth, contexts logged as given.
        let unknown = vec![vec!["Items".to_string(), "1".to_string(), "X".to_string()]];
        let v = loggable_parameters(
            br#"{"Items":[{"X":1,"Y":2},{"X":3,"Y":4,"Plaintext":"cw=="}],"EncryptionContext":{"Plaintext":"ctx"},"DestinationEncryptionContext":{"A\"b":"c"},"N":1.5,"B":true,"Z":null}"#,
            &unknown,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"items": [{"x": 1, "y": 2}, {"y": 4}], "encryptionContext": {"Plaintext": "ctx"}, "destinationEncryptionContext": {"A\"b": "c"}, "n": 1.5, "b": true, "z": null})
        );
        assert!(loggable_parameters(br#"{"a":1} x"#, &[]).is_none());
        assert!(loggable_parameters(br#"{"a":"#, &[]).is_none());
    }

    #[test]
    fn crypto_details_default_the_algorithm_and_name_the_material() {
        let mut params = loggable_parameters(br#"{"KeyId":"k"}"#, &[]);
        let extra = CryptoDetails {
            encryption_algorithm: Some("SYMMETRIC_DEFAULT"),
            key_material_id: Some("ab".into()),
        }
        .apply(&mut params);
        let params = params.unwrap();
        assert_eq!(params["encryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        assert_eq!(extra.as_deref(), Some("ab"));
        // An algorithm the request gave is logged as given; no material, no data.
        let mut given = loggable_parameters(br#"{"EncryptionAlgorithm":"RSAES_OAEP_SHA_1"}"#, &[]);
        let extra = CryptoDetails {
            encryption_algorithm: Some("RSAES_OAEP_SHA_256"),
            key_material_id: None,
        }
        .apply(&mut given);
        assert_eq!(given.unwrap()["encryptionAlgorithm"], "RSAES_OAEP_SHA_1");
        assert!(extra.is_none());
    }
}
