//! The loggable form of a JSON body: what an audit record keeps of a request (and of a
//! mutation's response), written straight as JSON text in one pass over the body.

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;

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

/// A JSON object as an audit record logs it, already serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedJson(String);

impl Default for LoggedJson {
    /// `{}`.
    fn default() -> Self {
        Self("{}".into())
    }
}

impl LoggedJson {
    /// `value` serialized, when it is an object.
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        value.is_object().then(|| Self(value.to_string()))
    }

    /// The JSON text of the object.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object parsed back.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

/// The loggable form of a JSON request or response body: the members at `unknown`
/// (paths of member names and array indexes the operation does not have) left out,
/// members renamed to camelCase (`KeyId` → `keyId`) and [`NEVER_LOGGED`] members
/// removed, at every depth; `None` unless the body is one JSON object. Written in one
/// pass over the body, in its order; left-out members are skipped unparsed (a 4 KiB
/// plaintext is never copied). A name given twice is logged once, with its first value.
/// `default` is a member added when the object has none of its name (the algorithm a
/// cryptographic call used when the request named none, as CloudTrail logs it).
pub fn loggable_json(
    body: &[u8],
    unknown: &[Vec<String>],
    default: Option<(&'static str, &'static str)>,
) -> Option<LoggedJson> {
    let paths: Vec<&[String]> = unknown.iter().map(Vec::as_slice).collect();
    let mut out = Vec::with_capacity(body.len().min(1024).saturating_add(64));
    let mut de = serde_json::Deserializer::from_slice(body);
    Transcode {
        unknown: &paths,
        out: &mut out,
        top: true,
        default,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    String::from_utf8(out).ok().map(LoggedJson)
}

/// Writes one JSON value the way [`loggable_json`] logs it; `unknown` are the remaining
/// segments of the left-out paths that lead into this value.
struct Transcode<'p, 'q, 'o> {
    unknown: &'p [&'q [String]],
    out: &'o mut Vec<u8>,
    /// The body itself, which must be an object.
    top: bool,
    default: Option<(&'static str, &'static str)>,
}

impl Transcode<'_, '_, '_> {
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

    /// A scalar, unless an object is required here.
    fn scalar<E: serde::de::Error>(self, v: impl serde::Serialize) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not a JSON object"));
        }
        serde_json::to_writer(&mut *self.out, &v).map_err(E::custom)
    }
}

impl<'de> DeserializeSeed<'de> for Transcode<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Transcode {
            unknown,
            out,
            default,
            ..
        } = self;
        out.push(b'{');
        // The names written (as given), and a buffer for the camelCase one.
        let mut written: Vec<Cow<'de, str>> = Vec::new();
        let mut name = String::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let (rest, whole) = Self::under(unknown, &k);
            let again = written.iter().any(|w| same_camel_case(w, &k));
            if whole || again || NEVER_LOGGED.contains(&k.as_ref()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if !written.is_empty() {
                out.push(b',');
            }
            name.clear();
            camel_case(&k, &mut name);
            serde_json::to_writer(&mut *out, &name).map_err(A::Error::custom)?;
            out.push(b':');
            if k == "EncryptionContext" || k.ends_with("EncryptionContext") {
                // Logged as given (its keys are the caller's, not API members).
                let v = map.next_value::<serde_json::Value>()?;
                serde_json::to_writer(&mut *out, &v).map_err(A::Error::custom)?;
            } else {
                map.next_value_seed(Transcode {
                    unknown: &rest,
                    out: &mut *out,
                    top: false,
                    default: None,
                })?;
            }
            written.push(k);
        }
        let given = |n: &str| written.iter().any(|w| same_camel_case(w, n));
        if let Some((name, value)) = default.filter(|(n, _)| !given(n)) {
            if !written.is_empty() {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, name).map_err(A::Error::custom)?;
            out.push(b':');
            serde_json::to_writer(&mut *out, value).map_err(A::Error::custom)?;
        }
        out.push(b'}');
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.top {
            return Err(A::Error::custom("not a JSON object"));
        }
        let Transcode { unknown, out, .. } = self;
        out.push(b'[');
        let mut i = 0usize;
        loop {
            let index = if unknown.is_empty() {
                String::new()
            } else {
                i.to_string()
            };
            let (rest, _) = Self::under(unknown, &index);
            let mark = out.len();
            if i > 0 {
                out.push(b',');
            }
            let element = Transcode {
                unknown: &rest,
                out: &mut *out,
                top: false,
                default: None,
            };
            if seq.next_element_seed(element)?.is_none() {
                out.truncate(mark);
                break;
            }
            i = i.saturating_add(1);
        }
        out.push(b']');
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        // Not finite cannot come from JSON; null as a Value would have it.
        self.scalar(serde_json::Number::from_f64(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(())
    }
}

