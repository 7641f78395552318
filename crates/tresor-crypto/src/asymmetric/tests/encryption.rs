//! RSA-OAEP, ECDH, ML-KEM and HMAC tests.

use super::*;

// ---------------------------------------------------------------------------------------
// RSA-OAEP.
// ---------------------------------------------------------------------------------------

#[test]
fn oaep_round_trip_and_kms_size_limits() {
    let limits = [
        (S::Rsa2048, OaepHash::Sha1, 214),
        (S::Rsa3072, OaepHash::Sha1, 342),
        (S::Rsa4096, OaepHash::Sha1, 470),
        (S::Rsa2048, OaepHash::Sha256, 190),
        (S::Rsa3072, OaepHash::Sha256, 318),
        (S::Rsa4096, OaepHash::Sha256, 446),
    ];
    for (spec, hash, max) in limits {
        let k = key(spec);
        let public = k.public_key().unwrap();
        for len in [0, 1, 32, max] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ct = public.encrypt(hash, &pt).unwrap();
            assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
            assert_eq!(k.decrypt(hash, &ct).unwrap().expose(), pt.as_slice());
        }
        assert!(
            is_invalid_input(public.encrypt(hash, &vec![0; max + 1])),
            "{spec:?} {hash:?}"
        );
        let ct = public.encrypt(hash, b"secret").unwrap();
        // Wrong hash, tampered, truncated, empty: all Unauthentic.
        let other = if hash == OaepHash::Sha1 {
            OaepHash::Sha256
        } else {
            OaepHash::Sha1
        };
        assert_eq!(k.decrypt(other, &ct), Err(CryptoError::Unauthentic));
        assert_eq!(
            k.decrypt(hash, &flip(&ct, 10)),
            Err(CryptoError::Unauthentic)
        );
        assert_eq!(k.decrypt(hash, &ct[1..]), Err(CryptoError::Unauthentic));
        assert_eq!(k.decrypt(hash, &[]), Err(CryptoError::Unauthentic));
    }
}

#[test]
fn oaep_is_rsa_only() {
    for spec in [S::EccNistP256, S::Ed25519, S::MlDsa44, S::MlKem512] {
        let k = key(spec);
        assert!(is_invalid_input(k.decrypt(OaepHash::Sha256, &[0; 256])));
        assert!(is_invalid_input(
            k.public_key().unwrap().encrypt(OaepHash::Sha256, b"x")
        ));
    }
}

// ---------------------------------------------------------------------------------------
// ECDH.
// ---------------------------------------------------------------------------------------

#[test]
fn ecdh_agrees_both_ways() {
    for (spec, len) in ECDH_SPECS.into_iter().zip([32, 48, 66]) {
        let a = key(spec);
        let b = PrivateKey::generate(spec).unwrap();
        let a_pub = a.public_key().unwrap();
        let b_pub = b.public_key().unwrap();
        let ab = a.agree(b_pub.spki()).unwrap();
        let ba = b.agree(a_pub.spki()).unwrap();
        assert_eq!(ab, ba, "{spec:?}");
        assert_eq!(ab.len(), len);
        // A key from PKCS#8 agrees the same.
        let a2 = PrivateKey::from_pkcs8(spec, a.pkcs8()).unwrap();
        assert_eq!(a2.agree(b_pub.spki()).unwrap(), ab);
        // Different peers, different secrets.
        let c = PrivateKey::generate(spec).unwrap();
        assert_ne!(a.agree(c.public_key().unwrap().spki()).unwrap(), ab);
    }
}

#[test]
fn ecdh_rejects_wrong_curves_and_malformed_keys() {
    for spec in ECDH_SPECS {
        let k = key(spec);
        for other in [
            S::EccNistP256,
            S::EccNistP384,
            S::EccNistP521,
            S::EccSecgP256k1,
            S::Ed25519,
            S::Rsa2048,
            S::MlKem512,
        ] {
            if other == spec {
                continue;
            }
            let peer = key(other).public_key().unwrap();
            assert!(
                is_invalid_key(k.agree(peer.spki())),
                "{spec:?} with {other:?}"
            );
        }
        let own = k.public_key().unwrap();
        let parsed = der::parse_spki(own.spki()).unwrap();
        // A bare SEC1 point is not an SPKI.
        assert!(is_invalid_key(k.agree(parsed.key)));
        // A point that is not on the curve.
        let mut off_curve = own.spki().to_vec();
        let n = off_curve.len();
        off_curve[n - 1] ^= 0x01;
        assert!(is_invalid_key(k.agree(&off_curve)));
        assert!(is_invalid_key(k.agree(b"")));
        assert!(is_invalid_key(k.agree(b"\x30\x03\x02\x01\x00")));
    }
}

#[test]
fn ecdh_is_for_nist_curves_only() {
    let peer = key(S::EccNistP256).public_key().unwrap();
    for spec in [
        S::EccSecgP256k1,
        S::Ed25519,
        S::Rsa2048,
        S::MlDsa44,
        S::MlKem768,
    ] {
        assert!(is_invalid_input(key(spec).agree(peer.spki())), "{spec:?}");
    }
}

// ---------------------------------------------------------------------------------------
// ML-KEM.
// ---------------------------------------------------------------------------------------

