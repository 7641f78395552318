//! The message header (format version 2): serialization, and parsing with bounds.

use crate::suite::{Suite, KEY_LEN};
use crate::Error;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

/// The encryption context: UTF-8 pairs, serialized sorted by key bytes (a `BTreeMap` of
/// `String`s orders them that way).
pub type EncryptionContext = BTreeMap<String, String>;

/// Context keys with this prefix belong to the ESDK itself.
pub const RESERVED_PREFIX: &str = "aws-crypto-";

/// The context entry holding the base64 compressed ECDSA verification key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// Provider id of data keys encrypted by a KMS key (provider info: the key ARN).
pub const PROVIDER_AWS_KMS: &str = "aws-kms";

/// Format version byte.
const VERSION_2: u8 = 0x02;
/// Content type of framed bodies.
const CONTENT_FRAMED: u8 = 0x02;
/// Content type of single-block bodies.
const CONTENT_NON_FRAMED: u8 = 0x01;
/// Length of the header authentication tag.
pub(crate) const TAG_LEN: usize = 16;

/// One encrypted copy of the data key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// Who can decrypt it (`aws-kms`).
    pub provider_id: String,
    /// Which key of that provider (for `aws-kms`: the key ARN, UTF-8).
    pub provider_info: Vec<u8>,
    /// The provider's ciphertext of the data key.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for EncryptedDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedDataKey")
            .field("provider_id", &self.provider_id)
            .field(
                "provider_info",
                &String::from_utf8_lossy(&self.provider_info),
            )
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// The parsed header body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Algorithm suite.
    pub suite: Suite,
    /// Random message id (the HKDF salt).
    pub message_id: [u8; 32],
    /// Encryption context (including the ESDK's own entries).
    pub context: EncryptionContext,
    /// Encrypted data keys.
    pub data_keys: Vec<EncryptedDataKey>,
    /// Plaintext bytes per regular frame.
    pub frame_length: u32,
    /// Key commitment.
    pub commitment: [u8; KEY_LEN],
}

/// Bounds on what a parsed header may ask of the reader.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most encrypted data keys accepted.
    pub max_data_keys: usize,
    /// Largest frame length accepted: a frame is held in memory until its tag checks.
    pub max_frame_length: u32,
    /// Largest header accepted (data keys and context included).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_data_keys: 256,
            max_frame_length: MAX_FRAME_LENGTH,
            max_header_bytes: 1 << 20,
        }
    }
}

/// The largest frame length this crate writes or reads (the format allows 2^31 - 1;
/// every frame is buffered whole before its tag is checked).
pub const MAX_FRAME_LENGTH: u32 = 64 << 20;

/// Serializes an encryption context (empty: no bytes at all).
pub fn serialize_context(context: &EncryptionContext) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if context.is_empty() {
        return Ok(out);
    }
    put_u16(&mut out, context.len(), "encryption context entries")?;
    for (k, v) in context {
        put_short_bytes(&mut out, k.as_bytes(), "an encryption context key")?;
        put_short_bytes(&mut out, v.as_bytes(), "an encryption context value")?;
    }
    if out.len() > usize::from(u16::MAX) {
        return Err(Error::Invalid(
            "the encryption context serializes to more than 65535 bytes".into(),
        ));
    }
    Ok(out)
}

/// Parses a serialized encryption context: no duplicate keys, UTF-8, nothing left over.
pub fn parse_context(bytes: &[u8]) -> Result<EncryptionContext, Error> {
    let mut context = EncryptionContext::new();
    if bytes.is_empty() {
        return Ok(context);
    }
    let mut r = bytes;
    let count = be16(take(&mut r, 2)?);
    if count == 0 {
        return Err(Error::Malformed(
            "an encryption context of zero entries must be empty".into(),
        ));
    }
    for _ in 0..count {
        let klen = usize::from(be16(take(&mut r, 2)?));
        let key = utf8(take(&mut r, klen)?, "encryption context key")?;
        let vlen = usize::from(be16(take(&mut r, 2)?));
        let value = utf8(take(&mut r, vlen)?, "encryption context value")?;
        if context.insert(key, value).is_some() {
            return Err(Error::Malformed(
                "the encryption context has a duplicate key".into(),
            ));
        }
    }
    if !r.is_empty() {
        return Err(Error::Malformed(
            "bytes left over after the encryption context".into(),
        ));
    }
    Ok(context)
}

impl Header {
    /// The serialized header body (everything the header authentication tag covers).
    pub(crate) fn serialize(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(256);
        out.push(VERSION_2);
        out.extend_from_slice(&self.suite.id().to_be_bytes());
        out.extend_from_slice(&self.message_id);
        let context = serialize_context(&self.context)?;
        put_short_bytes(&mut out, &context, "the encryption context")?;
        if self.data_keys.is_empty() {
            return Err(Error::Invalid(
                "a message needs an encrypted data key".into(),
            ));
        }
        put_u16(&mut out, self.data_keys.len(), "encrypted data keys")?;
        for k in &self.data_keys {
            put_short_bytes(&mut out, k.provider_id.as_bytes(), "a provider id")?;
            put_short_bytes(&mut out, &k.provider_info, "a provider info")?;
            put_short_bytes(&mut out, &k.ciphertext, "an encrypted data key")?;
        }
        out.push(CONTENT_FRAMED);
        out.extend_from_slice(&self.frame_length.to_be_bytes());
        out.extend_from_slice(&self.commitment);
        Ok(out)
    }
}

