//! ED25519_PH_SHA_512, ML-DSA with an external μ, and ML-KEM seeds: the paths aws-lc-rs does
//! not cover, checked against aws-lc (same keys), independent μ arithmetic and FIPS 203 layout.

use super::*;
use shake::{ExtendableOutput, Update, XofReader};

/// FIPS 204 §6.2 μ of `message` with an empty context, computed here with SHAKE256.
fn mu(public: &PublicKey, message: &[u8]) -> [u8; 64] {
    let raw = public.raw_key().unwrap();
    let mut tr = [0u8; 64];
    let mut h = shake::Shake256::default();
    h.update(raw);
    h.finalize_xof().read(&mut tr);
    let mut h = shake::Shake256::default();
    h.update(&tr);
    h.update(&[0, 0]);
    h.update(message);
    let mut out = [0u8; 64];
    h.finalize_xof().read(&mut out);
    out
}

#[test]
fn ed25519ph_signs_the_digest_with_the_ed25519_key() {
    let k = key(S::Ed25519);
    let public = k.public_key().unwrap();
    let d = digest::digest(&digest::SHA512, b"message");
    let sig = k.sign(A::Ed25519PhSha512, K::Digest, d.as_ref()).unwrap();
    assert_eq!(sig.len(), 64);
    // Deterministic, like Ed25519.
    assert_eq!(
        sig,
        k.sign(A::Ed25519PhSha512, K::Digest, d.as_ref()).unwrap()
    );
    assert!(public
        .verify(A::Ed25519PhSha512, K::Digest, d.as_ref(), &sig)
        .unwrap());
    // Independent check: ed25519-dalek's Ed25519ph over M = the digest (KMS hashes it again).
    let vk = ed25519_dalek::VerifyingKey::from_bytes(public.raw_key().unwrap().try_into().unwrap())
        .unwrap();
    let s = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    use ed25519_dalek::Digest as _;
    vk.verify_prehashed(ed25519_dalek::Sha512::new_with_prefix(d.as_ref()), None, &s)
        .unwrap();
    // Not an Ed25519 signature; not valid for another digest; tampering fails.
    assert!(!public
        .verify(A::Ed25519Sha512, K::Raw, d.as_ref(), &sig)
        .unwrap());
    let other = digest::digest(&digest::SHA512, b"other");
    assert!(!public
        .verify(A::Ed25519PhSha512, K::Digest, other.as_ref(), &sig)
        .unwrap());
    for at in [0, 31, 32, 63] {
        assert!(!public
            .verify(A::Ed25519PhSha512, K::Digest, d.as_ref(), &flip(&sig, at))
            .unwrap());
    }
    assert!(!public
        .verify(A::Ed25519PhSha512, K::Digest, d.as_ref(), &sig[..63])
        .unwrap());
    // An imported copy of the key (PKCS#8 round trip) signs the same.
    let again = PrivateKey::from_pkcs8(S::Ed25519, k.pkcs8()).unwrap();
    assert_eq!(
        again
            .sign(A::Ed25519PhSha512, K::Digest, d.as_ref())
            .unwrap(),
        sig
    );
}

#[test]
fn ml_dsa_external_mu_matches_raw_signing() {
    for spec in [S::MlDsa44, S::MlDsa65, S::MlDsa87] {
        let k = key(spec);
        let public = k.public_key().unwrap();
        let msg = b"sign me through mu";
        let m = mu(&public, msg);
        // μ signed by ml-dsa verifies as a RAW signature in aws-lc, and the other way round.
        let sig = k.sign(A::MlDsaShake256, K::ExternalMu, &m).unwrap();
        assert!(
            public.verify(A::MlDsaShake256, K::Raw, msg, &sig).unwrap(),
            "{spec:?}"
        );
        assert!(public
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &sig)
            .unwrap());
        let raw_sig = k.sign(A::MlDsaShake256, K::Raw, msg).unwrap();
        assert!(public
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &raw_sig)
            .unwrap());
        // Hedged: two signatures of the same μ differ, both verify.
        let sig2 = k.sign(A::MlDsaShake256, K::ExternalMu, &m).unwrap();
        assert_ne!(sig, sig2);
        // Another μ, a tampered or truncated signature: invalid.
        let other = mu(&public, b"another message");
        assert!(!public
            .verify(A::MlDsaShake256, K::ExternalMu, &other, &sig)
            .unwrap());
        assert!(!public
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &flip(&sig, 100))
            .unwrap());
        assert!(!public
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &sig[..sig.len() - 1])
            .unwrap());
        assert!(!public
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &[])
            .unwrap());
        // A key parsed from the SPKI alone verifies μ too.
        let parsed = PublicKey::from_spki(spec, public.spki()).unwrap();
        assert!(parsed
            .verify(A::MlDsaShake256, K::ExternalMu, &m, &sig)
            .unwrap());
    }
}

