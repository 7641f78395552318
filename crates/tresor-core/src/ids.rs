//! Identifiers at the wire boundary: key references, alias names, ARNs, accounts.

use crate::error::{KmsError, KmsResult};

/// How a request names a key: `KeyId` accepts all four forms where AWS accepts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A bare key id (UUID, or `mrk-` + 32 hex digits).
    Id(String),
    /// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`.
    KeyArn {
        /// Region in the ARN.
        region: String,
        /// Account in the ARN.
        account: String,
        /// Key id.
        id: String,
    },
    /// `alias/NAME` in the caller's account and region.
    Alias(String),
    /// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME`.
    AliasArn {
        /// Region in the ARN.
        region: String,
        /// Account in the ARN.
        account: String,
        /// Full alias name (`alias/...`).
        name: String,
    },
}

impl KeyRef {
    /// Parses a `KeyId` value. Malformed values are `NotFoundException`, as AWS answers.
    pub fn parse(s: &str) -> KmsResult<Self> {
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let invalid = || KmsError::NotFound(crate::messages::invalid_arn(s));
            let [partition, service, region, account, resource] = parts.as_slice() else {
                return Err(invalid());
            };
            if partition.is_empty()
                || *service != "kms"
                || !is_region(region)
                || !is_account(account)
            {
                return Err(invalid());
            }
            if let Some(id) = resource.strip_prefix("key/") {
                if !is_key_id(id) {
                    return Err(invalid());
                }
                return Ok(KeyRef::KeyArn {
                    region: region.to_string(),
                    account: account.to_string(),
                    id: id.to_string(),
                });
            }
            if resource.starts_with("alias/") && resource.len() > "alias/".len() {
                return Ok(KeyRef::AliasArn {
                    region: region.to_string(),
                    account: account.to_string(),
                    name: resource.to_string(),
                });
            }
            return Err(invalid());
        }
        if s.starts_with("alias/") && s.len() > "alias/".len() {
            return Ok(KeyRef::Alias(s.to_string()));
        }
        if is_key_id(s) {
            return Ok(KeyRef::Id(s.to_string()));
        }
        Err(KmsError::NotFound(crate::messages::invalid_key_id(s)))
    }

    /// True for the alias forms.
    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::Alias(_) | KeyRef::AliasArn { .. })
    }
}

/// True for a UUID in canonical lowercase form or a multi-Region id (`mrk-` + 32 hex).
pub fn is_key_id(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("mrk-") {
        return hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    }
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// True for a 12-digit account id.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for something shaped like a region name (`us-east-1`, `eu-central-2`, …).
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// True for a multi-Region key id (`mrk-` + 32 hex digits).
pub fn is_multi_region_id(id: &str) -> bool {
    id.starts_with("mrk-") && is_key_id(id)
}

/// The store's id of key `id` in `region`: a UUID is unique on its own; the records of
/// a multi-Region key share its `mrk-` id, one per Region, so the Region is appended
/// (`mrk-…@us-west-2`). `@` is never part of a KeyId a client can send.
pub fn storage_id(id: &str, region: &str) -> String {
    if id.starts_with("mrk-") {
        format!("{id}@{region}")
    } else {
        id.to_string()
    }
}

/// The KeyId a client sees for a stored key id (the inverse of [`storage_id`]).
pub fn public_id(storage_id: &str) -> &str {
    storage_id.split('@').next().unwrap_or(storage_id)
}

/// True for a UUID in its lowercase hyphenated form (`8-4-4-4-12` lowercase hex digits),
/// the one form [`CompactId`] can read back exactly.
fn is_lower_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// An id in 16 bytes when it is a lowercase hyphenated UUID (key ids, event ids and
/// request ids are), else as text: a compact map key that reads back exactly as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompactId {
    /// The UUID's bytes.
    Uuid([u8; 16]),
    /// Anything else (`mrk-…` ids, `mrk-…@REGION` storage ids).
    Text(Box<str>),
}

impl CompactId {
    /// The compact form of `s`.
    pub fn new(s: &str) -> Self {
        if is_lower_hyphenated_uuid(s) {
            if let Ok(u) = uuid::Uuid::try_parse(s) {
                return CompactId::Uuid(*u.as_bytes());
            }
        }
        CompactId::Text(s.into())
    }

    /// The compact form of a UUID (which reads back lowercase and hyphenated).
    pub fn of_uuid(u: uuid::Uuid) -> Self {
        CompactId::Uuid(u.into_bytes())
    }

