//! Streaming decryption: key commitment and header tag first, then each frame's
//! plaintext handed out only after its tag checks, and the signature at the end.

use crate::body::{self, FINAL_FRAME_MARKER, IV_LEN};
use crate::header::{ParsedHeader, PUBLIC_KEY_CONTEXT_KEY, TAG_LEN};
use crate::signing;
use crate::suite::{self, Suite};
use crate::Error;
use aws_lc_rs::aead::{Aad, LessSafeKey};
use aws_lc_rs::digest::Context;
use std::io::Read;
use zeroize::Zeroizing;

/// Decrypts the body of one message whose header and data key are known.
pub struct Decryptor {
    key: LessSafeKey,
    suite: Suite,
    message_id: [u8; 32],
    frame_length: usize,
    digest: Option<(Context, String)>,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("suite", &self.suite)
            .field("frame_length", &self.frame_length)
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// Derives the keys from `data_key`, checks the key commitment (constant time) and
    /// the header authentication tag, and the public key entry against the suite.
    pub fn new(parsed: &ParsedHeader, data_key: &[u8]) -> Result<Self, Error> {
        let header = &parsed.header;
        let keys = suite::derive(header.suite, data_key, &header.message_id)?;
        aws_lc_rs::constant_time::verify_slices_are_equal(
            keys.commitment.as_ref(),
            &header.commitment,
        )
        .map_err(|_| Error::Authentication("the key commitment does not match the data key"))?;
        let mut tag = parsed.tag;
        keys.encryption
            .open_in_place(
                body::nonce([0; IV_LEN]),
                Aad::from(parsed.raw.as_slice()),
                &mut tag,
            )
            .map_err(|_| Error::Authentication("the header authentication tag does not check"))?;
        let public_key = header.context.get(PUBLIC_KEY_CONTEXT_KEY);
        let digest = match (header.suite.signed(), public_key) {
            (true, Some(pk)) => {
                let mut d = signing::digest();
                d.update(&parsed.raw);
                d.update(&parsed.tag);
                Some((d, pk.clone()))
            }
            (true, None) => {
                return Err(Error::Malformed(
                    "a signed message without aws-crypto-public-key in its encryption context"
                        .into(),
                ))
            }
            (false, Some(_)) => {
                return Err(Error::Malformed(
                    "aws-crypto-public-key in the encryption context of an unsigned message".into(),
                ))
            }
            (false, None) => None,
        };
        Ok(Self {
            key: keys.encryption,
            suite: header.suite,
            message_id: header.message_id,
            frame_length: header.frame_length as usize,
            digest,
        })
    }

    /// Reads the frames and footer from `input` (positioned after the header), giving
    /// `sink` each frame's plaintext once its tag checked; then checks the signature and
    /// that nothing follows the message. Returns the plaintext length.
    ///
    /// Every frame is authenticated before `sink` sees it, but a later frame or the
    /// signature can still fail: the caller must treat what it got as final only when
    /// this returns `Ok`.
    pub fn decrypt<R, F>(mut self, input: &mut R, mut sink: F) -> Result<u64, Error>
    where
        R: Read,
        F: FnMut(&[u8]) -> std::io::Result<()>,
    {
        let mut buffer = Zeroizing::new(vec![0u8; self.frame_length + TAG_LEN]);
        let mut expected: u32 = 1;
        let mut total: u64 = 0;
        loop {
            let mut field = self.read::<4, R>(input, "frame header")?;
            let final_frame = u32::from_be_bytes(field) == FINAL_FRAME_MARKER;
            if final_frame {
                field = self.read::<4, R>(input, "final frame header")?;
            }
            let sequence = u32::from_be_bytes(field);
            if sequence != expected {
                return Err(Error::Malformed(format!(
                    "frame {sequence} where frame {expected} was expected"
                )));
            }
            let iv = self.read::<IV_LEN, R>(input, "frame header")?;
            if iv != body::iv(sequence) {
                return Err(Error::Malformed(format!("frame {sequence} has a wrong IV")));
            }
            let len = if final_frame {
                let len = u32::from_be_bytes(self.read::<4, R>(input, "final frame header")?);
                let len = len as usize;
                if len > self.frame_length {
                    return Err(Error::Malformed(format!(
                        "the final frame holds {len} bytes, more than the frame length {}",
                        self.frame_length
                    )));
                }
                len
            } else {
                self.frame_length
            };
            let frame = buffer
                .get_mut(..len + TAG_LEN)
                .ok_or(Error::Crypto("frame buffer"))?;
            input
                .read_exact(frame)
                .map_err(Error::reading(if final_frame {
                    "final frame"
                } else {
                    "a frame"
                }))?;
            if let Some((d, _)) = self.digest.as_mut() {
                d.update(frame);
            }
            let aad = body::aad(&self.message_id, final_frame, sequence, len);
            let plaintext = self
                .key
                .open_in_place(body::nonce(iv), Aad::from(aad), frame)
                .map_err(|_| {
                    Error::Authentication("a frame's authentication tag does not check")
                })?;
            sink(plaintext)?;
            total += plaintext.len() as u64;
            if final_frame {
                break;
            }
            expected = sequence
                .checked_add(1)
                .filter(|s| *s < FINAL_FRAME_MARKER)
                .ok_or_else(|| Error::Malformed("too many frames".into()))?;
        }
        if let Some((digest, public_key)) = self.digest.take() {
            let len = u16::from_be_bytes(self.read::<2, R>(input, "signature")?);
            let mut signature = vec![0u8; usize::from(len)];
            input
                .read_exact(&mut signature)
                .map_err(Error::reading("signature"))?;
            signing::verify(&public_key, &digest.finish(), &signature)?;
        }
        let mut probe = [0u8; 1];
        loop {
            match input.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => {
                    return Err(Error::Malformed(
                        "bytes follow the end of the message".into(),
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(total)
    }

    /// Reads a fixed-size field, feeding it to the signature digest.
    fn read<const N: usize, R: Read>(
        &mut self,
        input: &mut R,
        what: &'static str,
    ) -> Result<[u8; N], Error> {
        let mut b = [0u8; N];
        input.read_exact(&mut b).map_err(Error::reading(what))?;
        if let Some((d, _)) = self.digest.as_mut() {
            d.update(&b);
        }
        Ok(b)
    }
}