#[test]
fn ml_dsa_external_mu_with_an_imported_seed_key() {
    let k = key(S::MlDsa65);
    let again = PrivateKey::from_pkcs8(S::MlDsa65, k.pkcs8()).unwrap();
    let public = k.public_key().unwrap();
    let m = mu(&public, b"imported");
    let sig = again.sign(A::MlDsaShake256, K::ExternalMu, &m).unwrap();
    assert!(public
        .verify(A::MlDsaShake256, K::Raw, b"imported", &sig)
        .unwrap());
}

#[test]
fn ml_kem_keys_are_stored_as_seeds_and_seed_pkcs8_imports() {
    for spec in MLKEM_SPECS {
        let k = key(spec);
        let der = k.pkcs8().expose();
        // SEQUENCE(84) { INTEGER 0, SEQUENCE { OID }, OCTET STRING(66) { [0](64) seed } }
        assert_eq!(der.len(), 86, "{spec:?}");
        assert_eq!(&der[..5], &[0x30, 0x54, 0x02, 0x01, 0x00]);
        assert_eq!(&der[18..22], &[0x04, 0x42, 0x80, 0x40]);
        let again = PrivateKey::from_pkcs8(spec, k.pkcs8()).unwrap();
        assert_eq!(
            again.public_key().unwrap().spki(),
            k.public_key().unwrap().spki()
        );
        let (ct, ss) = k.public_key().unwrap().encapsulate().unwrap();
        assert_eq!(again.decapsulate(&ct).unwrap().expose(), ss.expose());
        // A seed of the wrong length is refused.
        let mut short = der[..der.len() - 1].to_vec();
        short[1] -= 1;
        short[19] -= 1;
        short[21] -= 1;
        assert!(is_invalid_key(PrivateKey::from_pkcs8(
            spec,
            &SecretBytes::new(short)
        )));
    }
}

/// Known answers from an independent implementation (OpenSSL 3.5 through the Python
/// `cryptography` package): the SHA-256 of the encapsulation key that the seed
/// 00 01 02 … 3f (d ‖ z) expands to.
#[test]
fn ml_kem_seed_expansion_matches_openssl() {
    let seed: [u8; 64] = std::array::from_fn(|i| i as u8);
    for (spec, expected) in [
        (
            S::MlKem768,
            "0b7934c83125c788995e2ba6bd761e33046b3e40571be53e023309a29f398cc9",
        ),
        (
            S::MlKem1024,
            "c7b8fa0aa471d5ae18922d6ccad5b31e1d84f92ae723abfd13747018740a8530",
        ),
    ] {
        let k = seed_key(spec, &seed);
        let public = k.public_key().unwrap();
        let ek = public.raw_key().unwrap();
        assert_eq!(
            digest::digest(&digest::SHA256, ek).as_ref(),
            hex(expected).as_slice(),
            "{spec:?}"
        );
        // z (the second half) does not change the public key; d does.
        let mut z_changed = seed;
        z_changed[40] ^= 1;
        assert_eq!(
            seed_key(spec, &z_changed).public_key().unwrap().spki(),
            public.spki()
        );
        let mut d_changed = seed;
        d_changed[3] ^= 1;
        assert_ne!(
            seed_key(spec, &d_changed).public_key().unwrap().spki(),
            public.spki()
        );
    }
}

fn seed_key(spec: AsymmetricSpec, seed: &[u8; 64]) -> PrivateKey {
    let oid = match spec {
        S::MlKem512 => der::oid::ML_KEM_512,
        S::MlKem768 => der::oid::ML_KEM_768,
        _ => der::oid::ML_KEM_1024,
    };
    let alg = der::sequence(&[&der::tlv(der::TAG_OID, oid)]);
    let doc = der::sequence(&[
        &[der::TAG_INTEGER, 1, 0],
        &alg,
        &der::tlv(der::TAG_OCTET_STRING, &der::tlv(0x80, seed)),
    ]);
    PrivateKey::from_pkcs8(spec, &SecretBytes::new(doc)).unwrap()
}
