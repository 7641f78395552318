//! The API's enumerations as types: key specs, usages, states, origins, algorithms.

use crate::error::KmsError;

macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs, non_camel_case_types)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the model's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name as the API spells it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Parses the API spelling; `field` names the member for the error message.
            pub fn parse(s: &str, field: &str) -> Result<Self, KmsError> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(KmsError::Validation(format!(
                        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        s, field, [$($s),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

api_enum!(
    /// KeySpec.
    KeySpec {
        Rsa2048 = "RSA_2048", Rsa3072 = "RSA_3072", Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256", EccNistP384 = "ECC_NIST_P384", EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1", SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224", Hmac256 = "HMAC_256", Hmac384 = "HMAC_384", Hmac512 = "HMAC_512",
        Sm2 = "SM2", MlDsa44 = "ML_DSA_44", MlDsa65 = "ML_DSA_65", MlDsa87 = "ML_DSA_87",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        MlKem512 = "ML_KEM_512", MlKem768 = "ML_KEM_768", MlKem1024 = "ML_KEM_1024",
    }
);

api_enum!(
    /// KeyUsage.
    KeyUsage {
        SignVerify = "SIGN_VERIFY", EncryptDecrypt = "ENCRYPT_DECRYPT",
        GenerateVerifyMac = "GENERATE_VERIFY_MAC", KeyAgreement = "KEY_AGREEMENT",
        EncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE",
    }
);

api_enum!(
    /// KeyState.
    KeyState {
        Creating = "Creating", Enabled = "Enabled", Disabled = "Disabled",
        PendingDeletion = "PendingDeletion", PendingImport = "PendingImport",
        PendingReplicaDeletion = "PendingReplicaDeletion", Unavailable = "Unavailable",
        Updating = "Updating",
    }
);

api_enum!(
    /// Origin.
    Origin {
        AwsKms = "AWS_KMS", External = "EXTERNAL", AwsCloudHsm = "AWS_CLOUDHSM",
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
);

api_enum!(
    /// EncryptionAlgorithmSpec.
    EncryptionAlgorithm {
        SymmetricDefault = "SYMMETRIC_DEFAULT", RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256", Sm2Pke = "SM2PKE",
    }
);

api_enum!(
    /// DataKeySpec.
    DataKeySpec { Aes256 = "AES_256", Aes128 = "AES_128" }
);

impl DataKeySpec {
    /// Length of the data key in bytes.
    pub fn byte_len(self) -> usize {
        match self {
            DataKeySpec::Aes256 => 32,
            DataKeySpec::Aes128 => 16,
        }
    }
}

/// The `CustomerMasterKeySpec` enum lacks the newer specs; for those AWS returns the
/// KeySpec value all the same, which SDKs accept as an unknown enum value.
pub fn customer_master_key_spec(spec: KeySpec) -> &'static str {
    spec.as_str()
}

api_enum!(
    /// SigningAlgorithmSpec.
    SigningAlgorithmSpec {
        RsassaPssSha256 = "RSASSA_PSS_SHA_256", RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        RsassaPssSha512 = "RSASSA_PSS_SHA_512", RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384", RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        EcdsaSha256 = "ECDSA_SHA_256", EcdsaSha384 = "ECDSA_SHA_384", EcdsaSha512 = "ECDSA_SHA_512",
        Sm2Dsa = "SM2DSA", MlDsaShake256 = "ML_DSA_SHAKE_256", Ed25519Sha512 = "ED25519_SHA_512",
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
);

api_enum!(
    /// MessageType.
    MessageType { Raw = "RAW", Digest = "DIGEST", ExternalMu = "EXTERNAL_MU" }
);

api_enum!(
    /// MacAlgorithmSpec.
    MacAlgorithmSpec {
        HmacSha224 = "HMAC_SHA_224", HmacSha256 = "HMAC_SHA_256", HmacSha384 = "HMAC_SHA_384",
        HmacSha512 = "HMAC_SHA_512",
    }
);

api_enum!(
    /// KeyAgreementAlgorithmSpec.
    KeyAgreementAlgorithmSpec { Ecdh = "ECDH" }
);

api_enum!(
    /// EncapsulationAlgorithmSpec.
    EncapsulationAlgorithmSpec { MlKem = "ML_KEM" }
);

api_enum!(
    /// DataKeyPairSpec.
    DataKeyPairSpec {
        Rsa2048 = "RSA_2048", Rsa3072 = "RSA_3072", Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256", EccNistP384 = "ECC_NIST_P384", EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1", Sm2 = "SM2", EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        MlKem512 = "ML_KEM_512", MlKem768 = "ML_KEM_768", MlKem1024 = "ML_KEM_1024",
    }
);

impl DataKeyPairSpec {
    /// The key spec of the same name.
    pub fn key_spec(self) -> KeySpec {
        KeySpec::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == self.as_str())
            .unwrap_or(KeySpec::Sm2)
    }
}

use tresor_crypto::asymmetric::{AsymmetricSpec, HmacAlgorithm, SigningAlgorithm};

impl KeySpec {
    /// The provider's spec for an asymmetric key spec (`None` for symmetric, HMAC, SM2).
    pub fn asymmetric(self) -> Option<AsymmetricSpec> {
        Some(match self {
            KeySpec::Rsa2048 => AsymmetricSpec::Rsa2048,
            KeySpec::Rsa3072 => AsymmetricSpec::Rsa3072,
            KeySpec::Rsa4096 => AsymmetricSpec::Rsa4096,
            KeySpec::EccNistP256 => AsymmetricSpec::EccNistP256,
            KeySpec::EccNistP384 => AsymmetricSpec::EccNistP384,
            KeySpec::EccNistP521 => AsymmetricSpec::EccNistP521,
            KeySpec::EccSecgP256k1 => AsymmetricSpec::EccSecgP256k1,
            KeySpec::EccNistEdwards25519 => AsymmetricSpec::Ed25519,
            KeySpec::MlDsa44 => AsymmetricSpec::MlDsa44,
            KeySpec::MlDsa65 => AsymmetricSpec::MlDsa65,
            KeySpec::MlDsa87 => AsymmetricSpec::MlDsa87,
            KeySpec::MlKem512 => AsymmetricSpec::MlKem512,
            KeySpec::MlKem768 => AsymmetricSpec::MlKem768,
            KeySpec::MlKem1024 => AsymmetricSpec::MlKem1024,
            _ => return None,
        })
    }

    /// The HMAC algorithm of an HMAC key spec.
    pub fn hmac(self) -> Option<(HmacAlgorithm, MacAlgorithmSpec)> {
        Some(match self {
            KeySpec::Hmac224 => (HmacAlgorithm::Sha224, MacAlgorithmSpec::HmacSha224),
            KeySpec::Hmac256 => (HmacAlgorithm::Sha256, MacAlgorithmSpec::HmacSha256),
            KeySpec::Hmac384 => (HmacAlgorithm::Sha384, MacAlgorithmSpec::HmacSha384),
            KeySpec::Hmac512 => (HmacAlgorithm::Sha512, MacAlgorithmSpec::HmacSha512),
            _ => return None,
        })
    }

    /// True for RSA specs.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }

    /// The signing algorithms AWS offers for this spec (for SIGN_VERIFY keys).
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithmSpec] {
        use SigningAlgorithmSpec::*;
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
                RsassaPkcs1V15Sha256,
                RsassaPkcs1V15Sha384,
                RsassaPkcs1V15Sha512,
                RsassaPssSha256,
                RsassaPssSha384,
                RsassaPssSha512,
            ],
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
            KeySpec::EccNistP384 => &[EcdsaSha384],
            KeySpec::EccNistP521 => &[EcdsaSha512],
            KeySpec::EccNistEdwards25519 => &[Ed25519Sha512, Ed25519PhSha512],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
            KeySpec::Sm2 => &[Sm2Dsa],
            _ => &[],
        }
    }

    /// The encryption algorithms AWS offers for this spec (for ENCRYPT_DECRYPT keys).
    pub fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        match self {
            KeySpec::SymmetricDefault => &[EncryptionAlgorithm::SymmetricDefault],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
                EncryptionAlgorithm::RsaesOaepSha1,
                EncryptionAlgorithm::RsaesOaepSha256,
            ],
            KeySpec::Sm2 => &[EncryptionAlgorithm::Sm2Pke],
            _ => &[],
        }
    }
}

