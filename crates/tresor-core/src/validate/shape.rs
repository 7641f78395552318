//! The model's constraint kinds and how a request member is checked against them.
//! The constraints themselves are generated from the botocore model into
//! [`super::model`]; nothing here allocates unless a constraint fails.

use super::Validator;
use std::fmt;
use std::sync::OnceLock;

/// Where a member sits in the request, as AWS names it: `keyId`,
/// `tags.1.member.tagKey` (lists are 1-based).
#[derive(Clone, Copy)]
pub enum Path<'a> {
    /// A member of the request.
    Member(&'static str),
    /// A member of a nested structure.
    Nested(&'a Path<'a>, &'static str),
    /// Element `.0` (0-based) of a list.
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Member(name) => f.write_str(name),
            Path::Nested(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}.{}.member", i.saturating_add(1)),
        }
    }
}

/// A `pattern` trait: AWS's text (for the message) and the same expression for
/// `regex-lite`, compiled on first use. As in Smithy (and smithy-rs), a pattern is not
/// implicitly anchored: a value satisfies it when the expression is found in it.
pub struct Pattern {
    /// The pattern as the model writes it.
    pub source: &'static str,
    /// The same pattern in `regex-lite` syntax.
    pub rust: &'static str,
    compiled: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    /// A pattern (for the generated table).
    pub const fn new(source: &'static str, rust: &'static str) -> Self {
        Self {
            source,
            rust,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled expression (`None` if it does not compile, which a test excludes).
    pub fn regex(&self) -> Option<&regex_lite::Regex> {
        self.compiled
            .get_or_init(|| regex_lite::Regex::new(self.rust).ok())
            .as_ref()
    }

    /// True when the expression is found in `value`.
    pub fn matches(&self, value: &str) -> bool {
        self.regex().is_some_and(|r| r.is_match(value))
    }
}

/// Constraints of a string member.
pub struct Str {
    /// Minimum length in characters.
    pub min: Option<usize>,
    /// Maximum length in characters.
    pub max: Option<usize>,
    /// A `pattern` trait.
    pub pattern: Option<&'static Pattern>,
    /// An `enum` trait (empty: any value).
    pub values: &'static [&'static str],
    /// A `sensitive` member: its value is never echoed.
    pub sensitive: bool,
}

/// Length constraints of a blob, list or map (bytes or entries).
pub struct Len {
    /// Minimum.
    pub min: Option<usize>,
    /// Maximum.
    pub max: Option<usize>,
}

/// Range constraints of an integer member.
pub struct Int {
    /// Minimum.
    pub min: Option<i64>,
    /// Maximum.
    pub max: Option<i64>,
}

/// Constraints of a list: its length and those of each element.
pub struct List<M: 'static> {
    /// Length of the list.
    pub len: Len,
    /// Constraints of each element.
    pub member: &'static M,
}

/// Constraints of a map: its size and those of each key and value.
pub struct Map {
    /// Number of entries.
    pub len: Len,
    /// Constraints of each key.
    pub key: &'static Str,
    /// Constraints of each value.
    pub value: &'static Str,
}

/// A member type the table can check.
pub trait Member {
    /// The kind of constraint this type carries.
    type Shape: 'static;
    /// Records every constraint of `shape` that `self` violates.
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Self::Shape);
}

/// Every constraint of a string that `s` violates, in AWS's order (pattern, length,
/// enum), passed to `out`.
fn string_failures(s: &str, c: &Str, mut out: impl FnMut(Failure)) {
    if let Some(p) = c.pattern {
        if !p.matches(s) {
            out(Failure::Pattern(p.source));
        }
    }
    let n = s.chars().count();
    if let Some(min) = c.min.filter(|m| n < *m) {
        out(Failure::MinLen(min));
    }
    if let Some(max) = c.max.filter(|m| n > *m) {
        out(Failure::MaxLen(max));
    }
    if !c.values.is_empty() && !c.values.contains(&s) {
        out(Failure::Enum(c.values));
    }
}

/// One failed constraint, rendered as AWS writes it after `failed to satisfy constraint: `.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Pattern(&'static str),
    MinLen(usize),
    MaxLen(usize),
    MinValue(i64),
    MaxValue(i64),
    Enum(&'static [&'static str]),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Pattern(p) => write!(f, "Member must satisfy regular expression pattern: {p}"),
            Failure::MinLen(n) => write!(f, "Member must have length greater than or equal to {n}"),
            Failure::MaxLen(n) => write!(f, "Member must have length less than or equal to {n}"),
            Failure::MinValue(n) => {
                write!(f, "Member must have value greater than or equal to {n}")
            }
            Failure::MaxValue(n) => write!(f, "Member must have value less than or equal to {n}"),
            Failure::Enum(values) => {
                write!(
                    f,
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                )
            }
        }
    }
}

/// How a failing value is shown: quoted, or left out (blobs, sensitive or long values).
fn shown(value: &str, sensitive: bool) -> Option<String> {
    (!sensitive).then(|| {
        if value.chars().count() > 64 {
            "value".to_string()
        } else {
            format!("'{value}'")
        }
    })
}

