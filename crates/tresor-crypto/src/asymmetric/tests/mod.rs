//! Tests of the asymmetric and HMAC keys. Keys are generated once per spec and shared
//! (RSA-4096 generation is slow in debug builds).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;
use aws_lc_rs::digest;

use AsymmetricSpec as S;
use MessageKind as K;
use SigningAlgorithm as A;

const ALL_SPECS: [AsymmetricSpec; 14] = [
    S::Rsa2048,
    S::Rsa3072,
    S::Rsa4096,
    S::EccNistP256,
    S::EccNistP384,
    S::EccNistP521,
    S::EccSecgP256k1,
    S::Ed25519,
    S::MlDsa44,
    S::MlDsa65,
    S::MlDsa87,
    S::MlKem512,
    S::MlKem768,
    S::MlKem1024,
];

const ALL_ALGS: [SigningAlgorithm; 12] = [
    A::RsassaPssSha256,
    A::RsassaPssSha384,
    A::RsassaPssSha512,
    A::RsassaPkcs1V15Sha256,
    A::RsassaPkcs1V15Sha384,
    A::RsassaPkcs1V15Sha512,
    A::EcdsaSha256,
    A::EcdsaSha384,
    A::EcdsaSha512,
    A::Ed25519Sha512,
    A::Ed25519PhSha512,
    A::MlDsaShake256,
];

const RSA_SPECS: [AsymmetricSpec; 3] = [S::Rsa2048, S::Rsa3072, S::Rsa4096];
const ECDH_SPECS: [AsymmetricSpec; 3] = [S::EccNistP256, S::EccNistP384, S::EccNistP521];
const MLKEM_SPECS: [AsymmetricSpec; 3] = [S::MlKem512, S::MlKem768, S::MlKem1024];

#[allow(clippy::declare_interior_mutable_const)]
const UNSET: OnceLock<PrivateKey> = OnceLock::new();
static KEYS: [OnceLock<PrivateKey>; 14] = [UNSET; 14];

/// One generated key per spec, shared by all tests.
fn key(spec: AsymmetricSpec) -> &'static PrivateKey {
    let i = ALL_SPECS.iter().position(|s| *s == spec).unwrap();
    KEYS[i].get_or_init(|| PrivateKey::generate(spec).unwrap())
}

/// The KMS-allowed signing algorithms of `spec`.
fn allowed(spec: AsymmetricSpec) -> Vec<SigningAlgorithm> {
    match spec {
        S::Rsa2048 | S::Rsa3072 | S::Rsa4096 => RSA_ALGORITHMS.to_vec(),
        S::EccNistP256 | S::EccSecgP256k1 => vec![A::EcdsaSha256],
        S::EccNistP384 => vec![A::EcdsaSha384],
        S::EccNistP521 => vec![A::EcdsaSha512],
        S::Ed25519 => vec![A::Ed25519Sha512, A::Ed25519PhSha512],
        S::MlDsa44 | S::MlDsa65 | S::MlDsa87 => vec![A::MlDsaShake256],
        S::MlKem512 | S::MlKem768 | S::MlKem1024 => vec![],
    }
}

fn hash_of(alg: SigningAlgorithm) -> &'static digest::Algorithm {
    alg.hash().unwrap()
}

fn is_invalid_input<T: std::fmt::Debug>(r: Result<T, CryptoError>) -> bool {
    matches!(r, Err(CryptoError::InvalidInput(_)))
}

