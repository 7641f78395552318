//! One request as a CloudTrail event.
//!
//! The event is serialized with CloudTrail's member order. The audit file writer appends
//! Tresor's own `tresor` member (sequence number and previous record's hash) as the last
//! member of the object, see [`crate::files`].

use serde::Serialize;
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    event_version: &'static str,
    user_identity: UserIdentity<'a>,
    event_time: String,
    event_source: &'static str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    request_parameters: &'a Option<Value>,
    response_elements: &'a Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: &'a Option<Value>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: String,
    read_only: bool,
    resources: Vec<Resource<'a>>,
    event_type: &'static str,
    management_event: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    recipient_account_id: &'a str,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type", skip_serializing_if = "str::is_empty")]
    kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    principal_id: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    arn: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    account_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    access_key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'static str>,
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

/// CloudTrail's `eventTime` for `ms` since the epoch: `2026-11-28T12:00:00Z`.
pub fn event_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format_utc_seconds(t)
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

fn user_identity<'a>(r: &'a AuditRecord<'_>) -> UserIdentity<'a> {
    let c = r.caller;
    if r.service_event {
        return UserIdentity {
            kind: "",
            principal_id: String::new(),
            arn: "",
            account_id: &c.account,
            access_key_id: "",
            user_name: None,
            invoked_by: Some("AWS Internal"),
        };
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
    UserIdentity {
        kind,
        principal_id,
        arn,
        account_id: &c.account,
        access_key_id: &c.access_key_id,
        user_name,
        invoked_by: None,
    }
}

/// Tresor keeps no IAM unique ids (`AIDA…`): a stable stand-in derived from the ARN.
fn synthetic_user_id(arn: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, arn.as_bytes());
    let mut id = String::from("AIDA");
    id.extend(hex::encode_upper(d.as_ref()).chars().take(17));
    id
}

fn resources<'a>(arns: &'a [String]) -> Vec<Resource<'a>> {
    let mut out: Vec<Resource<'a>> = Vec::with_capacity(arns.len());
    for arn in arns {
        if out.iter().any(|r| r.arn == arn.as_str()) {
            continue;
        }
        out.push(Resource {
            account_id: arn.split(':').nth(4).unwrap_or_default(),
            kind: KEY_RESOURCE_TYPE,
            arn,
        });
    }
    out
}

/// The CloudTrail event for `r` as JSON (one object, no newline). `event_id` is the new
/// event's `eventID`.
pub fn to_json(r: &AuditRecord<'_>, event_id: &str) -> serde_json::Result<Vec<u8>> {
    let c = r.caller;
    let event = Event {
        event_version: EVENT_VERSION,
        user_identity: user_identity(r),
        event_time: event_time(r.event_time_ms),
        event_source: event_source(r.event_name),
        event_name: r.event_name,
        aws_region: &c.region,
        source_ip_address: &c.source_ip,
        user_agent: &c.user_agent,
        error_code: r.error_code,
        error_message: r
            .error_message
            .as_ref()
            .map(|m| m.chars().take(MAX_ERROR_MESSAGE).collect()),
        request_parameters: &r.request_parameters,
        response_elements: &r.response_elements,
        additional_event_data: &r.additional_event_data,
        request_id: &c.request_id,
        event_id: event_id.to_string(),
        read_only: r.read_only,
        resources: resources(r.resources),
        event_type: if r.service_event {
            "AwsServiceEvent"
        } else {
            "AwsApiCall"
        },
        management_event: true,
        recipient_account_id: &c.account,
        event_category: "Management",
    };
    serde_json::to_vec(&event)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
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

    #[test]
    fn cloudtrail_shape() {
        let c = caller();
        let arns = vec![
            "arn:aws:kms:us-east-1:111122223333:key/k1".to_string(),
            "arn:aws:kms:us-east-1:111122223333:key/k1".to_string(),
        ];
        let r = AuditRecord {
            request_parameters: Some(serde_json::json!({"keyId": "k1"})),
            response_elements: None,
            additional_event_data: None,
            read_only: true,
            service_event: false,
            event_name: "Encrypt",
            caller: &c,
            resources: &arns,
            error_code: None,
            error_message: None,
            event_time_ms: 1_795_867_200_123,
            admitted_bytes: 0,
            event_id: None,
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
}
