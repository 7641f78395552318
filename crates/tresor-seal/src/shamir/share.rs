//! One Shamir share and its text form for humans:
//!
//! `tresor-share:v1:<share-set id>:<index>:<value, base64url>:<checksum>`
//!
//! The share-set id recognises shares of another data directory or of before a rekey;
//! the checksum (first 4 bytes of SHA-256 of everything before it, hex) catches typos
//! before they count as a wrong share.

use crate::SealError;
use aws_lc_rs::digest;
use base64::Engine as _;
use std::fmt;
use zeroize::Zeroizing;

const PREFIX: &str = "tresor-share";
const VERSION: &str = "v1";
/// Bytes in a share's value: one per byte of the shared secret.
pub(crate) const SHARE_VALUE_LEN: usize = 32;

/// One share of a share set. Zeroized on drop; `Debug` shows only the set id and index.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    set_id: String,
    index: u8,
    value: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share({}#{}, REDACTED)", self.set_id, self.index)
    }
}

/// A share's text, zeroized on drop; `Debug` is redacted. Print it once, to the operator.
#[derive(Clone, PartialEq, Eq)]
pub struct ShareText(Zeroizing<String>);

impl fmt::Debug for ShareText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareText(REDACTED)")
    }
}

impl ShareText {
    /// The text to hand to the share holder.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Share {
    pub(crate) fn new(set_id: &str, index: u8, value: Zeroizing<Vec<u8>>) -> Self {
        Self {
            set_id: set_id.to_owned(),
            index,
            value,
        }
    }

    /// The share-set id this share belongs to.
    pub fn set_id(&self) -> &str {
        &self.set_id
    }

    /// The share's index (its x coordinate, 1..=255).
    pub fn index(&self) -> u8 {
        self.index
    }

    pub(crate) fn value(&self) -> &[u8] {
        &self.value
    }

    /// The text form.
    pub fn encode(&self) -> ShareText {
        let body = Zeroizing::new(format!(
            "{PREFIX}:{VERSION}:{}:{}:{}",
            self.set_id,
            self.index,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.value.as_slice())
        ));
        let sum = checksum(&body);
        ShareText(Zeroizing::new(format!("{}:{sum}", body.as_str())))
    }

    /// Parses the text form (surrounding whitespace is ignored).
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let (body, sum) = text
            .rsplit_once(':')
            .ok_or(SealError::MalformedShare("not a Tresor share"))?;
        let mut parts = body.split(':');
        let (Some(prefix), Some(version), Some(set_id), Some(index), Some(value), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SealError::MalformedShare("not a Tresor share"));
        };
        if prefix != PREFIX {
            return Err(SealError::MalformedShare("not a Tresor share"));
        }
        if version != VERSION {
            return Err(SealError::MalformedShare("unknown share format version"));
        }
        if checksum(body) != sum {
            return Err(SealError::MalformedShare(
                "checksum mismatch (mistyped or truncated share)",
            ));
        }
        if set_id.len() != 16 || !set_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SealError::MalformedShare("bad share-set id"));
        }
        let index: u8 = index
            .parse()
            .ok()
            .filter(|i| *i != 0)
            .ok_or(SealError::MalformedShare("bad share index"))?;
        let value = Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value)
                .map_err(|_| SealError::MalformedShare("bad share value"))?,
        );
        if value.len() != SHARE_VALUE_LEN {
            return Err(SealError::MalformedShare(
                "share value has the wrong length",
            ));
        }
        Ok(Self::new(&set_id.to_ascii_lowercase(), index, value))
    }
}

fn checksum(body: &str) -> String {
    let d = digest::digest(&digest::SHA256, body.as_bytes());
    d.as_ref()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn share() -> Share {
        Share::new("0123456789abcdef", 3, Zeroizing::new(vec![0xA5; 32]))
    }

    #[test]
    fn text_round_trips() {
        let s = share();
        let text = s.encode();
        assert!(text
            .expose()
            .starts_with("tresor-share:v1:0123456789abcdef:3:"));
        assert_eq!(Share::parse(&format!("  {}\n", text.expose())).unwrap(), s);
    }

    #[test]
    fn typos_and_garbage_are_malformed() {
        let text = share().encode().expose().to_owned();
        let mut typo = text.clone().into_bytes();
        if let Some(b) = typo.get_mut(40) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        let typo = String::from_utf8(typo).unwrap();
        for bad in [
            "",
            "hello",
            &typo,
            &text[..text.len() - 3],
            &text.replace("v1", "v9"),
            &format!("{text}:extra"),
        ] {
            assert!(
                matches!(Share::parse(bad), Err(SealError::MalformedShare(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_hides_the_value() {
        let s = share();
        let shown = format!("{s:?} {:?}", s.encode());
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xA5u8; 32]);
        assert!(!shown.contains(&value), "{shown}");
        assert!(!shown.contains("a5a5"), "{shown}");
    }
}
