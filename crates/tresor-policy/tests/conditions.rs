//! Table-driven tests of every condition operator (IfExists, ForAllValues/ForAnyValue).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Condition operators
// ---------------------------------------------------------------------------------------

const CONDITION_CASES: &[CondCase] = &[
    // StringEquals: exact, case-sensitive; policy values OR'ed; missing key → false.
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["it"])],
        NA,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":["HR","IT"]}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":["HR","Sales"]}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    // Condition key names are case-insensitive (both in the policy and the request).
    (
        r#"{"StringEquals":{"KMS:encryptioncontext:DEPT":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("KMS:ENCRYPTIONCONTEXT:dept", &["IT"])],
        Allow,
    ),
    // Several keys in one operator are AND'ed.
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT","kms:EncryptionContext:Proj":"X"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT","kms:EncryptionContext:Proj":"X"}}"#,
        &[
            ("kms:EncryptionContext:Dept", &["IT"]),
            ("kms:EncryptionContext:Proj", &["X"]),
        ],
        Allow,
    ),
    // Several operators are AND'ed.
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[
            ("kms:EncryptionContext:Dept", &["IT"]),
            ("aws:SourceIp", &["10.1.1.1"]),
        ],
        Allow,
    ),
    (
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"IT"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[
            ("kms:EncryptionContext:Dept", &["IT"]),
            ("aws:SourceIp", &["127.0.0.1"]),
        ],
        NA,
    ),
    // StringNotEquals: missing key → true.
    (
        r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["HR"])],
        Allow,
    ),
    (
        r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":["HR","IT"]}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[],
        Allow,
    ),
    // StringEqualsIgnoreCase / StringNotEqualsIgnoreCase.
    (
        r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"it"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"hr"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"it"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"it"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"hr"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringNotEqualsIgnoreCase":{"kms:EncryptionContext:Dept":"it"}}"#,
        &[],
        Allow,
    ),
    // StringLike / StringNotLike: `*` and `?`, case-sensitive.
    (
        r#"{"StringLike":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT-Ops"])],
        Allow,
    ),
    (
        r#"{"StringLike":{"kms:EncryptionContext:Dept":"?T"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringLike":{"kms:EncryptionContext:Dept":"i*"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringLike":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"StringNotLike":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringNotLike":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[("kms:EncryptionContext:Dept", &["HR"])],
        Allow,
    ),
    (
        r#"{"StringNotLike":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[],
        Allow,
    ),
    // IfExists: missing → true; present → normal evaluation.
    (
        r#"{"StringEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"StringEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["HR"])],
        NA,
    ),
    (
        r#"{"StringEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        Allow,
    ),
    (
        r#"{"StringNotEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[("kms:EncryptionContext:Dept", &["IT"])],
        NA,
    ),
    (
        r#"{"StringNotEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"StringLikeIfExists":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"StringLikeIfExists":{"kms:EncryptionContext:Dept":"I*"}}"#,
        &[("kms:EncryptionContext:Dept", &["HR"])],
        NA,
    ),
    // Numeric*.
    (
        r#"{"NumericEquals":{"test:n":10}}"#,
        &[("test:n", &["10"])],
        Allow,
    ),
    (
        r#"{"NumericEquals":{"test:n":"10"}}"#,
        &[("test:n", &["10.0"])],
        Allow,
    ),
    (
        r#"{"NumericEquals":{"test:n":"10"}}"#,
        &[("test:n", &["11"])],
        NA,
    ),
    (
        r#"{"NumericEquals":{"test:n":"10"}}"#,
        &[("test:n", &["ten"])],
        NA,
    ),
    (r#"{"NumericEquals":{"test:n":"10"}}"#, &[], NA),
    (
        r#"{"NumericNotEquals":{"test:n":"10"}}"#,
        &[("test:n", &["11"])],
        Allow,
    ),
    (
        r#"{"NumericNotEquals":{"test:n":"10"}}"#,
        &[("test:n", &["10"])],
        NA,
    ),
    (r#"{"NumericNotEquals":{"test:n":"10"}}"#, &[], Allow),
    (
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", &["9"])],
        Allow,
    ),
    (
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", &["10"])],
        NA,
    ),
    (
        r#"{"NumericLessThan":{"test:n":"10"}}"#,
        &[("test:n", &["-3.5"])],
        Allow,
    ),
    (
        r#"{"NumericLessThanEquals":{"test:n":"10"}}"#,
        &[("test:n", &["10"])],
        Allow,
    ),
    (
        r#"{"NumericLessThanEquals":{"test:n":"10"}}"#,
        &[("test:n", &["10.5"])],
        NA,
    ),
    (
        r#"{"NumericGreaterThan":{"test:n":"10"}}"#,
        &[("test:n", &["11"])],
        Allow,
    ),
    (
        r#"{"NumericGreaterThan":{"test:n":"10"}}"#,
        &[("test:n", &["10"])],
        NA,
    ),
    (
        r#"{"NumericGreaterThanEquals":{"test:n":"10"}}"#,
        &[("test:n", &["10"])],
        Allow,
    ),
    (
        r#"{"NumericGreaterThanEquals":{"test:n":"10"}}"#,
        &[("test:n", &["9"])],
        NA,
    ),
    (r#"{"NumericLessThanIfExists":{"test:n":"10"}}"#, &[], Allow),
    (
        r#"{"NumericLessThanIfExists":{"test:n":"10"}}"#,
        &[("test:n", &["12"])],
        NA,
    ),
    // Date*: ISO 8601 and epoch seconds on either side.
    (
        r#"{"DateEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["1795867200"])],
        Allow,
    ),
    (
        r#"{"DateEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T13:00:00+01:00"])],
        Allow,
    ),
    (
        r#"{"DateEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:01Z"])],
        NA,
    ),
    (
        r#"{"DateNotEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:01Z"])],
        Allow,
    ),
    (
        r#"{"DateNotEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        NA,
    ),
    (
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        Allow,
    ),
    (
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2027-06-01T00:00:00Z"])],
        NA,
    ),
    (
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01"}}"#,
        &[("aws:CurrentTime", &["2026-12-31T23:59:59Z"])],
        Allow,
    ),
    (
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"DateLessThanEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        Allow,
    ),
    (
        r#"{"DateLessThanEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00.001Z"])],
        NA,
    ),
    (
        r#"{"DateGreaterThan":{"aws:CurrentTime":1700000000}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        Allow,
    ),
    (
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        NA,
    ),
    (
        r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T12:00:00Z"])],
        Allow,
    ),
    (
        r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2026-11-28T12:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-28T11:59:59Z"])],
        NA,
    ),
    (
        r#"{"DateGreaterThanIfExists":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", &["not a date"])],
        NA,
    ),
    // Bool.
    (
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", &["true"])],
        Allow,
    ),
    (
        r#"{"Bool":{"aws:SecureTransport":true}}"#,
        &[("aws:SecureTransport", &["TRUE"])],
        Allow,
    ),
    (
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", &["false"])],
        NA,
    ),
    (
        r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
        &[("aws:SecureTransport", &["false"])],
        Allow,
    ),
    (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, &[], NA),
    (
        r#"{"BoolIfExists":{"aws:SecureTransport":"true"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"BoolIfExists":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", &["false"])],
        NA,
    ),
    // IpAddress / NotIpAddress: CIDR, bare address, IPv4 and IPv6, values OR'ed.
    (
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["10.1.2.3"])],
        Allow,
    ),
    (
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["192.168.1.1"])],
        NA,
    ),
    (
        r#"{"IpAddress":{"aws:SourceIp":["192.168.0.0/16","127.0.0.1"]}}"#,
        &[("aws:SourceIp", &["127.0.0.1"])],
        Allow,
    ),
    (
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &[("aws:SourceIp", &["2001:db8:0:1::5"])],
        Allow,
    ),
    (
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &[("aws:SourceIp", &["2001:db9::5"])],
        NA,
    ),
    (
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["garbage"])],
        NA,
    ),
    (r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, &[], NA),
    (
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["10.1.2.3"])],
        NA,
    ),
    (
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["192.168.1.1"])],
        Allow,
    ),
    (
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        &[("aws:SourceIp", &["11.0.0.1"])],
        NA,
    ),
    // Arn*: aws:PrincipalArn defaults to the caller's ARN.
    (
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/bob"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/bob"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/a*"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[(
            "aws:SourceArn",
            &["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"],
        )],
        Allow,
    ),
    (
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ArnEqualsIfExists":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/x"}}"#,
        &[(
            "aws:SourceArn",
            &["arn:aws:cloudtrail:us-east-1:111122223333:trail/y"],
        )],
        NA,
    ),
    // Explicit request values override the principal defaults.
    (
        r#"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#,
        &[("kms:CallerAccount", &["999999999999"])],
        NA,
    ),
    (
        r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
        &[],
        Allow,
    ),
    // Null.
    (
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
        &[("kms:EncryptionContextKeys", &["Dept"])],
        NA,
    ),
    (
        r#"{"Null":{"kms:EncryptionContextKeys":false}}"#,
        &[("kms:EncryptionContextKeys", &["Dept"])],
        Allow,
    ),
    (r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#, &[], NA),
    (
        r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
        &[("kms:EncryptionContextKeys", &[])],
        Allow,
    ),
    // ForAllValues: every request value must match some policy value; empty → true.
    (
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &["Dept"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &["Proj", "Dept"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &["Dept", "Other"])],
        NA,
    ),
    (
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &[])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringLike":{"aws:TagKeys":"env*"}}"#,
        &[("aws:TagKeys", &["env", "environment"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringLike":{"aws:TagKeys":"env*"}}"#,
        &[("aws:TagKeys", &["env", "owner"])],
        NA,
    ),
    (
        r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","private"]}}"#,
        &[("aws:TagKeys", &["a", "b"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","private"]}}"#,
        &[("aws:TagKeys", &["a", "private"])],
        NA,
    ),
    (
        r#"{"ForAllValues:StringEqualsIgnoreCase":{"kms:GrantOperations":["decrypt","encrypt"]}}"#,
        &[("kms:GrantOperations", &["Decrypt", "Encrypt"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:StringEqualsIfExists":{"kms:GrantOperations":["Decrypt"]}}"#,
        &[],
        Allow,
    ),
    // ForAnyValue: at least one request value must match; empty → false (unless IfExists).
    (
        r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &["Other", "Dept"])],
        Allow,
    ),
    (
        r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[("kms:EncryptionContextKeys", &["Other"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["Dept","Proj"]}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ForAnyValue:StringEqualsIfExists":{"kms:EncryptionContextKeys":["Dept"]}}"#,
        &[],
        Allow,
    ),
    (
        r#"{"ForAnyValue:StringEqualsIfExists":{"kms:EncryptionContextKeys":["Dept"]}}"#,
        &[("kms:EncryptionContextKeys", &["Other"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:StringLike":{"aws:TagKeys":"team-*"}}"#,
        &[("aws:TagKeys", &["env", "team-a"])],
        Allow,
    ),
    (
        r#"{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}"#,
        &[("kms:GrantOperations", &["Decrypt", "Encrypt"])],
        Allow,
    ),
    (
        r#"{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}"#,
        &[("kms:GrantOperations", &["Decrypt"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":"Decrypt"}}"#,
        &[],
        NA,
    ),
    (
        r#"{"ForAnyValue:NumericGreaterThan":{"test:sizes":"100"}}"#,
        &[("test:sizes", &["5", "500"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:NumericGreaterThan":{"test:sizes":"100"}}"#,
        &[("test:sizes", &["5", "500"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:IpAddress":{"test:ips":"10.0.0.0/8"}}"#,
        &[("test:ips", &["1.1.1.1", "10.0.0.1"])],
        Allow,
    ),
    (
        r#"{"ForAllValues:IpAddress":{"test:ips":"10.0.0.0/8"}}"#,
        &[("test:ips", &["1.1.1.1", "10.0.0.1"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:ArnLike":{"test:arns":"arn:aws:iam::*:role/*"}}"#,
        &[(
            "test:arns",
            &[
                "arn:aws:iam::111122223333:user/x",
                "arn:aws:iam::111122223333:role/y",
            ],
        )],
        Allow,
    ),
    (
        r#"{"ForAnyValue:DateLessThan":{"test:dates":"2000-01-01T00:00:00Z"}}"#,
        &[("test:dates", &["2026-01-01T00:00:00Z"])],
        NA,
    ),
    (
        r#"{"ForAnyValue:Bool":{"test:flags":"true"}}"#,
        &[("test:flags", &["false", "true"])],
        Allow,
    ),
    // Multi-valued request key without a set qualifier: positive operators need one
    // matching value, negated operators need none.
    (
        r#"{"StringEquals":{"aws:TagKeys":"a"}}"#,
        &[("aws:TagKeys", &["a", "b"])],
        Allow,
    ),
    (
        r#"{"StringNotEquals":{"aws:TagKeys":"a"}}"#,
        &[("aws:TagKeys", &["a", "b"])],
        NA,
    ),
    (
        r#"{"StringNotEquals":{"aws:TagKeys":"c"}}"#,
        &[("aws:TagKeys", &["a", "b"])],
        Allow,
    ),
    // Tag condition keys.
    (
        r#"{"StringEquals":{"aws:ResourceTag/Project":"Alpha"}}"#,
        &[("aws:ResourceTag/Project", &["Alpha"])],
        Allow,
    ),
    (
        r#"{"StringEquals":{"aws:RequestTag/Project":"Alpha"}}"#,
        &[("aws:ResourceTag/Project", &["Alpha"])],
        NA,
    ),
];

#[test]
fn condition_operators() {
    let mut failures = Vec::new();
    for (i, (cond, values, want)) in CONDITION_CASES.iter().enumerate() {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{cond}}}}}"#
        );
        let policy = identity(&doc);
        let cv = conds(values);
        let got = policy.evaluate_identity(&ctx(ALICE, "kms:Encrypt", KEY, &cv));
        if got != *want {
            failures.push(format!(
                "case {i}: {cond} with {values:?}: got {got:?}, want {want:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