fn check_str(v: &mut Validator, at: Path<'_>, s: &str, c: &Str) {
    string_failures(s, c, |f| v.failed(shown(s, c.sensitive).as_deref(), &at, f));
}

fn check_len(v: &mut Validator, at: Path<'_>, n: usize, c: &Len) {
    if let Some(min) = c.min.filter(|m| n < *m) {
        v.failed(None, &at, Failure::MinLen(min));
    }
    if let Some(max) = c.max.filter(|m| n > *m) {
        v.failed(None, &at, Failure::MaxLen(max));
    }
}

impl Member for String {
    type Shape = Str;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Str) {
        check_str(v, at, self, shape);
    }
}

impl Member for crate::admin::SecretString {
    type Shape = Str;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Str) {
        check_str(v, at, self.expose(), shape);
    }
}

impl Member for crate::wire::Blob {
    type Shape = Len;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Len) {
        check_len(v, at, self.0.len(), shape);
    }
}

impl Member for crate::wire::SecretBlob {
    type Shape = Len;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Len) {
        check_len(v, at, self.0.len(), shape);
    }
}

impl Member for i64 {
    type Shape = Int;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Int) {
        let n = *self;
        if let Some(min) = shape.min.filter(|m| n < *m) {
            v.failed(Some(&format!("'{n}'")), &at, Failure::MinValue(min));
        }
        if let Some(max) = shape.max.filter(|m| n > *m) {
            v.failed(Some(&format!("'{n}'")), &at, Failure::MaxValue(max));
        }
    }
}

/// Members without constraints of their own (booleans, timestamps).
pub struct Unconstrained;

impl Member for bool {
    type Shape = Unconstrained;
    fn check(&self, _: &mut Validator, _: Path<'_>, _: &Unconstrained) {}
}

impl Member for f64 {
    type Shape = Unconstrained;
    fn check(&self, _: &mut Validator, _: Path<'_>, _: &Unconstrained) {}
}

/// A list of strings: its length, then one error at the list for all its elements'
/// violations, as AWS writes it:
/// `Value '[a, b]' at 'operations' failed to satisfy constraint: Member must satisfy
/// constraint: [Member must satisfy enum value set: [...]]`.
impl Member for Vec<String> {
    type Shape = List<Str>;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &List<Str>) {
        check_len(v, at, self.len(), &shape.len);
        let mut failures: Vec<Failure> = Vec::new();
        for s in self {
            string_failures(s, shape.member, |f| {
                if !failures.contains(&f) {
                    failures.push(f);
                }
            });
        }
        if !failures.is_empty() {
            let value = (!shape.member.sensitive).then(|| {
                let joined = self.join(", ");
                if joined.chars().count() > 64 {
                    "value".to_string()
                } else {
                    format!("'[{joined}]'")
                }
            });
            v.failed_nested(value.as_deref(), &at, &failures);
        }
    }
}

/// A map (EncryptionContext): its size, then one error per failing side, as AWS
/// writes it (`Map keys must satisfy constraint: [...]`).
impl Member for crate::wire::EncryptionContext {
    type Shape = Map;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &Map) {
        check_len(v, at, self.len(), &shape.len);
        let mut keys: Vec<Failure> = Vec::new();
        let mut values: Vec<Failure> = Vec::new();
        for (k, val) in self {
            string_failures(k, shape.key, |f| {
                if !keys.contains(&f) {
                    keys.push(f);
                }
            });
            string_failures(val, shape.value, |f| {
                if !values.contains(&f) {
                    values.push(f);
                }
            });
        }
        if !keys.is_empty() {
            v.failed_map(&at, "Map keys", &keys);
        }
        if !values.is_empty() {
            v.failed_map(&at, "Map value", &values);
        }
    }
}

impl<T: Member> Member for [T] {
    type Shape = List<T::Shape>;
    fn check(&self, v: &mut Validator, at: Path<'_>, shape: &List<T::Shape>) {
        check_len(v, at, self.len(), &shape.len);
        for (i, item) in self.iter().enumerate() {
            item.check(v, Path::Index(&at, i), shape.member);
        }
    }
}

impl Validator {
    /// Checks one member of a request: present if `required`, then its constraints.
    pub fn member<T: Member + ?Sized>(
        &mut self,
        at: Path<'_>,
        value: Option<&T>,
        required: bool,
        shape: &T::Shape,
    ) {
        match value {
            Some(value) => value.check(self, at, shape),
            None if required => self.push(format!(
                "Value null at '{at}' failed to satisfy constraint: Member must not be null"
            )),
            None => {}
        }
    }

    fn failed(&mut self, value: Option<&str>, at: &Path<'_>, failure: Failure) {
        let msg = match value {
            Some(value) => {
                format!("Value {value} at '{at}' failed to satisfy constraint: {failure}")
            }
            None => format!("Value at '{at}' failed to satisfy constraint: {failure}"),
        };
        self.push(msg);
    }

