//! The PKCS#11 session layer against a real SoftHSM2 token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use tresor_seal::token::{Module, TokenError};

#[test]
fn keys_stay_in_the_token_and_gcm_runs_there() {
    let hsm = common::SoftHsm::new();
    let module = Module::load(&hsm.config.module).unwrap();
    // Attack: a wrong PIN or an absent token does not open a session.
    assert_eq!(
        module.login(common::TOKEN_LABEL, "000000").err(),
        Some(TokenError::PinIncorrect)
    );
    assert!(matches!(
        module.login("no-such-token", common::USER_PIN),
        Err(TokenError::TokenNotFound(_))
    ));
    let session = module.login(common::TOKEN_LABEL, common::USER_PIN).unwrap();
    let key = session
        .generate_aes_key("tresor-kms-key-k1", b"k1")
        .unwrap();
    assert_eq!(session.find_key("tresor-kms-key-k1", b"k1").unwrap(), key);
    assert!(matches!(
        session.find_key("tresor-kms-key-k2", b"k2"),
        Err(TokenError::KeyNotFound(_))
    ));
    let mut iv = [7u8; 12];
    let ct = session.encrypt_gcm(key, &mut iv, b"aad", b"hello").unwrap();
    assert_eq!(ct.len(), 5 + 16);
    let pt = session.decrypt_gcm(key, &iv, b"aad", &ct).unwrap();
    assert_eq!(pt.expose(), b"hello");
    // Attack: another AAD or an altered ciphertext is not authentic.
    assert_eq!(
        session.decrypt_gcm(key, &iv, b"other", &ct).err(),
        Some(TokenError::Unauthentic)
    );
    let mut altered = ct.clone();
    altered[0] ^= 1;
    assert_eq!(
        session.decrypt_gcm(key, &iv, b"aad", &altered).err(),
        Some(TokenError::Unauthentic)
    );
    let mut random = [0u8; 32];
    session.random(&mut random).unwrap();
    assert_ne!(random, [0u8; 32]);
}
