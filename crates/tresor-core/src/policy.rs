//! Key policies and identity policies as the core uses them: parsing into
//! `tresor_policy::Policy`, the AWS default key policy, and the condition keys of a
//! request.

use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};
use crate::wire::EncryptionContext;
use serde_json::Value;
use tresor_policy::{ConditionValues, Policy, PolicyError};

pub use tresor_policy::Decision;

/// The service's key policy size limit (the model allows more).
pub const MAX_KEY_POLICY_BYTES: usize = 32 * 1024;

fn malformed(e: PolicyError) -> KmsError {
    let PolicyError::Malformed(m) = e;
    KmsError::MalformedPolicyDocument(m)
}

fn policy_chars_ok(p: &str) -> bool {
    p.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
}

/// Parses and checks a key policy (size, characters, grammar).
pub fn parse_key_policy(doc: &str) -> KmsResult<Policy> {
    if doc.len() > MAX_KEY_POLICY_BYTES {
        return Err(KmsError::LimitExceeded(format!(
            "The key policy is {} bytes; the maximum is {MAX_KEY_POLICY_BYTES} bytes.",
            doc.len()
        )));
    }
    if !policy_chars_ok(doc) {
        return Err(KmsError::MalformedPolicyDocument(
            "The key policy contains characters outside TAB, LF, CR and U+0020 to U+00FF.".into(),
        ));
    }
    Policy::parse_key_policy(doc).map_err(malformed)
}

/// Parses and checks an identity policy.
pub fn parse_identity_policy(doc: &str) -> KmsResult<Policy> {
    Policy::parse_identity_policy(doc).map_err(malformed)
}

/// AWS's default key policy: the account root may do everything, which delegates the
/// decision to the account's identity policies.
pub fn default_key_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// What a request says that policies may test: its condition keys, and its encryption
/// context as given (for grant constraints).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// Condition keys derived from the caller and the request body.
    pub conditions: ConditionValues,
    /// The request's encryption context(s), merged.
    pub encryption_context: EncryptionContext,
    /// The request's grant tokens.
    pub grant_tokens: Vec<String>,
}

fn push_context(facts: &mut RequestFacts, ctx: &serde_json::Map<String, Value>) {
    for (k, v) in ctx {
        if let Some(v) = v.as_str() {
            facts
                .conditions
                .push(&format!("kms:EncryptionContext:{k}"), v);
            facts
                .conditions
                .push("kms:EncryptionContextKeys", k.as_str());
            facts.encryption_context.insert(k.clone(), v.to_string());
        }
    }
}

/// The facts of one request, worked out only if some policy or grant needs them.
pub struct LazyFacts<'a> {
    caller: &'a Caller,
    now_ms: i64,
    body: &'a [u8],
    cell: std::cell::OnceCell<RequestFacts>,
}

impl<'a> LazyFacts<'a> {
    /// Facts of `body` sent by `caller` at `now_ms`, not computed yet.
    pub fn new(caller: &'a Caller, now_ms: i64, body: &'a [u8]) -> Self {
        Self {
            caller,
            now_ms,
            body,
            cell: std::cell::OnceCell::new(),
        }
    }

    /// The facts (computed on first use).
    pub fn get(&self) -> &RequestFacts {
        self.cell
            .get_or_init(|| request_facts(self.caller, self.now_ms, self.body))
    }

    /// True when the body may carry grant tokens (a cheap scan before any parsing).
    pub fn may_have_grant_tokens(&self) -> bool {
        self.body
            .windows(b"GrantTokens".len())
            .any(|w| w == b"GrantTokens")
    }
}

/// True when a policy document has conditions (so evaluating it needs the request facts).
pub fn has_conditions(doc: &str) -> bool {
    doc.contains("Condition")
}