    fn failed_nested(&mut self, value: Option<&str>, at: &Path<'_>, failures: &[Failure]) {
        let inner = join(failures);
        let msg = match value {
            Some(value) => format!(
                "Value {value} at '{at}' failed to satisfy constraint: Member must satisfy constraint: [{inner}]"
            ),
            None => format!(
                "Value at '{at}' failed to satisfy constraint: Member must satisfy constraint: [{inner}]"
            ),
        };
        self.push(msg);
    }

    fn failed_map(&mut self, at: &Path<'_>, side: &str, failures: &[Failure]) {
        let inner = join(failures);
        self.push(format!(
            "Value at '{at}' failed to satisfy constraint: {side} must satisfy constraint: [{inner}]"
        ));
    }
}

fn join(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An operation whose request members are checked against the model's constraints
/// (implemented for every operation by the generated [`super::model`]).
pub trait Constrained: crate::pipeline::Operation {
    /// Records every model constraint `req` violates, in the model's member order.
    fn check(req: &Self::Request, v: &mut Validator);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::error::KmsError;
    use crate::ops;

    /// The ValidationException message of `body` for operation `O`, or `None`.
    fn message<O: Constrained>(body: &str) -> Option<String> {
        let req: O::Request = serde_json::from_str(body).unwrap();
        let mut v = Validator::new();
        O::check(&req, &mut v);
        match v.finish() {
            Ok(()) => None,
            Err(KmsError::Validation(m)) => Some(m),
            Err(e) => panic!("not a validation error: {e:?}"),
        }
    }

    const KEY: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn a_valid_request_passes() {
        let body =
            format!(r#"{{"KeyId":"{KEY}","Plaintext":"aGk=","EncryptionContext":{{"a":"b"}}}}"#);
        assert_eq!(message::<ops::encrypt::Encrypt>(&body), None);
    }

    #[test]
    fn every_violation_in_model_order_with_the_count() {
        let m = message::<ops::encrypt::Encrypt>(r#"{"GrantTokens":[""]}"#).unwrap();
        assert_eq!(
            m,
            "3 validation errors detected: \
             Value null at 'keyId' failed to satisfy constraint: Member must not be null; \
             Value null at 'plaintext' failed to satisfy constraint: Member must not be null; \
             Value '[]' at 'grantTokens' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]"
        );
    }

    #[test]
    fn blobs_are_never_echoed_and_integers_are() {
        let big = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0u8; 4097]);
        let m = message::<ops::encrypt::Encrypt>(&format!(
            r#"{{"KeyId":"{KEY}","Plaintext":"{big}"}}"#
        ))
        .unwrap();
        assert_eq!(
            m,
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        );
        let m = message::<ops::generate_random::GenerateRandom>(r#"{"NumberOfBytes":0}"#).unwrap();
        assert_eq!(
            m,
            "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn enums_patterns_and_lengths_of_one_member_are_all_reported() {
        let m = message::<ops::create_key::CreateKey>(r#"{"KeySpec":"AES_9"}"#).unwrap();
        assert!(
            m.starts_with("1 validation error detected: Value 'AES_9' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, "),
            "{m}"
        );
        let m = message::<ops::create_alias::CreateAlias>(&format!(
            r#"{{"AliasName":"","TargetKeyId":"{KEY}"}}"#
        ))
        .unwrap();
        assert_eq!(
            m,
            "2 validation errors detected: \
             Value '' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$; \
             Value '' at 'aliasName' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert!(message::<ops::create_alias::CreateAlias>(&format!(
            r#"{{"AliasName":"alias/sp ace","TargetKeyId":"{KEY}"}}"#
        ))
        .is_some());
    }

    #[test]
    fn nested_members_are_addressed_as_aws_does() {
        let long = "k".repeat(129);
        let m = message::<ops::tag_resource::TagResource>(&format!(
            r#"{{"KeyId":"{KEY}","Tags":[{{"TagKey":"a","TagValue":"b"}},{{"TagKey":"{long}"}}]}}"#
        ))
        .unwrap();
        assert_eq!(
            m,
            "2 validation errors detected: \
             Value value at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128; \
             Value null at 'tags.2.member.tagValue' failed to satisfy constraint: Member must not be null"
        );
        let m = message::<ops::create_grant::CreateGrant>(&format!(
            r#"{{"KeyId":"{KEY}","Operations":["Encrypt","Bogus"],"GranteePrincipal":"arn:aws:iam::111122223333:root"}}"#
        ))
        .unwrap();
        assert!(
            m.starts_with("1 validation error detected: Value '[Encrypt, Bogus]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [Decrypt, Encrypt, "),
            "{m}"
        );
    }

    #[test]
    fn sensitive_strings_are_not_echoed() {
        let m = message::<ops::create_custom_key_store::CreateCustomKeyStore>(
            r#"{"CustomKeyStoreName":"s","KeyStorePassword":"short"}"#,
        )
        .unwrap();
        assert!(!m.contains("short"), "{m}");
        assert!(m.contains("Value at 'keyStorePassword'"), "{m}");
    }
}