fn is_invalid_key<T: std::fmt::Debug>(r: Result<T, CryptoError>) -> bool {
    matches!(r, Err(CryptoError::InvalidKey(_)))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Generation, PKCS#8 and SPKI.
// ---------------------------------------------------------------------------------------

#[test]
fn pkcs8_and_spki_round_trip_for_every_spec() {
    for spec in ALL_SPECS {
        let k = key(spec);
        assert_eq!(k.spec(), spec);
        let public = k.public_key().unwrap();
        // The SPKI names the spec's algorithm (and curve).
        spec.check_spki(public.spki(), "test").unwrap();

        let again = PrivateKey::from_pkcs8(spec, k.pkcs8()).unwrap();
        assert_eq!(again.pkcs8(), k.pkcs8(), "{spec:?}");
        assert_eq!(
            again.public_key().unwrap().spki(),
            public.spki(),
            "{spec:?}"
        );

        let parsed = PublicKey::from_spki(spec, public.spki()).unwrap();
        assert_eq!(parsed.spki(), public.spki());

        // A key of another spec is rejected, both halves.
        for other in ALL_SPECS {
            if other == spec {
                continue;
            }
            assert!(
                is_invalid_key(PrivateKey::from_pkcs8(other, k.pkcs8())),
                "{spec:?} PKCS#8 accepted as {other:?}"
            );
            assert!(
                is_invalid_key(PublicKey::from_spki(other, public.spki())),
                "{spec:?} SPKI accepted as {other:?}"
            );
        }
    }
}

#[test]
fn imported_pkcs8_keeps_working_across_instances() {
    for spec in [
        S::Rsa2048,
        S::EccNistP256,
        S::Ed25519,
        S::MlDsa44,
        S::MlKem768,
    ] {
        let k = key(spec);
        let imported = PrivateKey::from_pkcs8(spec, k.pkcs8()).unwrap();
        let public = k.public_key().unwrap();
        if let Some(&alg) = allowed(spec).first() {
            let sig = imported.sign(alg, K::Raw, b"imported").unwrap();
            assert!(public.verify(alg, K::Raw, b"imported", &sig).unwrap());
        } else {
            let (ct, ss) = public.encapsulate().unwrap();
            assert_eq!(imported.decapsulate(&ct).unwrap(), ss);
        }
    }
}

#[test]
fn malformed_keys_are_rejected() {
    for spec in ALL_SPECS {
        for junk in [
            &b""[..],
            b"\x30\x00",
            b"not a key at all",
            &[0x30, 0x82, 0xff, 0xff],
        ] {
            assert!(is_invalid_key(PrivateKey::from_pkcs8(
                spec,
                &SecretBytes::from_slice(junk)
            )));
            assert!(is_invalid_key(PublicKey::from_spki(spec, junk)));
        }
        // Trailing garbage after a valid SPKI.
        let mut spki = key(spec).public_key().unwrap().spki().to_vec();
        spki.push(0);
        assert!(
            is_invalid_key(PublicKey::from_spki(spec, &spki)),
            "{spec:?}"
        );
    }
}

#[test]
fn rsa_pkcs1_public_key_is_not_an_spki() {
    let public = key(S::Rsa2048).public_key().unwrap();
    let parsed = der::parse_spki(public.spki()).unwrap();
    // The BIT STRING holds the PKCS#1 RSAPublicKey, which is not itself an SPKI.
    assert!(is_invalid_key(PublicKey::from_spki(S::Rsa2048, parsed.key)));
}

#[test]
fn debug_output_is_redacted() {
    for spec in [S::Rsa2048, S::EccNistP256, S::MlKem512] {
        let shown = format!("{:?}", key(spec));
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(shown.len() < 64, "{shown}");
    }
    let h =
        HmacKey::from_material(HmacAlgorithm::Sha256, SecretBytes::from_slice(b"Jefe")).unwrap();
    let shown = format!("{h:?}");
    assert!(
        shown.contains("REDACTED") && !shown.contains("Jefe"),
        "{shown}"
    );
}

#[test]
fn keys_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PrivateKey>();
    check::<PublicKey>();
    check::<HmacKey>();
}

// ---------------------------------------------------------------------------------------
// Signing.
// ---------------------------------------------------------------------------------------

fn flip(sig: &[u8], at: usize) -> Vec<u8> {
    let mut bad = sig.to_vec();
    let i = at % bad.len();
    bad[i] ^= 0x01;
    bad
}

#[test]
fn sign_verify_raw_for_every_pairing() {
    let msg = b"the quick brown fox";
    for spec in ALL_SPECS {
        let k = key(spec);
        let public = k.public_key().unwrap();
        for alg in allowed(spec) {
            if alg == A::Ed25519PhSha512 {
                continue; // DIGEST only: tests/prehash.rs.
            }
            let sig = k.sign(alg, K::Raw, msg).unwrap();
            assert!(
                public.verify(alg, K::Raw, msg, &sig).unwrap(),
                "{spec:?} {alg:?}"
            );
            // Verifying with a fresh PublicKey parsed from the SPKI works too.
            let parsed = PublicKey::from_spki(spec, public.spki()).unwrap();
            assert!(parsed.verify(alg, K::Raw, msg, &sig).unwrap());
            // Tampering: signature (start, middle, end), message, truncation, junk.
            for at in [0, sig.len() / 2, sig.len() - 1] {
                assert!(
                    !public.verify(alg, K::Raw, msg, &flip(&sig, at)).unwrap(),
                    "{spec:?} {alg:?} flipped at {at}"
                );
            }
            assert!(!public
                .verify(alg, K::Raw, b"another message", &sig)
                .unwrap());
            assert!(!public
                .verify(alg, K::Raw, msg, &sig[..sig.len() - 1])
                .unwrap());
            assert!(!public.verify(alg, K::Raw, msg, &[]).unwrap());
            assert!(!public
                .verify(alg, K::Raw, msg, &[0x30, 0x03, 0x02])
                .unwrap());
            // Empty messages are signable.
            let empty = k.sign(alg, K::Raw, b"").unwrap();
            assert!(public.verify(alg, K::Raw, b"", &empty).unwrap());
        }
    }
}