/// A header as read: the parsed fields, its exact bytes and its authentication tag.
#[derive(Debug, Clone)]
pub struct ParsedHeader {
    /// The fields.
    pub header: Header,
    pub(crate) raw: Vec<u8>,
    pub(crate) tag: [u8; TAG_LEN],
}

impl ParsedHeader {
    /// Bytes of the header and its authentication tag.
    pub fn header_len(&self) -> usize {
        self.raw.len() + TAG_LEN
    }
}

/// Reads the header and its authentication tag from the start of a message.
pub fn read_header<R: Read>(input: &mut R, limits: &Limits) -> Result<ParsedHeader, Error> {
    let mut r = Recorder {
        input,
        raw: Vec::with_capacity(512),
        max: limits.max_header_bytes,
    };
    let version = r.u8()?;
    match version {
        VERSION_2 => {}
        0x01 => {
            return Err(Error::Unsupported(
                "message format version 1 (no key commitment) is refused: this tool \
                 decrypts only key-committing messages (commitment policy \
                 require-encrypt-require-decrypt)"
                    .into(),
            ))
        }
        v => {
            return Err(Error::Malformed(format!(
                "not an AWS Encryption SDK message (version byte 0x{v:02x})"
            )))
        }
    }
    let suite_id = r.u16()?;
    let suite = Suite::from_id(suite_id).ok_or_else(|| {
        Error::Unsupported(format!(
            "algorithm suite 0x{suite_id:04X} (supported: 0x0578, 0x0478)"
        ))
    })?;
    let message_id = r.array::<32>()?;
    let context_len = usize::from(r.u16()?);
    let context = parse_context(&r.bytes(context_len)?)?;
    let count = usize::from(r.u16()?);
    if count == 0 {
        return Err(Error::Malformed(
            "the message has no encrypted data key".into(),
        ));
    }
    if count > limits.max_data_keys {
        return Err(Error::Unsupported(format!(
            "the message has {count} encrypted data keys, more than the {} allowed",
            limits.max_data_keys
        )));
    }
    let mut data_keys = Vec::with_capacity(count);
    for _ in 0..count {
        let len = usize::from(r.u16()?);
        let provider_id = utf8(&r.bytes(len)?, "provider id")?;
        let len = usize::from(r.u16()?);
        let provider_info = r.bytes(len)?;
        let len = usize::from(r.u16()?);
        let ciphertext = r.bytes(len)?;
        data_keys.push(EncryptedDataKey {
            provider_id,
            provider_info,
            ciphertext,
        });
    }
    match r.u8()? {
        CONTENT_FRAMED => {}
        CONTENT_NON_FRAMED => {
            return Err(Error::Unsupported(
                "non-framed message bodies (the ESDK writes framed ones by default)".into(),
            ))
        }
        t => return Err(Error::Malformed(format!("unknown content type 0x{t:02x}"))),
    }
    let frame_length = r.u32()?;
    if frame_length == 0 {
        return Err(Error::Malformed(
            "a framed message with frame length 0".into(),
        ));
    }
    if frame_length > limits.max_frame_length {
        return Err(Error::Unsupported(format!(
            "frame length {frame_length} is larger than the {} bytes allowed",
            limits.max_frame_length
        )));
    }
    let commitment = r.array::<KEY_LEN>()?;
    let raw = r.raw;
    let mut tag = [0u8; TAG_LEN];
    r.input
        .read_exact(&mut tag)
        .map_err(Error::reading("header authentication tag"))?;
    Ok(ParsedHeader {
        header: Header {
            suite,
            message_id,
            context,
            data_keys,
            frame_length,
            commitment,
        },
        raw,
        tag,
    })
}

/// Reads fields and keeps every byte read (the header tag authenticates them as sent).
struct Recorder<'a, R> {
    input: &'a mut R,
    raw: Vec<u8>,
    max: usize,
}

impl<R: Read> Recorder<'_, R> {
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        if self.raw.len().saturating_add(n) > self.max {
            return Err(Error::Unsupported(format!(
                "the header is larger than the {} bytes allowed",
                self.max
            )));
        }
        let mut buf = vec![0u8; n];
        self.input
            .read_exact(&mut buf)
            .map_err(Error::reading("header"))?;
        self.raw.extend_from_slice(&buf);
        Ok(buf)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut buf = [0u8; N];
        self.input
            .read_exact(&mut buf)
            .map_err(Error::reading("header"))?;
        self.raw.extend_from_slice(&buf);
        Ok(buf)
    }

    fn u8(&mut self) -> Result<u8, Error> {
        self.array::<1>().map(|[b]| b)
    }

    fn u16(&mut self) -> Result<u16, Error> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        self.array::<4>().map(u32::from_be_bytes)
    }
}

