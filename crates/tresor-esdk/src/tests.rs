//! Round trips and attacks on whole messages.

use crate::*;
use std::io::Write;

const FRAME: u32 = 64;

fn edk() -> EncryptedDataKey {
    EncryptedDataKey {
        provider_id: PROVIDER_AWS_KMS.into(),
        provider_info: b"arn:aws:kms:us-east-1:111122223333:key/test".to_vec(),
        ciphertext: vec![1; 50],
    }
}

fn encrypt(suite: Suite, data_key: &[u8; 32], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let context: EncryptionContext = [("purpose".to_string(), "test".to_string())].into();
    let (context, signer) = signing_context(suite, context)?;
    let mut enc = Encryptor::new(
        Vec::new(),
        Materials {
            suite,
            data_key: tresor_crypto::SecretBytes::from_slice(data_key),
            data_keys: vec![edk()],
            context,
            signer,
            frame_length: FRAME,
        },
    )?;
    // Uneven writes: frames must not depend on how the input is chunked.
    for chunk in plaintext.chunks(7) {
        enc.write_all(chunk)?;
    }
    enc.finish()
}

fn decrypt(data_key: &[u8; 32], message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut input = message;
    let parsed = read_header(&mut input, &Limits::default())?;
    let mut out = Vec::new();
    Decryptor::new(&parsed, data_key)?.decrypt(&mut input, |p| {
        out.extend_from_slice(p);
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn round_trips_every_length_around_frame_boundaries() -> Result<(), Error> {
    for suite in Suite::ALL {
        for len in [0usize, 1, 63, 64, 65, 128, 200] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let message = encrypt(suite, &[3; 32], &plaintext)?;
            assert_eq!(decrypt(&[3; 32], &message)?, plaintext, "{suite:?} {len}");
            let parsed = read_header(&mut message.as_slice(), &Limits::default())?;
            assert_eq!(parsed.header.suite, suite);
            // Frames: len / 64 full regular frames, then a final frame of the rest
            // (empty for an exact multiple), 16-byte tags, 4+12 (+4 final) header bytes.
            let unsigned = expected_unsigned_len(&parsed, len);
            let footer = message.len() - unsigned;
            if suite.signed() {
                // u16 length + a DER ECDSA P-384 signature (at most 104 bytes).
                assert!(
                    (2 + 8..=2 + 104).contains(&footer),
                    "{suite:?} {len}: footer {footer}"
                );
            } else {
                assert_eq!(footer, 0, "{suite:?} {len}");
            }
            assert_eq!(
                parsed.header.context.contains_key(PUBLIC_KEY_CONTEXT_KEY),
                suite.signed()
            );
        }
    }
    Ok(())
}

/// Header, tag, regular frames and final frame of a `len`-byte plaintext.
fn expected_unsigned_len(parsed: &ParsedHeader, len: usize) -> usize {
    let frame = FRAME as usize;
    let regular = len / frame;
    parsed.header_len() + regular * (4 + 12 + frame + 16) + (4 + 4 + 12 + 4 + len % frame + 16)
}

#[test]
fn plaintext_is_not_in_the_message() -> Result<(), Error> {
    let plaintext = b"attack at dawn, attack at dawn, attack at dawn".repeat(4);
    let message = encrypt(
        Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        &[3; 32],
        &plaintext,
    )?;
    assert!(!message.windows(12).any(|w| w == b"attack at da"));
    Ok(())
}

#[test]
fn every_flipped_byte_is_refused() -> Result<(), Error> {
    // A change anywhere (header fields, the data keys, a frame, the signature) must fail:
    // the header tag covers the whole header, the frame tags the frames.
    for suite in Suite::ALL {
        let message = encrypt(suite, &[3; 32], &[0x5A; 150])?;
        for i in 0..message.len() {
            let mut bad = message.clone();
            if let Some(b) = bad.get_mut(i) {
                *b ^= 0x01;
            }
            let r = decrypt(&[3; 32], &bad);
            assert!(r.is_err(), "{suite:?}: flipping byte {i} went unnoticed");
        }
    }
    Ok(())
}

#[test]
fn every_truncation_and_extension_is_refused() -> Result<(), Error> {
    for suite in Suite::ALL {
        let message = encrypt(suite, &[3; 32], &[0x5A; 150])?;
        for cut in 0..message.len() {
            let r = decrypt(&[3; 32], message.get(..cut).unwrap_or_default());
            assert!(r.is_err(), "{suite:?}: truncation at {cut} went unnoticed");
        }
        let mut longer = message.clone();
        longer.push(0);
        assert!(matches!(
            decrypt(&[3; 32], &longer),
            Err(Error::Malformed(_))
        ));
    }
    Ok(())
}

#[test]
fn a_wrong_data_key_fails_the_commitment_check() -> Result<(), Error> {
    let message = encrypt(
        Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        &[3; 32],
        b"hi",
    )?;
    let r = decrypt(&[4; 32], &message);
    assert!(
        matches!(r, Err(Error::Authentication(m)) if m.contains("commitment")),
        "{r:?}"
    );
    Ok(())
}

#[test]
fn dropping_or_reordering_frames_is_refused() -> Result<(), Error> {
    let suite = Suite::Aes256GcmHkdfSha512CommitKey;
    let message = encrypt(suite, &[3; 32], &[7u8; 200])?;
    let header_len = read_header(&mut message.as_slice(), &Limits::default())?
        .raw
        .len()
        + 16;
    let frame = 4 + 12 + FRAME as usize + 16;
    let (head, body) = message.split_at(header_len);
    let (f1, rest) = body.split_at(frame);
    let (f2, rest) = rest.split_at(frame);
    // Frames 2, 1, ...: out of order.
    let swapped = [head, f2, f1, rest].concat();
    assert!(matches!(
        decrypt(&[3; 32], &swapped),
        Err(Error::Malformed(_))
    ));
    // Frame 1 dropped.
    let dropped = [head, f2, rest].concat();
    assert!(decrypt(&[3; 32], &dropped).is_err());
    // Stopping after regular frames (no final frame).
    let no_final = [head, f1, f2].concat();
    assert!(matches!(
        decrypt(&[3; 32], &no_final),
        Err(Error::Truncated(_))
    ));
    Ok(())
}

#[test]
fn reserved_context_keys_are_refused() {
    let context: EncryptionContext =
        [("aws-crypto-public-key".to_string(), "x".to_string())].into();
    let r = signing_context(Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384, context);
    assert!(matches!(r, Err(Error::Invalid(_))));
}

#[test]
fn an_unsigned_suite_with_a_public_key_entry_is_refused() -> Result<(), Error> {
    // Downgrade attempt: relabel a signed message as unsigned (and drop the signature).
    // The suite id is under the header tag, so this fails; a forger who knows the data
    // key would still meet the public-key check.
    let message = encrypt(Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384, &[3; 32], b"x")?;
    let mut bad = message.clone();
    if let Some(b) = bad.get_mut(1) {
        *b = 0x04;
    }
    assert!(decrypt(&[3; 32], &bad).is_err());
    Ok(())
}
