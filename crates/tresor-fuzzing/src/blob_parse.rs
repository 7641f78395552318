//! `blob_parse`: arbitrary bytes as a ciphertext blob (`tresor_crypto::blob`), and as a
//! plaintext that must survive a seal/open round trip.
//!
//! Input: `context 0x00 blob`; the context bytes are one encryption-context value.

use std::sync::OnceLock;
use tresor_crypto::blob;
use tresor_crypto::symmetric::SymmetricKey;

fn key() -> Option<&'static SymmetricKey> {
    static KEY: OnceLock<Option<SymmetricKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        SymmetricKey::from_material(tresor_crypto::SecretBytes::new(vec![7; 32])).ok()
    })
    .as_ref()
}

/// Runs one input; panics only when a sealed blob does not open to its plaintext.
pub fn run(data: &[u8]) {
    let Some(key) = key() else {
        return;
    };
    let (value, body) = crate::split_at_byte(data, 0);
    let value = String::from_utf8_lossy(value);
    let context = blob::canonical_context([("Purpose", value.as_ref())].into_iter());
    if let Ok(header) = blob::parse_header(body) {
        // A header that parses is one a forger can write: opening must still fail.
        let opened = blob::open(key, body, &context);
        check(opened.is_err(), "a forged blob opened");
        let _ = header.version;
    }
    let sealed = blob::seal(key, [1; 16], 3, &context, body);
    if let Ok(sealed) = sealed {
        let header = blob::parse_header(&sealed);
        check(
            header.is_ok_and(|h| h.key_id == [1; 16] && h.version == 3),
            "the header of a sealed blob does not parse back",
        );
        let opened = blob::open(key, &sealed, &context);
        check(
            opened.is_ok_and(|p| p.expose() == body),
            "a sealed blob does not open to its plaintext",
        );
    }
}

#[allow(clippy::panic)]
fn check(ok: bool, what: &str) {
    if !ok {
        panic!("blob_parse: {what}");
    }
}
