//! Key policies and identity policies as the core uses them: parsing into
//! `tresor_policy::Policy`, the AWS default key policy, and the condition keys of a
//! request.

use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};
use crate::wire::{EncryptionContext, Tag};
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
    // Written out rather than built as a `Value` (CreateKey makes one per key): the
    // same text `json!` would give, members in its (sorted) order.
    let principal = serde_json::Value::from(format!("arn:aws:iam::{account}:root"));
    format!(
        r#"{{"Id":"key-default-1","Statement":[{{"Action":"kms:*","Effect":"Allow","Principal":{{"AWS":{principal}}},"Resource":"*","Sid":"Enable IAM User Permissions"}}],"Version":"2012-10-17"}}"#
    )
}

/// What a request says that policies may test: its condition keys, and its encryption
/// context as given (for grant constraints).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// Condition keys derived from the caller and the request.
    pub conditions: ConditionValues,
    /// The encryption context of the request member that goes with the action.
    pub encryption_context: EncryptionContext,
}

/// The members of a typed request that policies and grants may test, for one
/// authorization. Each operation fills in only the members that belong to the action it
/// authorizes (ReEncrypt: the source context for `kms:ReEncryptFrom`, the destination
/// context for `kms:ReEncryptTo`), so a member the operation does not use never
/// influences a decision. `kms:RequestAlias` comes from the key id being authorized.
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct Facts<'r> {
    pub encryption_context: Option<&'r EncryptionContext>,
    pub encryption_algorithm: Option<&'r str>,
    pub signing_algorithm: Option<&'r str>,
    pub mac_algorithm: Option<&'r str>,
    pub message_type: Option<&'r str>,
    pub key_agreement_algorithm: Option<&'r str>,
    pub data_key_pair_spec: Option<&'r str>,
    pub grantee_principal: Option<&'r str>,
    pub retiring_principal: Option<&'r str>,
    pub grant_operations: &'r [String],
    pub wrapping_algorithm: Option<&'r str>,
    pub wrapping_key_spec: Option<&'r str>,
    pub expiration_model: Option<&'r str>,
    pub key_spec: Option<&'r str>,
    pub key_usage: Option<&'r str>,
    pub key_origin: Option<&'r str>,
    pub replica_region: Option<&'r str>,
    pub primary_region: Option<&'r str>,
    pub rotation_period_in_days: Option<i64>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: &'r [Tag],
    pub tag_keys: &'r [String],
}

impl<'r> Facts<'r> {
    /// No request members (the caller's facts still apply).
    pub const NONE: Facts<'static> = Facts {
        encryption_context: None,
        encryption_algorithm: None,
        signing_algorithm: None,
        mac_algorithm: None,
        message_type: None,
        key_agreement_algorithm: None,
        data_key_pair_spec: None,
        grantee_principal: None,
        retiring_principal: None,
        grant_operations: &[],
        wrapping_algorithm: None,
        wrapping_key_spec: None,
        expiration_model: None,
        key_spec: None,
        key_usage: None,
        key_origin: None,
        replica_region: None,
        primary_region: None,
        rotation_period_in_days: None,
        bypass_policy_lockout_safety_check: None,
        tags: &[],
        tag_keys: &[],
    };

    /// Facts with an encryption context.
    pub fn context(ctx: Option<&'r EncryptionContext>) -> Self {
        Facts {
            encryption_context: ctx,
            ..Facts::NONE
        }
    }

    /// Facts with an encryption context and an encryption algorithm.
    pub fn envelope(ctx: Option<&'r EncryptionContext>, algorithm: &'r Option<String>) -> Self {
        Facts {
            encryption_context: ctx,
            encryption_algorithm: algorithm.as_deref(),
            ..Facts::NONE
        }
    }
}

/// The facts of one authorization, worked out only if some policy or grant needs them.
pub struct LazyFacts<'a> {
    caller: &'a Caller,
    now_ms: i64,
    facts: Facts<'a>,
    key_id: Option<&'a str>,
    cell: std::cell::OnceCell<RequestFacts>,
}

impl<'a> LazyFacts<'a> {
    /// Facts of an authorization of `caller` at `now_ms`, with the request members
    /// `facts` and the key id `key_id` as the request named it; not computed yet.
    pub fn new(caller: &'a Caller, now_ms: i64, facts: Facts<'a>, key_id: Option<&'a str>) -> Self {
        Self {
            caller,
            now_ms,
            facts,
            key_id,
            cell: std::cell::OnceCell::new(),
        }
    }

    /// The facts (computed on first use).
    pub fn get(&self) -> &RequestFacts {
        self.cell
            .get_or_init(|| request_facts(self.caller, self.now_ms, &self.facts, self.key_id))
    }
}

/// True when a policy document has conditions (so evaluating it needs the request facts).
pub fn has_conditions(doc: &str) -> bool {
    doc.contains("Condition")
}

