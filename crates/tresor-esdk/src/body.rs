//! Frame nonces and associated data, shared by encryption and decryption.

use aws_lc_rs::aead::Nonce;

/// Sequence-number field value that opens the final frame.
pub(crate) const FINAL_FRAME_MARKER: u32 = u32::MAX;
/// The body AAD content string of regular frames.
const FRAME: &[u8] = b"AWSKMSEncryptionClient Frame";
/// The body AAD content string of the final frame.
const FINAL_FRAME: &[u8] = b"AWSKMSEncryptionClient Final Frame";
/// Length of frame IVs.
pub(crate) const IV_LEN: usize = 12;

/// A frame's IV: its sequence number, big-endian, right-aligned in 12 zero bytes
/// (the header's IV is all zeros: sequence number 0).
pub(crate) fn iv(sequence: u32) -> [u8; IV_LEN] {
    let [a, b, c, d] = sequence.to_be_bytes();
    [0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d]
}

/// The nonce for `iv`.
pub(crate) fn nonce(iv: [u8; IV_LEN]) -> Nonce {
    Nonce::assume_unique_for_key(iv)
}

/// The frame AAD: message id ‖ content string ‖ sequence number ‖ plaintext length.
pub(crate) fn aad(message_id: &[u8; 32], final_frame: bool, sequence: u32, len: usize) -> Vec<u8> {
    let content = if final_frame { FINAL_FRAME } else { FRAME };
    let mut aad = Vec::with_capacity(32 + content.len() + 12);
    aad.extend_from_slice(message_id);
    aad.extend_from_slice(content);
    aad.extend_from_slice(&sequence.to_be_bytes());
    aad.extend_from_slice(&(len as u64).to_be_bytes());
    aad
}