#[test]
fn sign_verify_digest_for_every_rsa_and_ecdsa_pairing() {
    let msg = b"digest me";
    for spec in ALL_SPECS {
        let k = key(spec);
        let public = k.public_key().unwrap();
        for alg in allowed(spec) {
            let Some(hash) = alg.hash() else { continue };
            if alg == A::Ed25519PhSha512 {
                continue;
            }
            let d = digest::digest(hash, msg);
            let sig = k.sign(alg, K::Digest, d.as_ref()).unwrap();
            assert!(public.verify(alg, K::Digest, d.as_ref(), &sig).unwrap());
            // DIGEST and RAW describe the same signed value.
            assert!(
                public.verify(alg, K::Raw, msg, &sig).unwrap(),
                "{spec:?} {alg:?}"
            );
            let raw_sig = k.sign(alg, K::Raw, msg).unwrap();
            assert!(public.verify(alg, K::Digest, d.as_ref(), &raw_sig).unwrap());
            // A different digest fails; a tampered signature fails.
            let other = digest::digest(hash, b"other");
            assert!(!public.verify(alg, K::Digest, other.as_ref(), &sig).unwrap());
            assert!(!public
                .verify(alg, K::Digest, d.as_ref(), &flip(&sig, 7))
                .unwrap());
        }
    }
}

#[test]
fn every_wrong_digest_length_is_invalid_input() {
    for spec in ALL_SPECS {
        let k = key(spec);
        let public = k.public_key().unwrap();
        for alg in allowed(spec) {
            let Some(hash) = alg.hash() else { continue };
            let good = hash.output_len();
            for len in [0, 1, 20, 28, 32, 48, 64, 65, good - 1, good + 1] {
                if len == good {
                    continue;
                }
                let data = vec![0xa5; len];
                assert!(
                    is_invalid_input(k.sign(alg, K::Digest, &data)),
                    "{spec:?} {alg:?} digest of {len}"
                );
                assert!(is_invalid_input(public.verify(
                    alg,
                    K::Digest,
                    &data,
                    &[0; 64]
                )));
            }
        }
    }
}

#[test]
fn pairing_errors_are_invalid_input() {
    for spec in ALL_SPECS {
        let k = key(spec);
        let public = k.public_key().unwrap();
        let ok = allowed(spec);
        for alg in ALL_ALGS {
            if ok.contains(&alg) {
                continue;
            }
            for kind in [K::Raw, K::Digest, K::ExternalMu] {
                let data = vec![0u8; alg.hash().map_or(64, digest::Algorithm::output_len)];
                assert!(
                    is_invalid_input(k.sign(alg, kind, &data)),
                    "{spec:?} {alg:?} {kind:?}"
                );
                assert!(is_invalid_input(public.verify(alg, kind, &data, &[0; 64])));
            }
        }
    }
}

#[test]
fn kms_pairing_matrix_for_ecdsa() {
    // KMS: P-256 and secp256k1 use SHA-256, P-384 SHA-384, P-521 SHA-512 only.
    for (spec, alg) in [
        (S::EccNistP256, A::EcdsaSha384),
        (S::EccNistP256, A::EcdsaSha512),
        (S::EccNistP384, A::EcdsaSha256),
        (S::EccNistP384, A::EcdsaSha512),
        (S::EccNistP521, A::EcdsaSha256),
        (S::EccNistP521, A::EcdsaSha384),
        (S::EccSecgP256k1, A::EcdsaSha384),
        (S::EccSecgP256k1, A::EcdsaSha512),
    ] {
        assert!(
            is_invalid_input(key(spec).sign(alg, K::Raw, b"m")),
            "{spec:?} {alg:?}"
        );
    }
}

