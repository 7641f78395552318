//! A minimal, strict DER reader and writer: just enough to check the algorithm identifier
//! of a SubjectPublicKeyInfo and to encode/decode ML-KEM keys, which aws-lc-rs exposes only
//! as raw bytes.

/// Universal tags used here.
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// OID contents (without tag and length).
pub(crate) mod oid {
    /// rsaEncryption, 1.2.840.113549.1.1.1.
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// id-ecPublicKey, 1.2.840.10045.2.1.
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// prime256v1 / secp256r1, 1.2.840.10045.3.1.7.
    pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// secp384r1, 1.3.132.0.34.
    pub(crate) const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// secp521r1, 1.3.132.0.35.
    pub(crate) const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// secp256k1, 1.3.132.0.10.
    pub(crate) const SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
    /// id-Ed25519, 1.3.101.112.
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// id-ml-dsa-44, 2.16.840.1.101.3.4.3.17.
    pub(crate) const ML_DSA_44: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];
    /// id-ml-dsa-65, 2.16.840.1.101.3.4.3.18.
    pub(crate) const ML_DSA_65: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
    /// id-ml-dsa-87, 2.16.840.1.101.3.4.3.19.
    pub(crate) const ML_DSA_87: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13];
    /// id-alg-ml-kem-512, 2.16.840.1.101.3.4.4.1.
    pub(crate) const ML_KEM_512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x01];
    /// id-alg-ml-kem-768, 2.16.840.1.101.3.4.4.2.
    pub(crate) const ML_KEM_768: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02];
    /// id-alg-ml-kem-1024, 2.16.840.1.101.3.4.4.3.
    pub(crate) const ML_KEM_1024: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x03];
}

/// Reads consecutive TLVs from a buffer (definite, minimal lengths only; single-byte tags).
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element: (tag, contents).
    pub(crate) fn read_any(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, after_tag) = self.rest.split_first()?;
        // Multi-byte (high-tag-number) tags are never needed here.
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 3 {
                return None; // indefinite, or absurdly long
            }
            let (len_bytes, tail) = after_len.split_at_checked(n)?;
            after_len = tail;
            let mut len = 0usize;
            for &b in len_bytes {
                len = (len << 8) | usize::from(b);
            }
            // Minimal encoding: long form only for >= 128, no leading zero byte.
            if len < 0x80 || len_bytes.first() == Some(&0) {
                return None;
            }
            len
        };
        let (contents, rest) = after_len.split_at_checked(len)?;
        self.rest = rest;
        Some((tag, contents))
    }

    /// Reads the next element, which must have tag `tag`; returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read_any()? {
            (t, contents) if t == tag => Some(contents),
            _ => None,
        }
    }
}

/// Parses the whole of `der` as exactly one element with tag `tag`.
pub(crate) fn single(der: &[u8], tag: u8) -> Option<&[u8]> {
    let mut r = Reader::new(der);
    let contents = r.read(tag)?;
    r.is_empty().then_some(contents)
}

/// An AlgorithmIdentifier: the OID and the raw parameters element (tag, contents), if any.
pub(crate) struct AlgorithmIdentifier<'a> {
    pub(crate) oid: &'a [u8],
    pub(crate) params: Option<(u8, &'a [u8])>,
}

fn algorithm_identifier(contents: &[u8]) -> Option<AlgorithmIdentifier<'_>> {
    let mut r = Reader::new(contents);
    let oid = r.read(TAG_OID)?;
    let params = if r.is_empty() {
        None
    } else {
        Some(r.read_any()?)
    };
    r.is_empty().then_some(AlgorithmIdentifier { oid, params })
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct Spki<'a> {
    pub(crate) algorithm: AlgorithmIdentifier<'a>,
    /// The subject public key (the BIT STRING's contents after the unused-bits byte, which must be 0).
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo (structure only; the key itself is not validated).
pub(crate) fn parse_spki(der: &[u8]) -> Option<Spki<'_>> {
    let mut r = Reader::new(single(der, TAG_SEQUENCE)?);
    let algorithm = algorithm_identifier(r.read(TAG_SEQUENCE)?)?;
    let bits = r.read(TAG_BIT_STRING)?;
    if !r.is_empty() {
        return None;
    }
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then_some(Spki { algorithm, key })
}

/// A parsed PKCS#8 (RFC 5208 / RFC 5958) private key info: algorithm and privateKey contents.
/// Optional attributes and the v2 public key are accepted and ignored.
pub(crate) struct PrivateKeyInfo<'a> {
    pub(crate) algorithm: AlgorithmIdentifier<'a>,
    pub(crate) private_key: &'a [u8],
}

pub(crate) fn parse_pkcs8(der: &[u8]) -> Option<PrivateKeyInfo<'_>> {
    let mut r = Reader::new(single(der, TAG_SEQUENCE)?);
    let version = r.read(TAG_INTEGER)?;
    if version != [0] && version != [1] {
        return None;
    }
    let algorithm = algorithm_identifier(r.read(TAG_SEQUENCE)?)?;
    let private_key = r.read(TAG_OCTET_STRING)?;
    // [0] attributes, [1] publicKey (v2): context-specific, ignored.
    while let Some(tag) = r.peek_tag() {
        if tag & 0xc0 != 0x80 {
            return None;
        }
        r.read_any()?;
    }
    Some(PrivateKeyInfo {
        algorithm,
        private_key,
    })
}

/// Length of the tag and length octets for `len` bytes of contents.
pub(crate) fn header_len(len: usize) -> usize {
    match len {
        0..=0x7f => 2,
        0x80..=0xff => 3,
        0x100..=0xffff => 4,
        _ => 5,
    }
}

/// Appends the tag and length octets of an element with `len` bytes of contents
/// (lengths up to 2^24 - 1, more than any key here).
pub(crate) fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    let bytes = (len as u32).to_be_bytes();
    match header_len(len) {
        2 => out.push(len as u8),
        3 => out.extend_from_slice(&[0x81, len as u8]),
        4 => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        _ => {
            out.push(0x83);
            out.extend_from_slice(bytes.get(1..).unwrap_or_default());
        }
    }
}

/// Encodes one element.
pub(crate) fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header_len(contents.len()) + contents.len());
    push_header(&mut out, tag, contents.len());
    out.extend_from_slice(contents);
    out
}

/// Concatenates already-encoded elements into a SEQUENCE.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &parts.concat())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn length_forms_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 3168, 70_000] {
            let body = vec![0xabu8; len];
            let enc = tlv(TAG_OCTET_STRING, &body);
            assert_eq!(
                single(&enc, TAG_OCTET_STRING),
                Some(body.as_slice()),
                "{len}"
            );
        }
    }

    #[test]
    fn rejects_non_minimal_and_indefinite_lengths() {
        assert!(single(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], TAG_OCTET_STRING).is_none());
        assert!(single(&[0x04, 0x80, 0x00, 0x00], TAG_OCTET_STRING).is_none());
        assert!(single(&[0x04, 0x03, 1, 2], TAG_OCTET_STRING).is_none());
        assert!(single(&[0x04, 0x01, 1, 2], TAG_OCTET_STRING).is_none());
    }
}