/// A member name, borrowed from the body unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
}

/// `name` with its first letter lower-cased, as CloudTrail logs members (KeyId → keyId).
fn camel_case(name: &str, out: &mut String) {
    let mut chars = name.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
        out.push_str(chars.as_str());
    }
}

/// Whether `a` and `b` are logged under the same name.
fn same_camel_case(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (a.chars(), b.chars());
    match (x.next(), y.next()) {
        (Some(p), Some(q)) => p.to_lowercase().eq(q.to_lowercase()) && x.as_str() == y.as_str(),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// [`loggable_json`] as a value.
    fn loggable_parameters(body: &[u8], unknown: &[Vec<String>]) -> Option<serde_json::Value> {
        loggable_json(body, unknown, None).map(|j| j.to_value())
    }

    #[test]
    fn secrets_are_removed_and_names_camel_cased() {
        let body = br#"{"KeyId":"k","Plaintext":"c2VjcmV0","EncryptionContext":{"Dept":"IT"},"Recipient":{"AttestationDocument":"eA=="},"GrantTokens":["t"]}"#;
        let v = loggable_parameters(body, &[]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"keyId":"k","encryptionContext":{"Dept":"IT"},"recipient":{}})
        );
        assert!(loggable_parameters(b"[1]", &[]).is_none());
        assert!(loggable_parameters(b"\"x\"", &[]).is_none());
        assert!(loggable_parameters(b"null", &[]).is_none());
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
            br#"{"Items":[{"X":1,"Y":2},{"X":3,"Y":4,"Plaintext":"cw=="}],"EncryptionContext":{"Plaintext":"ctx"},"DestinationEncryptionContext":{"A\"b":"c"},"N":1.5,"B":true,"Z":null,"E":[],"O":{}}"#,
            &unknown,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"items": [{"x": 1, "y": 2}, {"y": 4}], "encryptionContext": {"Plaintext": "ctx"}, "destinationEncryptionContext": {"A\"b": "c"}, "n": 1.5, "b": true, "z": null, "e": [], "o": {}})
        );
        assert!(loggable_parameters(br#"{"a":1} x"#, &[]).is_none());
        assert!(loggable_parameters(br#"{"a":"#, &[]).is_none());
    }

    #[test]
    fn the_text_keeps_the_body_order_escapes_and_logs_a_repeated_name_once() {
        let j = loggable_json(
            br#"{"Z":"a\"\u00e9\n","KeyId":"k","keyId":"again","Plaintext":"cw==","A":[1,-2,0.5]}"#,
            &[],
            None,
        )
        .unwrap();
        assert_eq!(j.as_str(), r#"{"z":"a\"é\n","keyId":"k","a":[1,-2,0.5]}"#);
        let j = loggable_json(br#"{"Plaintext":"cw=="}"#, &[], None).unwrap();
        assert_eq!(j.as_str(), "{}");
        // A name with an escape is read as what it stands for.
        let j = loggable_json(br#"{"K\u0065y":1,"Key":2,"\u00c9t\"":3}"#, &[], None).unwrap();
        assert_eq!(j.as_str(), r#"{"key":1,"ét\"":3}"#);
    }

    #[test]
    fn the_default_member_is_added_only_when_the_request_has_none() {
        let alg = Some(("encryptionAlgorithm", "SYMMETRIC_DEFAULT"));
        let j = loggable_json(br#"{"KeyId":"k"}"#, &[], alg).unwrap();
        assert_eq!(
            j.as_str(),
            r#"{"keyId":"k","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#
        );
        let j = loggable_json(br#"{"Plaintext":"cw=="}"#, &[], alg).unwrap();
        assert_eq!(j.as_str(), r#"{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#);
        // An algorithm the request gave is logged as given.
        let j = loggable_json(br#"{"EncryptionAlgorithm":"RSAES_OAEP_SHA_1"}"#, &[], alg).unwrap();
        assert_eq!(j.to_value()["encryptionAlgorithm"], "RSAES_OAEP_SHA_1");
        // Not at depth.
        let j = loggable_json(br#"{"Tags":[{"TagKey":"a"}]}"#, &[], alg).unwrap();
        assert_eq!(
            j.to_value(),
            serde_json::json!({"tags": [{"tagKey": "a"}], "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
        );
    }
}
