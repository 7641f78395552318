//! `policy_parse`: arbitrary bytes as a key or identity policy, evaluated against a
//! request with arbitrary condition values.
//!
//! Input: `policy 0x00 request`, where `request` is a JSON object
//! `{"principal":…, "account":…, "action":…, "resource":…, "keyAccount":…,
//! "conditions":{KEY:[VALUE…]}}`; missing members take the defaults below.

use serde_json::Value;
use tresor_policy::{authorize, ConditionValues, Policy, RequestContext};

/// Runs one input; never panics.
pub fn run(data: &[u8]) {
    let (doc, request) = crate::split_at_byte(data, 0);
    let doc = String::from_utf8_lossy(doc);
    let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    let text = |name: &str, default: &'static str| -> String {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let principal = text("principal", "arn:aws:iam::111122223333:user/alice");
    let account = text("account", "111122223333");
    let action = text("action", "kms:Encrypt");
    let resource = text(
        "resource",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    let key_account = text("keyAccount", "111122223333");
    let mut conditions = ConditionValues::new();
    if let Some(map) = request.get("conditions").and_then(Value::as_object) {
        for (k, v) in map {
            let values: Vec<String> = match v {
                Value::Array(items) => items.iter().map(scalar).collect(),
                other => vec![scalar(other)],
            };
            conditions.insert(k, values);
        }
    }
    let ctx = RequestContext {
        principal_arn: &principal,
        principal_account: &account,
        action: &action,
        resource: &resource,
        conditions: &conditions,
    };
    let parsed = [
        Policy::parse(&doc),
        Policy::parse_key_policy(&doc),
        Policy::parse_identity_policy(&doc),
    ];
    // The service's own limits and checks on top of the parser.
    let _ = tresor_core::policy::parse_key_policy(&doc);
    let _ = tresor_core::policy::parse_identity_policy(&doc);
    let _ = tresor_core::policy::has_conditions(&doc);
    for policy in parsed.iter().flatten() {
        let _ = policy.evaluate_resource(&ctx);
        let _ = policy.evaluate_identity(&ctx);
        let _ = policy.allows_account_root(&account, &ctx);
        let _ = authorize(policy, std::slice::from_ref(policy), &key_account, &ctx);
        let _ = (policy.version(), policy.id(), policy.statement_count());
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