#[test]
fn mlkem_round_trip() {
    for (spec, ct_len) in MLKEM_SPECS.into_iter().zip([768, 1088, 1568]) {
        let k = key(spec);
        let public = k.public_key().unwrap();
        let (ct, ss) = public.encapsulate().unwrap();
        assert_eq!(ct.len(), ct_len, "{spec:?}");
        assert_eq!(ss.len(), 32);
        assert_eq!(k.decapsulate(&ct).unwrap(), ss);
        // Through the encodings.
        let k2 = PrivateKey::from_pkcs8(spec, k.pkcs8()).unwrap();
        let p2 = PublicKey::from_spki(spec, public.spki()).unwrap();
        assert_eq!(k2.decapsulate(&ct).unwrap(), ss);
        let (ct2, ss2) = p2.encapsulate().unwrap();
        assert_ne!(ct2, ct);
        assert_eq!(k.decapsulate(&ct2).unwrap(), ss2);
    }
}

#[test]
fn mlkem_implicit_rejection_and_length_errors() {
    for spec in MLKEM_SPECS {
        let k = key(spec);
        let (ct, ss) = k.public_key().unwrap().encapsulate().unwrap();
        let bogus = flip(&ct, 100);
        let r1 = k.decapsulate(&bogus).unwrap();
        let r2 = k.decapsulate(&bogus).unwrap();
        assert_eq!(r1.len(), 32);
        assert_ne!(r1, ss, "{spec:?}");
        assert_eq!(r1, r2, "implicit rejection is deterministic");
        // Another key's ciphertext: also a pseudo-random secret, no error.
        let other = PrivateKey::generate(spec).unwrap();
        assert_ne!(other.decapsulate(&ct).unwrap(), ss);
        // Wrong lengths are errors.
        for len in [0, ct.len() - 1, ct.len() + 1, 32] {
            assert!(
                is_invalid_input(k.decapsulate(&vec![0; len])),
                "{spec:?} {len}"
            );
        }
    }
}

#[test]
fn mlkem_operations_are_mlkem_only() {
    for spec in [S::Rsa2048, S::EccNistP256, S::Ed25519, S::MlDsa44] {
        let k = key(spec);
        assert!(is_invalid_input(k.decapsulate(&[0; 768])));
        assert!(is_invalid_input(k.public_key().unwrap().encapsulate()));
    }
}

#[test]
fn mlkem_spki_layout() {
    for (spec, oid_last, ek_len) in [
        (S::MlKem512, 1u8, 800usize),
        (S::MlKem768, 2, 1184),
        (S::MlKem1024, 3, 1568),
    ] {
        let public = key(spec).public_key().unwrap();
        let spki = der::parse_spki(public.spki()).unwrap();
        assert_eq!(
            spki.algorithm.oid,
            &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, oid_last]
        );
        assert!(spki.algorithm.params.is_none());
        assert_eq!(spki.key.len(), ek_len);
        // A truncated key is rejected.
        let short = der::sequence(&[
            &der::sequence(&[&der::tlv(der::TAG_OID, spki.algorithm.oid)]),
            &der::tlv(der::TAG_BIT_STRING, &[0; 33]),
        ]);
        assert!(is_invalid_key(PublicKey::from_spki(spec, &short)));
    }
}

#[test]
fn mldsa_spki_oids() {
    for (spec, oid_last) in [(S::MlDsa44, 0x11u8), (S::MlDsa65, 0x12), (S::MlDsa87, 0x13)] {
        let public = key(spec).public_key().unwrap();
        let spki = der::parse_spki(public.spki()).unwrap();
        assert_eq!(
            spki.algorithm.oid,
            &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, oid_last]
        );
        let pkcs8 = der::parse_pkcs8(key(spec).pkcs8().expose()).unwrap();
        assert_eq!(pkcs8.algorithm.oid, spki.algorithm.oid);
    }
}

// ---------------------------------------------------------------------------------------
// HMAC.
// ---------------------------------------------------------------------------------------

#[test]
fn hmac_rfc4231_test_case_2() {
    let data = b"what do ya want for nothing?";
    let cases = [
        (
            HmacAlgorithm::Sha224,
            "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
        ),
        (
            HmacAlgorithm::Sha256,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            HmacAlgorithm::Sha384,
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
             8e2240ca5e69e2c78b3239ecfab21649",
        ),
        (
            HmacAlgorithm::Sha512,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        ),
    ];
    for (alg, expected) in cases {
        let k = HmacKey::from_material(alg, SecretBytes::from_slice(b"Jefe")).unwrap();
        let expected = hex(expected);
        assert_eq!(k.sign(data), expected, "{alg:?}");
        assert!(k.verify(data, &expected));
        assert!(!k.verify(data, &flip(&expected, 3)));
        assert!(!k.verify(data, &expected[..expected.len() - 1]));
        assert!(!k.verify(b"what do ya want for nothing!", &expected));
        assert!(!k.verify(data, &[]));
    }
}

#[test]
fn hmac_generate_sizes() {
    for (alg, len) in [
        (HmacAlgorithm::Sha224, 28),
        (HmacAlgorithm::Sha256, 32),
        (HmacAlgorithm::Sha384, 48),
        (HmacAlgorithm::Sha512, 64),
    ] {
        let k = HmacKey::generate(alg).unwrap();
        assert_eq!(k.material().len(), len);
        let mac = k.sign(b"m");
        assert_eq!(mac.len(), len);
        assert!(k.verify(b"m", &mac));
        // Same material, same MAC; different key, different MAC.
        let again = HmacKey::from_material(alg, k.material().clone()).unwrap();
        assert_eq!(again.sign(b"m"), mac);
        let other = HmacKey::generate(alg).unwrap();
        assert_ne!(other.material(), k.material());
        assert!(!other.verify(b"m", &mac));
    }
}

#[test]
fn digest_helper_matches_algorithms() {
    assert_eq!(hash_of(A::RsassaPssSha384).output_len(), 48);
    assert_eq!(hash_of(A::EcdsaSha512).output_len(), 64);
    assert_eq!(hash_of(A::Ed25519PhSha512).output_len(), 64);
}