/// Builds the facts of one authorization from its caller, the time, the typed request's
/// members and the key id as the request gave it.
pub fn request_facts(
    caller: &Caller,
    now_ms: i64,
    facts: &Facts<'_>,
    key_id: Option<&str>,
) -> RequestFacts {
    let mut out = RequestFacts::default();
    let c = &mut out.conditions;
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
    c.insert(
        "aws:SecureTransport",
        [if caller.secure_transport {
            "true"
        } else {
            "false"
        }],
    );
    c.insert("kms:GrantIsForAWSResource", ["false"]);
    let now = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let iso = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    c.insert("aws:CurrentTime", [iso]);
    c.insert("aws:EpochTime", [now_ms.div_euclid(1000).to_string()]);
    if let Some(ctx) = facts.encryption_context {
        for (k, v) in ctx {
            c.push(&format!("kms:EncryptionContext:{k}"), v.as_str());
            c.push("kms:EncryptionContextKeys", k.as_str());
        }
        out.encryption_context = ctx.clone();
    }
    let c = &mut out.conditions;
    let simple = [
        (facts.encryption_algorithm, "kms:EncryptionAlgorithm"),
        (facts.signing_algorithm, "kms:SigningAlgorithm"),
        (facts.mac_algorithm, "kms:MacAlgorithm"),
        (facts.message_type, "kms:MessageType"),
        (facts.key_agreement_algorithm, "kms:KeyAgreementAlgorithm"),
        (facts.data_key_pair_spec, "kms:DataKeyPairSpec"),
        (facts.grantee_principal, "kms:GranteePrincipal"),
        (facts.retiring_principal, "kms:RetiringPrincipal"),
        (facts.wrapping_algorithm, "kms:WrappingAlgorithm"),
        (facts.wrapping_key_spec, "kms:WrappingKeySpec"),
        (facts.expiration_model, "kms:ExpirationModel"),
        (facts.key_spec, "kms:KeySpec"),
        (facts.key_usage, "kms:KeyUsage"),
        (facts.key_origin, "kms:KeyOrigin"),
        (facts.replica_region, "kms:ReplicaRegion"),
        (facts.primary_region, "kms:PrimaryRegion"),
    ];
    for (value, key) in simple {
        if let Some(v) = value {
            c.push(key, v);
        }
    }
    if let Some(days) = facts.rotation_period_in_days {
        c.push("kms:RotationPeriodInDays", days.to_string());
    }
    if let Some(b) = facts.bypass_policy_lockout_safety_check {
        c.insert("kms:BypassPolicyLockoutSafetyCheck", [b.to_string()]);
    }
    for op in facts.grant_operations {
        c.push("kms:GrantOperations", op.as_str());
    }
    for t in facts.tags {
        if let (Some(k), Some(v)) = (t.tag_key.as_deref(), t.tag_value.as_deref()) {
            c.push(&format!("aws:RequestTag/{k}"), v);
            c.push("aws:TagKeys", k);
        }
    }
    for k in facts.tag_keys {
        c.push("aws:TagKeys", k.as_str());
    }
    if let Some(alias) = key_id.and_then(request_alias) {
        c.push("kms:RequestAlias", alias);
    }
    out
}

/// The alias name (`alias/...`) a key id names, when it is an alias or alias ARN.
fn request_alias(key_id: &str) -> Option<&str> {
    if key_id.starts_with("alias/") {
        return Some(key_id);
    }
    if key_id.starts_with("arn:") {
        return key_id.find(":alias/").and_then(|pos| key_id.get(pos + 1..));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_policy_is_the_json_of_aws_default() {
        for account in ["111122223333", "000000000000", "a\"b\\c"] {
            let built = serde_json::json!({
                "Version": "2012-10-17",
                "Id": "key-default-1",
                "Statement": [{
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                    "Action": "kms:*",
                    "Resource": "*"
                }]
            });
            assert_eq!(default_key_policy(account), built.to_string());
        }
    }

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
            secure_transport: false,
        };
        let ctx: EncryptionContext = [("Dept".to_string(), "IT".to_string())].into();
        let ops = ["Encrypt".to_string(), "Decrypt".to_string()];
        let facts = Facts {
            encryption_context: Some(&ctx),
            grant_operations: &ops,
            ..Facts::NONE
        };
        let f = request_facts(&caller, 0, &facts, Some("alias/app"));
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
        let by_arn = request_facts(
            &caller,
            0,
            &Facts::NONE,
            Some("arn:aws:kms:us-east-1:111122223333:alias/app"),
        );
        assert_eq!(
            by_arn.conditions.get("kms:RequestAlias").unwrap(),
            ["alias/app"]
        );
        let by_key = request_facts(
            &caller,
            0,
            &Facts::NONE,
            Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        );
        assert!(by_key.conditions.get("kms:RequestAlias").is_none());
        assert!(by_key
            .conditions
            .get("kms:EncryptionContext:Dept")
            .is_none());
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
