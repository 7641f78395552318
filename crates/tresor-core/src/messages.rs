//! AWS's wording: the one table of error messages whose AWS text is known
//! (`docs/api-coverage.md` and the shared reference `aws-error-messages.md` list the
//! sources). Operations build their messages here rather than with their own `format!`, so
//! the text cannot drift between operations; the tests below pin every entry verbatim.
//!
//! Where AWS sends no message at all (InvalidCiphertextException, KMSInvalidSignatureException,
//! KMSInvalidMacException, UnsupportedOperationException for rotating a non-symmetric key)
//! the error carries [`NONE`], which the wire layer leaves out of the body.

use std::fmt::Display;

/// No message: the error body has no `message` member.
pub const NONE: String = String::new();

/// DryRunOperationException.
pub const DRY_RUN: &str = "The request would have succeeded, but the DryRun option is set.";

/// IncorrectKeyException: the ciphertext (or key material) belongs to another key.
pub const INCORRECT_KEY: &str =
    "The key ID in the request does not identify a CMK that can perform this operation.";

/// TagException: the same tag key twice in one request.
pub const DUPLICATE_TAG_KEYS: &str = "Duplicate tag keys";
/// TagException: a tag key starting with `aws:` in any letter case.
pub const RESERVED_TAG_PREFIX: &str = "Tags beginning with aws: are reserved";
/// TagException: more than 50 tags on a key.
pub const TOO_MANY_TAGS: &str = "Too many tags";
/// AccessDeniedException: CreateKey (or ReplicateKey) with Tags, without kms:TagResource
/// (AWS's answer as quoted in a public issue report, 2022).
pub const TAG_RESOURCE_AT_CREATION: &str =
    "You don't have the kms:TagResource permission that is required to add tags during key creation.";

/// ValidationException: GenerateRandom without NumberOfBytes.
pub const NUMBER_OF_BYTES_REQUIRED: &str = "NumberOfBytes is required.";
/// ValidationException: ImportKeyMaterial, KEY_MATERIAL_EXPIRES without ValidTo.
pub const VALID_TO_REQUIRED: &str =
    "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES";
/// ValidationException: an alias name without the `alias/` prefix.
pub const ALIAS_PREFIX: &str = "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html";
/// ValidationException: CreateKey with an HMAC or asymmetric KeySpec and no KeyUsage.
pub const KEY_USAGE_REQUIRED: &str =
    "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.";

/// DisabledException / KMSInvalidStateException: `<key-arn> is disabled.`
pub fn disabled(arn: &str) -> String {
    format!("{arn} is disabled.")
}

/// KMSInvalidStateException: `<key-arn> is pending deletion.`
pub fn pending_deletion(arn: &str) -> String {
    format!("{arn} is pending deletion.")
}

/// KMSInvalidStateException: `<key-arn> is pending import.`
pub fn pending_import(arn: &str) -> String {
    format!("{arn} is pending import.")
}

/// KMSInvalidStateException for the states AWS's wording is not recorded for, in the same
/// form (`<key-arn> is unavailable.`, `is creating.`, `is updating.`).
pub fn in_state(arn: &str, state_words: &str) -> String {
    format!("{arn} is {state_words}.")
}

/// InvalidKeyUsageException: `<key-arn> key usage is <USAGE> which is not valid for <Op>.`
pub fn invalid_key_usage(arn: &str, usage: impl Display, operation: &str) -> String {
    format!("{arn} key usage is {usage} which is not valid for {operation}.")
}

/// InvalidKeyUsageException: a MAC algorithm that is not the HMAC key's.
pub fn mac_algorithm_mismatch(algorithm: impl Display, spec: impl Display) -> String {
    format!("Algorithm {algorithm} is incompatible with key spec {spec}.")
}

/// KMSInvalidStateException: RotateKeyOnDemand of an imported key with no pending material.
pub fn no_pending_rotation_material(arn: &str) -> String {
    format!("No available key material pending rotation for the key: {arn}.")
}

/// KMSInvalidStateException: a second NEW_KEY_MATERIAL import while one is pending.
pub fn another_material_pending(new_id: &str, key_id: &str, pending_id: &str) -> String {
    format!(
        "New key material (id: {new_id}) cannot be imported into KMS key {key_id}, because another key material (id: {pending_id}) is pending rotation."
    )
}

/// LimitExceededException: the on-demand rotation limit.
pub fn on_demand_rotation_limit(arn: &str) -> String {
    format!(
        "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {arn}"
    )
}

/// NotFoundException: `Key '<key-arn>' does not exist`.
pub fn key_not_found(arn: &str) -> String {
    format!("Key '{arn}' does not exist")
}

/// NotFoundException: a KeyId that is no UUID, mrk- id, ARN or alias (as given).
pub fn invalid_key_id(id: &str) -> String {
    format!("Invalid keyId '{id}'")
}

/// NotFoundException: a key ARN naming another Region (or a malformed ARN).
pub fn invalid_arn(what: &str) -> String {
    format!("Invalid arn {what}")
}

/// UnsupportedOperationException: an operation that needs another origin.
pub fn origin_not_valid(arn: &str, origin: impl Display) -> String {
    format!("{arn} origin is {origin} which is not valid for this operation.")
}

/// UnsupportedOperationException: ReplicateKey / UpdatePrimaryRegion of a replica.
pub fn not_multi_region_primary(arn: &str) -> String {
    format!("{arn} is not a multi-region primary key.")
}

/// ValidationException: RSA-OAEP plaintext over the limit of the key size and hash.
pub fn rsa_plaintext_too_large(algorithm: impl Display, spec: impl Display, max: usize) -> String {
    format!(
        "Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {max} bytes."
    )
}

