//! Sealers for Tresor's root key: how the 256-bit root key is kept at rest so that it is
//! never on disk in the clear (see `docs/sealing.md`).
//!
//! Every data directory has a seal file (`seal.json`, [`SealFile`]) naming its sealer:
//!
//! - [`shamir`]: N shares, any T of which unseal. The seal file holds the root key
//!   encrypted under a key derived from the secret the shares reassemble, and a check
//!   value; the server starts sealed and an [`shamir::Unsealer`] collects shares.
//! - [`pkcs11`]: a non-extractable AES-256 key inside an HSM encrypts the root key; the
//!   server unseals itself at start with the PIN from a file.
//! - `file`: the development sealer ([`tresor_crypto::FileSealer`], `root.key` in clear).
//!   [`SealFile::dev_file`] records it so that `serve` refuses it outside `--dev`.
//!
//! # Using it from the server and CLI
//!
//! ```no_run
//! # fn main() -> Result<(), tresor_seal::SealError> {
//! use tresor_seal::shamir::{ShamirParams, ShamirSealer, Step, Unsealer};
//! use tresor_seal::{DirectorySeal, Sealer, SealerKind};
//! # let dir = std::path::Path::new("/var/lib/tresor");
//! // tresor init --sealer shamir --shares 5 --threshold 3
//! let init = ShamirSealer::new(ShamirParams::new(5, 3)?).init(dir, None)?;
//! for share in &init.secrets {
//!     println!("{}", share.encode().expose()); // printed once, never stored
//! }
//!
//! // tresor serve: decide how to start
//! match DirectorySeal::detect(dir)?.kind() {
//!     Some(SealerKind::Shamir) => {
//!         let mut unsealer = Unsealer::open(dir)?; // start sealed
//!         # let share_text = "";
//!         // POST unseal, one share per call:
//!         match unsealer.submit(share_text)? {
//!             Step::Progress(p) => println!("{}/{}", p.progress, p.threshold),
//!             Step::Unsealed(done) => {
//!                 let (material, _resealer) = done.into_parts();
//!                 let _root_key = material.root_key()?; // serve with it
//!             }
//!         }
//!     }
//!     Some(SealerKind::Pkcs11) => { /* Pkcs11Sealer::new(config).unseal(dir, &())? */ }
//!     Some(SealerKind::File) => { /* only with --dev */ }
//!     None => { /* not initialized */ }
//! }
//! # Ok(()) }
//! ```
//!
//! Rekey (`tresor operator rekey`): collect a quorum of the current shares with a fresh
//! [`shamir::Unsealer`], then [`shamir::Unsealed::rekey`]. Root rotation: generate a new
//! [`RootMaterial`], re-wrap everything, then [`shamir::Resealer::replace_root`] (same
//! shares) or, for PKCS#11, `init` into a fresh directory / seal file.
#![deny(missing_docs)]

mod envelope;
mod error;
mod material;
pub mod pkcs11;
mod seal_file;
pub mod shamir;
pub mod token;

pub use error::SealError;
pub use material::{RootMaterial, ROOT_KEY_LEN};
pub use seal_file::{
    DirectorySeal, Pkcs11Record, SealFile, SealerKind, SealerRecord, ShamirRecord,
    DEV_ROOT_KEY_FILE, SEAL_FILE_NAME, SEAL_FORMAT_V1,
};

use std::path::Path;

/// What `init` returns: the root key material (to build the server's root key) and what
/// the operators must keep to unseal (shares for Shamir, nothing for PKCS#11).
#[derive(Debug)]
pub struct Initialized<S> {
    /// The sealed root key's material.
    pub root: RootMaterial,
    /// What unseals it.
    pub secrets: S,
}

/// Protects the root key at rest in a data directory's seal file.
///
/// The same contract test suite runs against every implementation.
pub trait Sealer {
    /// What the operators get from `init` and give back to `unseal`.
    type Secrets: std::fmt::Debug;

    /// Which sealer this is.
    fn kind(&self) -> SealerKind;

    /// Seals `root` (a fresh random root key when `None`) into `dir/seal.json`, which
    /// must not exist yet.
    fn init(
        &self,
        dir: &Path,
        root: Option<RootMaterial>,
    ) -> Result<Initialized<Self::Secrets>, SealError>;

    /// Recovers the root key from `dir/seal.json` with `secrets`.
    fn unseal(&self, dir: &Path, secrets: &Self::Secrets) -> Result<RootMaterial, SealError>;
}