/// Splits `n` bytes off the front of `r`.
fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], Error> {
    if r.len() < n {
        return Err(Error::Malformed(
            "the encryption context is cut short".into(),
        ));
    }
    let (head, tail) = r.split_at(n);
    *r = tail;
    Ok(head)
}

fn be16(b: &[u8]) -> u16 {
    match b {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    }
}

fn utf8(b: &[u8], what: &str) -> Result<String, Error> {
    String::from_utf8(b.to_vec()).map_err(|_| Error::Malformed(format!("{what} is not UTF-8")))
}

fn put_u16(out: &mut Vec<u8>, n: usize, what: &str) -> Result<(), Error> {
    let n =
        u16::try_from(n).map_err(|_| Error::Invalid(format!("too many {what} (at most 65535)")))?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}

fn put_short_bytes(out: &mut Vec<u8>, b: &[u8], what: &str) -> Result<(), Error> {
    let n = u16::try_from(b.len())
        .map_err(|_| Error::Invalid(format!("{what} is longer than 65535 bytes")))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            suite: Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            message_id: [7; 32],
            context: [("b".to_string(), "2".to_string()), ("a".into(), "1".into())]
                .into_iter()
                .collect(),
            data_keys: vec![EncryptedDataKey {
                provider_id: PROVIDER_AWS_KMS.into(),
                provider_info: b"arn:aws:kms:us-east-1:111122223333:key/k".to_vec(),
                ciphertext: vec![9; 40],
            }],
            frame_length: 4096,
            commitment: [5; 32],
        }
    }

    #[test]
    fn header_round_trips_and_context_is_sorted() -> Result<(), Error> {
        let h = sample();
        let mut bytes = h.serialize()?;
        // a < b whatever the insertion order.
        let ctx = serialize_context(&h.context)?;
        assert_eq!(ctx, [0, 2, 0, 1, b'a', 0, 1, b'1', 0, 1, b'b', 0, 1, b'2']);
        bytes.extend_from_slice(&[0xAA; TAG_LEN]);
        let parsed = read_header(&mut bytes.as_slice(), &Limits::default())?;
        assert_eq!(parsed.header, h);
        assert_eq!(parsed.tag, [0xAA; TAG_LEN]);
        assert_eq!(parsed.raw.len(), bytes.len() - TAG_LEN);
        Ok(())
    }

    #[test]
    fn every_truncation_is_reported() -> Result<(), Error> {
        let mut bytes = sample().serialize()?;
        bytes.extend_from_slice(&[0; TAG_LEN]);
        for cut in 0..bytes.len() {
            let r = read_header(
                &mut bytes.get(..cut).unwrap_or_default(),
                &Limits::default(),
            );
            assert!(matches!(r, Err(Error::Truncated(_))), "cut at {cut}: {r:?}");
        }
        Ok(())
    }

    #[test]
    fn refuses_unknown_versions_suites_and_limits() -> Result<(), Error> {
        let good = sample().serialize()?;
        let mut v1 = good.clone();
        v1[0] = 1;
        assert!(matches!(
            read_header(&mut v1.as_slice(), &Limits::default()),
            Err(Error::Unsupported(_))
        ));
        let mut suite = good.clone();
        suite[1] = 0x03; // 0x0378: the non-committing default of format version 1
        suite[2] = 0x78;
        assert!(
            matches!(read_header(&mut suite.as_slice(), &Limits::default()), Err(Error::Unsupported(m)) if m.contains("0x0378"))
        );
        let few = Limits {
            max_data_keys: 0,
            ..Limits::default()
        };
        assert!(matches!(
            read_header(&mut good.as_slice(), &few),
            Err(Error::Unsupported(_))
        ));
        let mut big = sample();
        big.frame_length = MAX_FRAME_LENGTH + 1;
        let big = big.serialize()?;
        assert!(matches!(
            read_header(&mut big.as_slice(), &Limits::default()),
            Err(Error::Unsupported(_))
        ));
        Ok(())
    }

    #[test]
    fn refuses_duplicate_and_trailing_context_bytes() {
        let dup = [0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0];
        assert!(matches!(parse_context(&dup), Err(Error::Malformed(_))));
        let trailing = [0, 1, 0, 1, b'a', 0, 0, 0xFF];
        assert!(matches!(parse_context(&trailing), Err(Error::Malformed(_))));
        let zero = [0, 0];
        assert!(matches!(parse_context(&zero), Err(Error::Malformed(_))));
        let bad_utf8 = [0, 1, 0, 1, 0xFF, 0, 0];
        assert!(matches!(parse_context(&bad_utf8), Err(Error::Malformed(_))));
    }
}
