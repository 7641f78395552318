//! Double encryption for keys in an external key store, as AWS does it: Tresor seals
//! the plaintext with the key's own material first (the usual blob), then the proxy's
//! external key encrypts that result. Neither Tresor's material nor the external key
//! alone opens the ciphertext.
//!
//! The blob keeps the usual 37-byte header (format 1, key id, material version, nonce)
//! so Decrypt finds the key without a KeyId; after it comes
//! `len8(iv) ‖ iv ‖ len8(metadata) ‖ metadata ‖ tag(16) ‖ ciphertext`, the proxy's
//! answer to Encrypt of the inner blob's body (its AES-GCM ciphertext and tag). The
//! AAD sent to the proxy is `header ‖ SHA-256(canonical encryption context)`, so the
//! external layer is bound to the key, the version and the context too. See
//! `docs/formats.md`.

use super::envelope::invalid_ciphertext;
use crate::cache::{CachedKey, KeyMaterial};
use crate::custom_key_stores::xks::XksCiphertext;
use crate::custom_key_stores::XksConnection;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::Call;
use crate::wire::{canonical_context, EncryptionContext};
use tresor_crypto::blob::{self, HEADER_LEN};
use tresor_crypto::SecretBytes;

/// The AAD of the external layer.
fn external_aad(header: &[u8], context: &[u8]) -> Vec<u8> {
    [header, &tresor_crypto::sha256(&[context])].concat()
}

fn xks_key_id(key: &CachedKey) -> KmsResult<&str> {
    key.rare()
        .xks_key_id
        .as_deref()
        .ok_or_else(|| KmsError::internal(format!("key {} has no XksKeyId", key.arn)))
}

/// Seals `plaintext` under `key`'s current material, then under its external key.
pub(super) fn seal(
    call: &Call<'_>,
    key: &CachedKey,
    xks: &XksConnection,
    context: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> KmsResult<(Vec<u8>, Option<String>)> {
    let (version, material) = key.current_material()?;
    let KeyMaterial::Symmetric(sym) = &material.key else {
        return Err(KmsError::internal(format!(
            "key {} has no symmetric material",
            key.arn
        )));
    };
    let context = canonical_context(context);
    let inner = blob::seal_as(sym, key.id_bytes()?, false, version, &context, plaintext)
        .map_err(KmsError::internal)?;
    let (header, body) = inner
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| KmsError::internal("short blob"))?;
    let outer = xks
        .encrypt(
            xks_key_id(key)?,
            call.xks_who(Some(&key.arn)),
            body,
            &external_aad(header, &context),
        )
        .map_err(|f| {
            tracing::warn!(key = %key.arn, "external key store proxy Encrypt failed: {f:?}");
            f.crypto_error(&key.arn)
        })?;
    Ok((
        [header, &outer.encode()?].concat(),
        Some(material.material_id.to_string()),
    ))
}

/// Opens a blob made by [`seal`]: the external key first, then Tresor's material.
pub(super) fn open(
    call: &Call<'_>,
    key: &CachedKey,
    xks: &XksConnection,
    version: u32,
    ciphertext: &[u8],
    context: Option<&EncryptionContext>,
) -> KmsResult<(SecretBytes, Option<String>)> {
    let (header, rest) = ciphertext
        .split_at_checked(HEADER_LEN)
        .ok_or_else(invalid_ciphertext)?;
    let outer = XksCiphertext::decode(rest).ok_or_else(invalid_ciphertext)?;
    let material = key.materials.get(&version).ok_or_else(invalid_ciphertext)?;
    let KeyMaterial::Symmetric(sym) = &material.key else {
        return Err(invalid_ciphertext());
    };
    let context = canonical_context(context);
    let body = xks
        .decrypt(
            xks_key_id(key)?,
            call.xks_who(Some(&key.arn)),
            &outer,
            &external_aad(header, &context),
        )
        .map_err(|f| {
            tracing::warn!(key = %key.arn, "external key store proxy Decrypt failed: {f:?}");
            f.crypto_error(&key.arn)
        })?;
    let inner = SecretBytes::new([header, body.expose()].concat());
    let plaintext = blob::open(sym, inner.expose(), &context).map_err(|_| invalid_ciphertext())?;
    Ok((plaintext, Some(material.material_id.to_string())))
}