impl SigningAlgorithmSpec {
    /// The provider's algorithm (`None` for SM2DSA).
    pub fn provider(self) -> Option<SigningAlgorithm> {
        Some(match self {
            SigningAlgorithmSpec::RsassaPssSha256 => SigningAlgorithm::RsassaPssSha256,
            SigningAlgorithmSpec::RsassaPssSha384 => SigningAlgorithm::RsassaPssSha384,
            SigningAlgorithmSpec::RsassaPssSha512 => SigningAlgorithm::RsassaPssSha512,
            SigningAlgorithmSpec::RsassaPkcs1V15Sha256 => SigningAlgorithm::RsassaPkcs1V15Sha256,
            SigningAlgorithmSpec::RsassaPkcs1V15Sha384 => SigningAlgorithm::RsassaPkcs1V15Sha384,
            SigningAlgorithmSpec::RsassaPkcs1V15Sha512 => SigningAlgorithm::RsassaPkcs1V15Sha512,
            SigningAlgorithmSpec::EcdsaSha256 => SigningAlgorithm::EcdsaSha256,
            SigningAlgorithmSpec::EcdsaSha384 => SigningAlgorithm::EcdsaSha384,
            SigningAlgorithmSpec::EcdsaSha512 => SigningAlgorithm::EcdsaSha512,
            SigningAlgorithmSpec::MlDsaShake256 => SigningAlgorithm::MlDsaShake256,
            SigningAlgorithmSpec::Ed25519Sha512 => SigningAlgorithm::Ed25519Sha512,
            SigningAlgorithmSpec::Ed25519PhSha512 => SigningAlgorithm::Ed25519PhSha512,
            SigningAlgorithmSpec::Sm2Dsa => return None,
        })
    }

    /// Length of the digest a DIGEST message must have (`None` where DIGEST is not offered).
    pub fn digest_len(self) -> Option<usize> {
        use SigningAlgorithmSpec::*;
        match self {
            RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 | Sm2Dsa => Some(32),
            RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => Some(48),
            RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519PhSha512 => Some(64),
            MlDsaShake256 | Ed25519Sha512 => None,
        }
    }
}
