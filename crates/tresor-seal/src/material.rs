//! The root key's raw 256 bits, as sealers see them.

use crate::SealError;
use std::fmt;
use tresor_crypto::{random, RootKey, SecretBytes};

/// Length of the root key in bytes.
pub const ROOT_KEY_LEN: usize = 32;

/// The root key's 256 bits of material, zeroized on drop, redacted in `Debug`.
///
/// Sealers encrypt and decrypt this; the server turns it into a [`RootKey`] and drops it.
#[derive(Clone, PartialEq, Eq)]
pub struct RootMaterial(SecretBytes);

impl fmt::Debug for RootMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootMaterial(REDACTED)")
    }
}

impl RootMaterial {
    /// 256 fresh random bits from the system generator.
    pub fn generate() -> Result<Self, SealError> {
        Ok(Self(random::secret(ROOT_KEY_LEN)?))
    }

    /// Takes existing material (e.g. for root rotation); it must be exactly 32 bytes.
    pub fn from_secret(material: SecretBytes) -> Result<Self, SealError> {
        if material.len() != ROOT_KEY_LEN {
            return Err(SealError::InvalidParameters(format!(
                "a root key is {ROOT_KEY_LEN} bytes, not {}",
                material.len()
            )));
        }
        Ok(Self(material))
    }

    /// The usable root key.
    pub fn root_key(&self) -> Result<RootKey, SealError> {
        Ok(RootKey::from_material(&self.0)?)
    }

    /// The raw bytes; only sealers need them.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}
