//! Messages written by the AWS Encryption SDK for Python (tests/vectors/generate.py, raw AES
//! keyring) decrypt here: an independent implementation of the same format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use tresor_esdk::{read_header, serialize_context, Decryptor, Limits, ParsedHeader, Suite};

/// The raw AES keyring's wrapping key in generate.py.
const WRAPPING_KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

/// Unwraps the data key as the raw AES keyring does: provider info = key name ‖ tag bits
/// (u32) ‖ IV length (u32) ‖ IV; ciphertext = wrapped key ‖ tag; AAD = the context.
fn try_unwrap(parsed: &ParsedHeader) -> Option<Vec<u8>> {
    let edk = parsed.header.data_keys.first()?;
    if edk.provider_id != "tresor-test-vectors" {
        return None;
    }
    let rest = edk.provider_info.strip_prefix(b"wrapping-key-1")?;
    let rest = rest.strip_prefix(&[0, 0, 0, 128, 0, 0, 0, 12])?;
    let iv: [u8; 12] = rest.try_into().ok()?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &WRAPPING_KEY).ok()?);
    let aad = serialize_context(&parsed.header.context).ok()?;
    let mut buf = edk.ciphertext.clone();
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut buf)
        .ok()?;
    Some(plain.to_vec())
}

fn unwrap_data_key(parsed: &ParsedHeader) -> Vec<u8> {
    try_unwrap(parsed).expect("unwrap the data key")
}

fn decrypt(message: &[u8]) -> (Suite, u32, Vec<u8>) {
    let mut input = message;
    let parsed = read_header(&mut input, &Limits::default()).unwrap();
    let data_key = unwrap_data_key(&parsed);
    let mut out = Vec::new();
    Decryptor::new(&parsed, &data_key)
        .unwrap()
        .decrypt(&mut input, |p| {
            out.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
    (parsed.header.suite, parsed.header.frame_length, out)
}

fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn python_esdk_messages_decrypt() {
    let cases: [(&[u8], Suite, u32, Vec<u8>); 4] = [
        (
            include_bytes!("vectors/python-0578-frame4096.bin"),
            Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            4096,
            plaintext(10000),
        ),
        (
            include_bytes!("vectors/python-0478-frame512.bin"),
            Suite::Aes256GcmHkdfSha512CommitKey,
            512,
            plaintext(10000),
        ),
        (
            include_bytes!("vectors/python-0578-exact16000.bin"),
            Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            16000,
            [plaintext(8000), plaintext(8000)].concat(),
        ),
        (
            include_bytes!("vectors/python-0578-empty.bin"),
            Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            4096,
            Vec::new(),
        ),
    ];
    for (message, suite, frame, expected) in cases {
        let (s, f, got) = decrypt(message);
        assert_eq!((s, f), (suite, frame));
        assert_eq!(got, expected);
    }
}

#[test]
fn a_python_message_with_any_flipped_byte_is_refused() {
    let message = include_bytes!("vectors/python-0578-frame4096.bin");
    // Every 97th byte, and the last one (inside the signature).
    for i in (0..message.len()).step_by(97).chain([message.len() - 1]) {
        let mut bad = message.to_vec();
        bad[i] ^= 0x10;
        let mut input = bad.as_slice();
        let ok = read_header(&mut input, &Limits::default())
            .ok()
            .and_then(|parsed| {
                let data_key = try_unwrap(&parsed)?;
                Decryptor::new(&parsed, &data_key)
                    .ok()?
                    .decrypt(&mut input, |_| Ok(()))
                    .ok()
            });
        assert!(ok.is_none(), "byte {i} flipped went unnoticed");
    }
}
