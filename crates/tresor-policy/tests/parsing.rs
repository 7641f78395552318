//! Parsing: malformed documents and their messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    Any,
    Key,
    Identity,
}

fn parse(kind: Kind, doc: &str) -> Result<Policy, PolicyError> {
    match kind {
        Kind::Any => Policy::parse(doc),
        Kind::Key => Policy::parse_key_policy(doc),
        Kind::Identity => Policy::parse_identity_policy(doc),
    }
}

#[test]
fn malformed_documents() {
    use Kind::*;
    // (kind, document, substrings the message must contain)
    let cases: &[(Kind, &str, &[&str])] = &[
        (Any, "not json", &["not valid JSON"]),
        (Any, "[]", &["must be a JSON object"]),
        (
            Any,
            r#"{"Version":"2012-10-17"}"#,
            &["Statement", "missing"],
        ),
        (Any, r#"{"Statement":[]}"#, &["at least one statement"]),
        (Any, r#"{"Statement":"x"}"#, &["Statement must be"]),
        (Any, r#"{"Statement":[1]}"#, &["statement 1", "JSON object"]),
        (
            Any,
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Version"],
        ),
        (
            Any,
            r#"{"Version":20121017,"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Version"],
        ),
        (
            Any,
            r#"{"Id":7,"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Id must be a string"],
        ),
        (
            Any,
            r#"{"Statements":[]}"#,
            &["unknown top-level element \"Statements\""],
        ),
        (
            Any,
            r#"{"Statement":{"Action":"kms:*","Resource":"*"}}"#,
            &["statement 1", "Effect is missing"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"allow","Action":"kms:*","Resource":"*"}}"#,
            &["Effect must be", "allow"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":true,"Action":"kms:*","Resource":"*"}}"#,
            &["Effect must be"],
        ),
        (
            Any,
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"Second","Effect":"Allow","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}]}"#,
            &["statement 2 (Sid \"Second\")", "Action and NotAction"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            &["Action or NotAction is required"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            &["Action must not be an empty list"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
            &["Action must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":{"kms":"*"},"Resource":"*"}}"#,
            &["Action must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"Encrypt","Resource":"*"}}"#,
            &["Action \"Encrypt\" is not valid"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":5}}"#,
            &["Resource must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","NotResource":"*"}}"#,
            &["Resource and NotResource"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Actions":"kms:*","Resource":"*"}}"#,
            &["unknown element \"Actions\""],
        ),
        (
            Any,
            r#"{"Statement":{"Sid":5,"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Sid must be a string"],
        ),
        (
            Any,
            r#"{"Statement":[{"Sid":"X","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"X","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
            &["Sid \"X\"", "unique"],
        ),
        // Conditions.
        (
            Any,
            r#"{"Statement":{"Sid":"C","Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#,
            &[
                "statement 1 (Sid \"C\")",
                "StringEqualz",
                "not a supported condition operator",
            ],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"a:b":"c"}}}}"#,
            &["ForSomeValues:StringEquals"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":"x"}}"#,
            &["Condition must be a JSON object"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":"x"}}}"#,
            &["StringEquals", "JSON object"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}}}"#,
            &["\"a:b\"", "values must be strings"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":[null]}}}}"#,
            &["values must be strings"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":[]}}}}"#,
            &["empty list of values"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{}}}}"#,
            &["names no condition key"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"a:b":"ten"}}}}"#,
            &["\"ten\" is not a number"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}}"#,
            &["not a date"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}"#,
            &["not an IP address"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}"#,
            &["true or false"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Null":{"a:b":"maybe"}}}}"#,
            &["true or false"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}"#,
            &["Null cannot take the IfExists suffix"],
        ),
        // Principals.
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}}"#,
            &["Principal and NotPrincipal"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            &["NotPrincipal can only be used with", "Deny"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"alice","Action":"kms:*","Resource":"*"}}"#,
            &["Principal must be"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"kms:*","Resource":"*"}}"#,
            &["Principal.AWS", "invalid principal \"alice\""],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"kms:*","Resource":"*"}}"#,
            &["wildcards"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333", 5]},"Action":"kms:*","Resource":"*"}}"#,
            &["Principal.AWS must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"kms:*","Resource":"*"}}"#,
            &["unknown principal type \"Users\""],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"}}"#,
            &["at least one principal"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":["*"],"Action":"kms:*","Resource":"*"}}"#,
            &["Principal must be"],
        ),
        // Kind-specific rules.
        (
            Key,
            r#"{"Statement":{"Sid":"NoOne","Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Sid \"NoOne\"", "must have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
            &["identity policy must not have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            &["identity policy must not have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
            &["must have a Resource or NotResource"],
        ),
    ];
    let mut failures = Vec::new();
    for (i, (kind, doc, needles)) in cases.iter().enumerate() {
        match parse(*kind, doc) {
            Ok(_) => failures.push(format!("case {i}: {doc} parsed as {kind:?}")),
            Err(PolicyError::Malformed(msg)) => {
                for n in *needles {
                    if !msg.contains(n) {
                        failures.push(format!("case {i}: message {msg:?} lacks {n:?}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn well_formed_documents() {
    use Kind::*;
    let cases: &[(Kind, &str)] = &[
        (Key, DEFAULT_KEY_POLICY),
        (Key, CONSOLE_KEY_POLICY),
        (Key, CROSS_ACCOUNT_KEY_POLICY),
        (Identity, ALLOW_ALL_KMS),
        // Version 2008-10-17 and a missing Version; Statement as a single object.
        (
            Identity,
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
        // Numbers and booleans as condition values; every operator family with IfExists
        // and set qualifiers.
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{
            "NumericLessThanEqualsIfExists":{"a:n":[1,2.5]},"BoolIfExists":{"a:b":false},
            "ForAllValues:StringLikeIfExists":{"a:s":"x*"},"ForAnyValue:ArnNotLike":{"a:arn":"arn:aws:iam::*:user/*"},
            "DateGreaterThanEqualsIfExists":{"a:d":"2020-01-01T00:00:00Z"},"NotIpAddressIfExists":{"a:ip":"::1"},
            "StringNotEqualsIgnoreCaseIfExists":{"a:c":"X"},"ArnEquals":{"a:e":"arn:aws:kms:*:*:key/*"},
            "Null":{"a:z":true},"BinaryEquals":{"a:bin":"QmluYXJ5"}}}}"#,
        ),
        // Key policy kinds of principal.
        (
            Key,
            r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:role/x/y","arn:aws:sts::111122223333:assumed-role/R/s"]},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"},
            {"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}"#,
        ),
        // A key policy statement may omit Resource (it then covers this key).
        (
            Key,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#,
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
    ];
    for (kind, doc) in cases {
        if let Err(e) = parse(*kind, doc) {
            panic!("{kind:?} {doc}: {e}");
        }
    }
    let p = key_policy(DEFAULT_KEY_POLICY);
    assert_eq!(p.version(), Some("2012-10-17"));
    assert_eq!(p.id(), Some("key-default-1"));
    assert_eq!(p.statement_count(), 1);
    assert_eq!(key_policy(CONSOLE_KEY_POLICY).statement_count(), 4);
}

#[test]
fn key_policy_without_resource_covers_the_key() {
    let p =
        key_policy(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt"}}"#);
    let cv = ConditionValues::new();
    assert_eq!(
        p.evaluate_resource(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        Allow
    );
    assert_eq!(
        p.evaluate_resource(&ctx(ALICE, "kms:Decrypt", KEY, &cv)),
        NA
    );
}

#[test]
fn statements_without_principal_in_resource_evaluation() {
    // Only reachable through the kind-less `Policy::parse`: an Allow with no principal
    // grants nothing as a resource policy, a Deny with no principal denies everyone.
    let allow = Policy::parse(ALLOW_ALL_KMS).unwrap();
    let deny = Policy::parse(DENY_DECRYPT).unwrap();
    let cv = ConditionValues::new();
    assert_eq!(
        allow.evaluate_resource(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        NA
    );
    assert_eq!(
        allow.evaluate_identity(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        Allow
    );
    assert_eq!(
        deny.evaluate_resource(&ctx(ALICE, "kms:Decrypt", KEY, &cv)),
        Deny
    );
}

#[test]
fn condition_values_keys_are_case_insensitive() {
    let mut cv = ConditionValues::new();
    cv.insert("kms:EncryptionContext:Dept", ["IT"]);
    cv.push("AWS:TagKeys", "a");
    cv.push("aws:tagkeys", "b");
    assert_eq!(
        cv.get("KMS:ENCRYPTIONCONTEXT:DEPT"),
        Some(&["IT".to_owned()][..])
    );
    assert_eq!(cv.get("aws:TagKeys").map(<[String]>::len), Some(2));
    assert_eq!(cv.get("aws:SourceIp"), None);
    assert_eq!(cv.len(), 2);
    let built: ConditionValues = [("a:b", vec!["1"])].into_iter().collect();
    assert_eq!(built, ConditionValues::new().with("A:B", ["1"]));
}
