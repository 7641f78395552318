//! Streaming encryption: the header, then one frame per `frame_length` plaintext bytes
//! as they arrive, the final frame and the signature at [`Encryptor::finish`].

use crate::body::{self, FINAL_FRAME_MARKER};
use crate::header::{
    EncryptedDataKey, EncryptionContext, Header, MAX_FRAME_LENGTH, PUBLIC_KEY_CONTEXT_KEY,
};
use crate::signing::{self, Signer};
use crate::suite::{self, Suite};
use crate::Error;
use aws_lc_rs::aead::{Aad, LessSafeKey};
use aws_lc_rs::digest::Context;
use std::io::Write;
use zeroize::Zeroizing;

/// Writes one message to `W`, holding at most one frame of plaintext.
pub struct Encryptor<W: Write> {
    out: W,
    key: LessSafeKey,
    message_id: [u8; 32],
    frame_length: usize,
    buffer: Zeroizing<Vec<u8>>,
    sequence: u32,
    digest: Option<(Context, Signer)>,
}

impl<W: Write> std::fmt::Debug for Encryptor<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("frame_length", &self.frame_length)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

/// What a message is encrypted with.
#[derive(Debug)]
pub struct Materials {
    /// Algorithm suite.
    pub suite: Suite,
    /// The plaintext data key (32 bytes).
    pub data_key: tresor_crypto::SecretBytes,
    /// Its encrypted copies (at least one).
    pub data_keys: Vec<EncryptedDataKey>,
    /// The full encryption context, with `aws-crypto-public-key` for a signed suite.
    pub context: EncryptionContext,
    /// The signing key of a signed suite (see [`signing_context`]).
    pub signer: Option<Signer>,
    /// Plaintext bytes per frame (1 ..= 64 MiB).
    pub frame_length: u32,
}

/// Checks the caller's context (no `aws-crypto-` keys) and, for a signed suite, makes
/// the signing key and adds its public key to the context; the returned context is the
/// one to send to KMS with the data key requests.
pub fn signing_context(
    suite: Suite,
    mut context: EncryptionContext,
) -> Result<(EncryptionContext, Option<Signer>), Error> {
    if let Some(k) = context
        .keys()
        .find(|k| k.starts_with(crate::header::RESERVED_PREFIX))
    {
        return Err(Error::Invalid(format!(
            "encryption context key {k:?} is reserved (keys starting with aws-crypto- belong to the Encryption SDK)"
        )));
    }
    if !suite.signed() {
        return Ok((context, None));
    }
    let signer = Signer::generate()?;
    context.insert(PUBLIC_KEY_CONTEXT_KEY.into(), signer.public_key_base64()?);
    Ok((context, Some(signer)))
}

impl<W: Write> Encryptor<W> {
    /// Writes the header of a new message (random message id) to `out`.
    pub fn new(mut out: W, materials: Materials) -> Result<Self, Error> {
        let Materials {
            suite,
            data_key,
            data_keys,
            context,
            signer,
            frame_length,
        } = materials;
        if frame_length == 0 || frame_length > MAX_FRAME_LENGTH {
            return Err(Error::Invalid(format!(
                "frame length must be between 1 and {MAX_FRAME_LENGTH}"
            )));
        }
        if suite.signed() != signer.is_some()
            || suite.signed() != context.contains_key(PUBLIC_KEY_CONTEXT_KEY)
        {
            return Err(Error::Invalid(
                "a signed suite needs its signer and public key context entry (and only it)".into(),
            ));
        }
        let mut message_id = [0u8; 32];
        aws_lc_rs::rand::fill(&mut message_id).map_err(|_| Error::Crypto("random message id"))?;
        let keys = suite::derive(suite, data_key.expose(), &message_id)?;
        let header = Header {
            suite,
            message_id,
            context,
            data_keys,
            frame_length,
            commitment: *keys.commitment,
        };
        let header = header.serialize()?;
        let tag = keys
            .encryption
            .seal_in_place_separate_tag(
                body::nonce([0; body::IV_LEN]),
                Aad::from(&header),
                &mut [0u8; 0],
            )
            .map_err(|_| Error::Crypto("header authentication"))?;
        let mut digest = signer.map(|s| (signing::digest(), s));
        for part in [header.as_slice(), tag.as_ref()] {
            out.write_all(part)?;
            if let Some((d, _)) = digest.as_mut() {
                d.update(part);
            }
        }
        let frame_length = frame_length as usize;
        Ok(Self {
            out,
            key: keys.encryption,
            message_id,
            frame_length,
            buffer: Zeroizing::new(Vec::with_capacity(frame_length)),
            sequence: 0,
            digest,
        })
    }

    /// Encrypts the buffered plaintext as the next frame and writes it.
    fn emit(&mut self, final_frame: bool) -> Result<(), Error> {
        let sequence = self
            .sequence
            .checked_add(1)
            .filter(|s| final_frame || *s < FINAL_FRAME_MARKER)
            .ok_or_else(|| Error::Invalid("too many frames for one message".into()))?;
        self.sequence = sequence;
        let iv = body::iv(sequence);
        let len = self.buffer.len();
        let aad = body::aad(&self.message_id, final_frame, sequence, len);
        let tag = self
            .key
            .seal_in_place_separate_tag(body::nonce(iv), Aad::from(aad), &mut self.buffer)
            .map_err(|_| Error::Crypto("frame encryption"))?;
        let mut head = Vec::with_capacity(24);
        if final_frame {
            head.extend_from_slice(&FINAL_FRAME_MARKER.to_be_bytes());
        }
        head.extend_from_slice(&sequence.to_be_bytes());
        head.extend_from_slice(&iv);
        if final_frame {
            let len = u32::try_from(len).map_err(|_| Error::Crypto("frame length"))?;
            head.extend_from_slice(&len.to_be_bytes());
        }
        for part in [head.as_slice(), self.buffer.as_slice(), tag.as_ref()] {
            self.out.write_all(part)?;
            if let Some((d, _)) = self.digest.as_mut() {
                d.update(part);
            }
        }
        self.buffer.clear();
        Ok(())
    }

    /// Writes the final frame (the plaintext left: less than a frame, possibly none) and
    /// the signature;
    /// returns the writer, flushed.
    pub fn finish(mut self) -> Result<W, Error> {
        self.emit(true)?;
        if let Some((digest, signer)) = self.digest.take() {
            let signature = signer.sign(&digest.finish())?;
            let len = u16::try_from(signature.len()).map_err(|_| Error::Crypto("signature"))?;
            self.out.write_all(&len.to_be_bytes())?;
            self.out.write_all(&signature)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.frame_length.saturating_sub(self.buffer.len());
        let n = room.min(data.len());
        self.buffer
            .extend_from_slice(data.get(..n).unwrap_or_default());
        // A full buffer is a regular frame at once: the final frame then holds less than
        // a frame (none at all for an exact multiple), as the ESDKs write it — the Python
        // ESDK's streaming decryptor refuses a final frame of the full frame length.
        if self.buffer.len() == self.frame_length {
            self.emit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