/// Builds the facts of one request from its caller, the time and its JSON body.
pub fn request_facts(caller: &Caller, now_ms: i64, body: &[u8]) -> RequestFacts {
    let mut facts = RequestFacts::default();
    let c = &mut facts.conditions;
    c.insert("kms:CallerAccount", [caller.account.as_str()]);
    c.insert("aws:PrincipalArn", [caller.principal_arn.as_str()]);
    c.insert("aws:PrincipalAccount", [caller.account.as_str()]);
    c.insert("aws:SourceIp", [caller.source_ip.as_str()]);
    c.insert("aws:RequestedRegion", [caller.region.as_str()]);
    c.insert(
        "aws:PrincipalType",
        [if caller.principal_arn.ends_with(":root") {
            "Account"
        } else {
            "User"
        }],
    );
    c.insert("aws:SecureTransport", ["false"]);
    c.insert("kms:GrantIsForAWSResource", ["false"]);
    let now = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let iso = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    c.insert("aws:CurrentTime", [iso]);
    c.insert("aws:EpochTime", [now_ms.div_euclid(1000).to_string()]);
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return facts;
    };
    for field in [
        "EncryptionContext",
        "SourceEncryptionContext",
        "DestinationEncryptionContext",
    ] {
        if let Some(Value::Object(ctx)) = body.get(field) {
            push_context(&mut facts, ctx);
        }
    }
    let c = &mut facts.conditions;
    let simple = [
        ("EncryptionAlgorithm", "kms:EncryptionAlgorithm"),
        ("SourceEncryptionAlgorithm", "kms:EncryptionAlgorithm"),
        ("DestinationEncryptionAlgorithm", "kms:EncryptionAlgorithm"),
        ("SigningAlgorithm", "kms:SigningAlgorithm"),
        ("MacAlgorithm", "kms:MacAlgorithm"),
        ("MessageType", "kms:MessageType"),
        ("KeyAgreementAlgorithm", "kms:KeyAgreementAlgorithm"),
        ("KeyPairSpec", "kms:DataKeyPairSpec"),
        ("GranteePrincipal", "kms:GranteePrincipal"),
        ("RetiringPrincipal", "kms:RetiringPrincipal"),
        ("WrappingAlgorithm", "kms:WrappingAlgorithm"),
        ("WrappingKeySpec", "kms:WrappingKeySpec"),
        ("ExpirationModel", "kms:ExpirationModel"),
        ("KeySpec", "kms:KeySpec"),
        ("KeyUsage", "kms:KeyUsage"),
        ("Origin", "kms:KeyOrigin"),
        ("RotationPeriodInDays", "kms:RotationPeriodInDays"),
    ];
    for (field, key) in simple {
        match body.get(field) {
            Some(Value::String(s)) => c.push(key, s.as_str()),
            Some(Value::Number(n)) => c.push(key, n.to_string()),
            _ => {}
        }
    }
    if let Some(Value::Bool(b)) = body.get("BypassPolicyLockoutSafetyCheck") {
        c.insert("kms:BypassPolicyLockoutSafetyCheck", [b.to_string()]);
    }
    if let Some(Value::Array(tokens)) = body.get("GrantTokens") {
        facts.grant_tokens = tokens
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    let c = &mut facts.conditions;
    if let Some(Value::Array(ops)) = body.get("Operations") {
        for op in ops.iter().filter_map(Value::as_str) {
            c.push("kms:GrantOperations", op);
        }
    }
    if let Some(Value::Array(tags)) = body.get("Tags") {
        for t in tags {
            if let (Some(k), Some(v)) = (
                t.get("TagKey").and_then(Value::as_str),
                t.get("TagValue").and_then(Value::as_str),
            ) {
                c.push(&format!("aws:RequestTag/{k}"), v);
                c.push("aws:TagKeys", k);
            }
        }
    }
    if let Some(Value::Array(keys)) = body.get("TagKeys") {
        for k in keys.iter().filter_map(Value::as_str) {
            c.push("aws:TagKeys", k);
        }
    }
    for field in ["KeyId", "SourceKeyId", "DestinationKeyId", "TargetKeyId"] {
        if let Some(Value::String(id)) = body.get(field) {
            if let Some(alias) = id.find("alias/").and_then(|pos| id.get(pos..)) {
                c.push("kms:RequestAlias", alias);
            }
        }
    }
    facts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_parses_and_facts_carry_the_context() {
        parse_key_policy(&default_key_policy("111122223333")).unwrap();
        let caller = Caller {
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
            access_key_id: "AKIA".into(),
            operator: false,
            region: "us-east-1".into(),
            source_ip: "127.0.0.1".into(),
            user_agent: String::new(),
            request_id: String::new(),
        };
        let f = request_facts(
            &caller,
            0,
            br#"{"KeyId":"alias/app","EncryptionContext":{"Dept":"IT"},"Operations":["Encrypt","Decrypt"]}"#,
        );
        assert_eq!(
            f.conditions.get("kms:EncryptionContext:Dept").unwrap(),
            ["IT"]
        );
        assert_eq!(
            f.conditions.get("kms:encryptioncontextkeys").unwrap(),
            ["Dept"]
        );
        assert_eq!(
            f.conditions.get("kms:GrantOperations").unwrap(),
            ["Encrypt", "Decrypt"]
        );
        assert_eq!(f.conditions.get("kms:RequestAlias").unwrap(), ["alias/app"]);
        assert_eq!(
            f.encryption_context.get("Dept").map(String::as_str),
            Some("IT")
        );
        assert!(matches!(
            parse_key_policy("{}"),
            Err(KmsError::MalformedPolicyDocument(_))
        ));
        assert!(matches!(
            parse_key_policy(&"x".repeat(40_000)),
            Err(KmsError::LimitExceeded(_))
        ));
    }
}