/// ValidationException: a DIGEST message of the wrong length.
pub fn digest_length(algorithm: impl Display) -> String {
    format!("Digest is invalid length for algorithm {algorithm}.")
}

/// ValidationException: CreateKey with a KeyUsage the KeySpec does not allow.
pub fn key_usage_not_compatible(usage: impl Display, spec: impl Display) -> String {
    format!("KeyUsage {usage} is not compatible with KeySpec {spec}")
}

/// Why a request was denied (the tail of AWS's AccessDeniedException message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// No statement of the key policy allows the action.
    NoResourcePolicyAllows,
    /// No statement of the caller's IAM policies allows the action.
    NoIdentityPolicyAllows,
    /// A Deny statement of the key policy matched.
    ExplicitDenyInResourcePolicy,
    /// A Deny statement of the caller's IAM policies matched.
    ExplicitDenyInIdentityPolicy,
}

/// AccessDeniedException: `User: <caller> is not authorized to perform: <kms:Action> on
/// resource: <arn> <reason>`.
pub fn access_denied(caller: &str, action: &str, resource: &str, reason: DenyReason) -> String {
    let why = match reason {
        DenyReason::NoResourcePolicyAllows => {
            format!("because no resource-based policy allows the {action} action")
        }
        DenyReason::NoIdentityPolicyAllows => {
            format!("because no identity-based policy allows the {action} action")
        }
        DenyReason::ExplicitDenyInResourcePolicy => {
            "with an explicit deny in a resource-based policy".to_string()
        }
        DenyReason::ExplicitDenyInIdentityPolicy => {
            "with an explicit deny in an identity-based policy".to_string()
        }
    };
    format!("User: {caller} is not authorized to perform: {action} on resource: {resource} {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// Every row of AWS's recorded wording, verbatim.
    #[test]
    fn every_message_reads_as_aws_writes_it() {
        let cases: Vec<(String, String)> = vec![
            (disabled(ARN), format!("{ARN} is disabled.")),
            (
                DRY_RUN.into(),
                "The request would have succeeded, but the DryRun option is set.".into(),
            ),
            (
                INCORRECT_KEY.into(),
                "The key ID in the request does not identify a CMK that can perform this operation.".into(),
            ),
            (
                invalid_key_usage(ARN, "SIGN_VERIFY", "Encrypt"),
                format!("{ARN} key usage is SIGN_VERIFY which is not valid for Encrypt."),
            ),
            (
                mac_algorithm_mismatch("HMAC_SHA_256", "HMAC_224"),
                "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.".into(),
            ),
            (pending_import(ARN), format!("{ARN} is pending import.")),
            (pending_deletion(ARN), format!("{ARN} is pending deletion.")),
            (
                no_pending_rotation_material(ARN),
                format!("No available key material pending rotation for the key: {ARN}."),
            ),
            (
                another_material_pending("a1", "k1", "p1"),
                "New key material (id: a1) cannot be imported into KMS key k1, because another key material (id: p1) is pending rotation.".into(),
            ),
            (
                on_demand_rotation_limit(ARN),
                format!("The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {ARN}"),
            ),
            (key_not_found(ARN), format!("Key '{ARN}' does not exist")),
            (invalid_key_id("nope"), "Invalid keyId 'nope'".into()),
            (invalid_arn("eu-west-1"), "Invalid arn eu-west-1".into()),
            (DUPLICATE_TAG_KEYS.into(), "Duplicate tag keys".into()),
            (
                RESERVED_TAG_PREFIX.into(),
                "Tags beginning with aws: are reserved".into(),
            ),
            (TOO_MANY_TAGS.into(), "Too many tags".into()),
            (
                origin_not_valid(ARN, "AWS_KMS"),
                format!("{ARN} origin is AWS_KMS which is not valid for this operation."),
            ),
            (
                origin_not_valid(ARN, "EXTERNAL"),
                format!("{ARN} origin is EXTERNAL which is not valid for this operation."),
            ),
            (
                not_multi_region_primary(ARN),
                format!("{ARN} is not a multi-region primary key."),
            ),
            (NUMBER_OF_BYTES_REQUIRED.into(), "NumberOfBytes is required.".into()),
            (
                VALID_TO_REQUIRED.into(),
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into(),
            ),
            (
                rsa_plaintext_too_large("RSAES_OAEP_SHA_256", "RSA_2048", 190),
                "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.".into(),
            ),
            (
                ALIAS_PREFIX.into(),
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".into(),
            ),
            (
                digest_length("ECDSA_SHA_256"),
                "Digest is invalid length for algorithm ECDSA_SHA_256.".into(),
            ),
            (
                key_usage_not_compatible("KEY_AGREEMENT", "RSA_2048"),
                "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048".into(),
            ),
            (
                KEY_USAGE_REQUIRED.into(),
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.".into(),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert!(NONE.is_empty());
    }

    #[test]
    fn access_denied_forms() {
        let caller = "arn:aws:iam::111122223333:user/alice";
        let pre =
            format!("User: {caller} is not authorized to perform: kms:Decrypt on resource: {ARN} ");
        for (reason, tail) in [
            (
                DenyReason::NoResourcePolicyAllows,
                "because no resource-based policy allows the kms:Decrypt action",
            ),
            (
                DenyReason::NoIdentityPolicyAllows,
                "because no identity-based policy allows the kms:Decrypt action",
            ),
            (
                DenyReason::ExplicitDenyInResourcePolicy,
                "with an explicit deny in a resource-based policy",
            ),
            (
                DenyReason::ExplicitDenyInIdentityPolicy,
                "with an explicit deny in an identity-based policy",
            ),
        ] {
            assert_eq!(
                access_denied(caller, "kms:Decrypt", ARN, reason),
                format!("{pre}{tail}")
            );
        }
    }
}