    /// The id as it was given.
    pub fn text(&self) -> String {
        match self {
            CompactId::Uuid(b) => uuid::Uuid::from_bytes(*b).hyphenated().to_string(),
            CompactId::Text(t) => t.to_string(),
        }
    }

    /// What it owns on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            CompactId::Uuid(_) => 0,
            CompactId::Text(t) => t.len(),
        }
    }
}

/// The ARN of a stored key (its public id in its region).
pub fn stored_key_arn(region: &str, account: &str, storage_id: &str) -> String {
    key_arn(region, account, public_id(storage_id))
}

/// The ARN of a key.
pub fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{key_id}")
}

/// The ARN of an alias (`name` includes `alias/`).
pub fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}

/// The ARN of an account's root principal.
pub fn account_root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// Checks an alias name for CreateAlias / UpdateAlias / DeleteAlias beyond the model's
/// constraints (length and pattern, checked before the operation runs): the `alias/`
/// prefix and the reserved `alias/aws/`.
pub fn validate_alias_name(name: &str, creating: bool) -> KmsResult<()> {
    if !name.starts_with("alias/") || name.len() == "alias/".len() {
        return Err(KmsError::Validation(crate::messages::ALIAS_PREFIX.into()));
    }
    if creating && name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(
            "Cannot create or change an alias with the reserved prefix alias/aws/".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn compact_ids_read_back_exactly_as_given() {
        let u = uuid::Uuid::new_v4();
        let lower = u.hyphenated().to_string();
        assert!(matches!(CompactId::new(&lower), CompactId::Uuid(_)));
        assert_eq!(CompactId::new(&lower), CompactId::of_uuid(u));
        for s in [
            lower.clone(),
            lower.to_uppercase(),
            u.simple().to_string(),
            format!("{{{lower}}}"),
            "mrk-1234abcd12ab34cd56ef1234567890ab@us-west-2".to_string(),
            "1234abcd-12ab-34cd-56ef-1234567890ag".to_string(),
            "1234abcd+12ab-34cd-56ef-1234567890ab".to_string(),
            String::new(),
        ] {
            let c = CompactId::new(&s);
            assert_eq!(c.text(), s);
            assert_eq!(matches!(c, CompactId::Uuid(_)), s == lower, "{s}");
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(KeyRef::parse(ID).unwrap(), KeyRef::Id(ID.into()));
        assert_eq!(
            KeyRef::parse(&format!("arn:aws:kms:us-east-1:111122223333:key/{ID}")).unwrap(),
            KeyRef::KeyArn {
                region: "us-east-1".into(),
                account: "111122223333".into(),
                id: ID.into()
            }
        );
        assert_eq!(
            KeyRef::parse("alias/x").unwrap(),
            KeyRef::Alias("alias/x".into())
        );
        assert_eq!(
            KeyRef::parse("arn:aws:kms:us-east-1:111122223333:alias/x").unwrap(),
            KeyRef::AliasArn {
                region: "us-east-1".into(),
                account: "111122223333".into(),
                name: "alias/x".into()
            }
        );
        assert!(KeyRef::parse("mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "nope",
            "alias/",
            "arn:aws:kms:us-east-1:1111:key/x",
            "arn:aws:s3:us-east-1:111122223333:key/x",
            "arn:aws:kms:us-east-1:111122223333:key/not-a-uuid",
            "1234ABCD-12AB-34CD-56EF-1234567890AB",
        ] {
            assert!(
                matches!(KeyRef::parse(bad), Err(KmsError::NotFound(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn storage_ids_keep_regions_apart_and_round_trip() {
        let mrk = "mrk-1234abcd12ab34cd56ef1234567890ab";
        assert_eq!(storage_id(ID, "eu-west-1"), ID);
        assert_eq!(storage_id(mrk, "eu-west-1"), format!("{mrk}@eu-west-1"));
        assert_ne!(storage_id(mrk, "eu-west-1"), storage_id(mrk, "us-east-1"));
        assert_eq!(public_id(&storage_id(mrk, "eu-west-1")), mrk);
        assert_eq!(public_id(ID), ID);
        // A client cannot name a storage id directly.
        assert!(KeyRef::parse(&storage_id(mrk, "eu-west-1")).is_err());
        assert!(is_multi_region_id(mrk));
        assert!(!is_multi_region_id(ID));
    }

    #[test]
    fn alias_names() {
        assert!(validate_alias_name("alias/ok_name-1:/x", true).is_ok());
        assert!(matches!(
            validate_alias_name("noprefix", true),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            validate_alias_name("alias/aws/x", true),
            Err(KmsError::NotAuthorized(_))
        ));
    }
}