#[test]
fn message_kind_errors() {
    let ed = key(S::Ed25519);
    let ed_pub = ed.public_key().unwrap();
    // ED25519_SHA_512 signs RAW messages only.
    let d = digest::digest(&digest::SHA512, b"m");
    assert!(is_invalid_input(ed.sign(
        A::Ed25519Sha512,
        K::Digest,
        d.as_ref()
    )));
    assert!(is_invalid_input(ed.sign(
        A::Ed25519Sha512,
        K::ExternalMu,
        &[0; 64]
    )));
    assert!(is_invalid_input(ed_pub.verify(
        A::Ed25519Sha512,
        K::Digest,
        d.as_ref(),
        &[0; 64]
    )));
    // ED25519_PH_SHA_512 takes DIGEST only, of 64 bytes.
    assert!(is_invalid_input(ed.sign(A::Ed25519PhSha512, K::Raw, b"m")));
    assert!(is_invalid_input(ed.sign(
        A::Ed25519PhSha512,
        K::Digest,
        &[0; 32]
    )));
    // RSA / ECDSA: no EXTERNAL_MU.
    for spec in [S::Rsa2048, S::EccNistP256] {
        let alg = allowed(spec)[0];
        assert!(is_invalid_input(key(spec).sign(
            alg,
            K::ExternalMu,
            &[0; 64]
        )));
    }
    // ML-DSA: DIGEST is not a thing; μ must be 64 bytes.
    let ml = key(S::MlDsa65);
    assert!(is_invalid_input(ml.sign(
        A::MlDsaShake256,
        K::Digest,
        &[0; 64]
    )));
    assert!(is_invalid_input(ml.sign(
        A::MlDsaShake256,
        K::ExternalMu,
        &[0; 63]
    )));
    assert!(is_invalid_input(ml.sign(
        A::MlDsaShake256,
        K::ExternalMu,
        &[0; 65]
    )));
}

#[test]
fn signature_sizes_and_formats() {
    for spec in RSA_SPECS {
        let k = key(spec);
        let bytes = spec.rsa_bits().unwrap() / 8;
        for alg in RSA_ALGORITHMS {
            assert_eq!(k.sign(alg, K::Raw, b"m").unwrap().len(), bytes);
        }
        // PSS is randomized (salt = hash length), PKCS#1 v1.5 deterministic.
        assert_ne!(
            k.sign(A::RsassaPssSha256, K::Raw, b"m").unwrap(),
            k.sign(A::RsassaPssSha256, K::Raw, b"m").unwrap()
        );
        assert_eq!(
            k.sign(A::RsassaPkcs1V15Sha384, K::Raw, b"m").unwrap(),
            k.sign(A::RsassaPkcs1V15Sha384, K::Raw, b"m").unwrap()
        );
    }
    // ECDSA signatures are DER SEQUENCE { r INTEGER, s INTEGER }.
    for spec in [
        S::EccNistP256,
        S::EccNistP384,
        S::EccNistP521,
        S::EccSecgP256k1,
    ] {
        let k = key(spec);
        let sig = k.sign(allowed(spec)[0], K::Raw, b"m").unwrap();
        let mut r = der::Reader::new(der::single(&sig, der::TAG_SEQUENCE).unwrap());
        r.read(der::TAG_INTEGER).unwrap();
        r.read(der::TAG_INTEGER).unwrap();
        assert!(r.is_empty());
    }
    assert_eq!(
        key(S::Ed25519)
            .sign(A::Ed25519Sha512, K::Raw, b"m")
            .unwrap()
            .len(),
        64
    );
    for (spec, len) in [(S::MlDsa44, 2420), (S::MlDsa65, 3309), (S::MlDsa87, 4627)] {
        assert_eq!(
            key(spec)
                .sign(A::MlDsaShake256, K::Raw, b"m")
                .unwrap()
                .len(),
            len
        );
    }
}

#[test]
fn rsa_pss_salt_is_hash_length() {
    // Verify with aws-lc's verifier pinned to salt = digest length (RSA_PSS_SALTLEN_DIGEST):
    // done implicitly by `verify`. Here: a signature made under one hash does not verify
    // under another, and PSS does not verify as PKCS#1 v1.5.
    let k = key(S::Rsa2048);
    let public = k.public_key().unwrap();
    let sig = k.sign(A::RsassaPssSha256, K::Raw, b"m").unwrap();
    assert!(!public
        .verify(A::RsassaPssSha384, K::Raw, b"m", &sig)
        .unwrap());
    assert!(!public
        .verify(A::RsassaPkcs1V15Sha256, K::Raw, b"m", &sig)
        .unwrap());
}

mod encryption;
mod prehash;
