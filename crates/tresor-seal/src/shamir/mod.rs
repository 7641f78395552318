//! The Shamir sealer: a random 256-bit secret is split into N shares (any T reassemble
//! it) with [`blahaj`] over GF(256); the seal file keeps only the root key encrypted under
//! a key derived from that secret, and a check value.
//!
//! Splitting a separate secret rather than the root key itself means a rekey (new shares)
//! and a root rotation (new root key, same shares) each change one thing, and a full set
//! of shares is useless without the data directory's seal file.

mod share;
mod unsealer;

pub use share::{Share, ShareText};
pub use unsealer::{Progress, Resealer, Step, Unsealed, Unsealer};

use crate::envelope::DerivedKeys;
use crate::seal_file::{b64, now_rfc3339, random_id, SealFile, SealerRecord, ShamirRecord};
use crate::{Initialized, RootMaterial, SealError, Sealer, SealerKind, SEAL_FORMAT_V1};
use share::SHARE_VALUE_LEN;
use std::path::Path;
use zeroize::Zeroizing;

/// How many shares to issue and how many unseal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShamirParams {
    shares: u8,
    threshold: u8,
}

impl Default for ShamirParams {
    /// 5 shares, threshold 3.
    fn default() -> Self {
        Self {
            shares: 5,
            threshold: 3,
        }
    }
}

impl ShamirParams {
    /// `shares` (1..=255) shares, any `threshold` of which unseal. A threshold of 1 is
    /// allowed only with a single share (it would make every share the whole secret).
    pub fn new(shares: u8, threshold: u8) -> Result<Self, SealError> {
        if shares == 0 || threshold == 0 {
            return Err(SealError::InvalidParameters(
                "shares and threshold must be at least 1".into(),
            ));
        }
        if threshold > shares {
            return Err(SealError::InvalidParameters(format!(
                "threshold {threshold} is above the number of shares {shares}"
            )));
        }
        if threshold == 1 && shares > 1 {
            return Err(SealError::InvalidParameters(
                "a threshold of 1 with several shares makes each share the whole secret; use a threshold of at least 2".into(),
            ));
        }
        Ok(Self { shares, threshold })
    }

    /// Number of shares.
    pub fn shares(&self) -> u8 {
        self.shares
    }

    /// Shares needed to unseal.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }
}

/// The Shamir sealer, for `init`. Unsealing is interactive: see [`Unsealer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ShamirSealer {
    params: ShamirParams,
}

impl ShamirSealer {
    /// A sealer issuing shares per `params`.
    pub fn new(params: ShamirParams) -> Self {
        Self { params }
    }
}

impl Sealer for ShamirSealer {
    type Secrets = Vec<Share>;

    fn kind(&self) -> SealerKind {
        SealerKind::Shamir
    }

    fn init(
        &self,
        dir: &Path,
        root: Option<RootMaterial>,
    ) -> Result<Initialized<Vec<Share>>, SealError> {
        let root = match root {
            Some(r) => r,
            None => RootMaterial::generate()?,
        };
        let secrets = seal_root(dir, self.params, &root, false)?;
        Ok(Initialized { root, secrets })
    }

    /// Submits `secrets` in order to an [`Unsealer`]; the threshold's worth must unseal.
    fn unseal(&self, dir: &Path, secrets: &Vec<Share>) -> Result<RootMaterial, SealError> {
        let mut unsealer = Unsealer::open(dir)?;
        for share in secrets {
            if let Step::Unsealed(done) = unsealer.submit_share(share.clone())? {
                return Ok(done.into_parts().0);
            }
        }
        Err(SealError::InvalidParameters(format!(
            "{} of {} shares given",
            secrets.len(),
            unsealer.progress().threshold
        )))
    }
}

/// Makes a new share set for `root` and writes the seal file (replacing one only when
/// `replace`). Returns the shares, which exist nowhere else.
pub(crate) fn seal_root(
    dir: &Path,
    params: ShamirParams,
    root: &RootMaterial,
    replace: bool,
) -> Result<Vec<Share>, SealError> {
    let secret = tresor_crypto::random::secret(SHARE_VALUE_LEN)?;
    let set_id = random_id()?;
    let created = now_rfc3339();
    let keys = DerivedKeys::derive(secret.expose(), &set_id)?;
    let mut record = ShamirRecord {
        share_set_id: set_id.clone(),
        shares: params.shares,
        threshold: params.threshold,
        check: b64(&keys.check_value(&set_id)),
        encrypted_root_key: String::new(),
    };
    record.encrypted_root_key = b64(&keys.seal_root(root, &aad(&record, &created))?);
    let file = SealFile {
        format: SEAL_FORMAT_V1,
        created,
        sealer: SealerRecord::Shamir(record),
    };
    let dealer = blahaj::Sharks(params.threshold).dealer(secret.expose());
    let shares = dealer
        .take(usize::from(params.shares))
        .map(|s| {
            let bytes = Zeroizing::new(Vec::from(&s));
            let (x, y) = bytes.split_first().unwrap_or((&0, &[]));
            Share::new(&set_id, *x, Zeroizing::new(y.to_vec()))
        })
        .collect::<Vec<_>>();
    if shares.len() != usize::from(params.shares) || shares.iter().any(|s| s.index() == 0) {
        return Err(SealError::InvalidParameters(
            "could not make the shares".into(),
        ));
    }
    file.write(dir, replace)?;
    Ok(shares)
}

/// The AES-GCM AAD of the encrypted root key: format version, sealer, share-set id,
/// N, T and creation time, so none of them can be edited in the seal file.
pub(crate) fn aad(record: &ShamirRecord, created: &str) -> Vec<u8> {
    format!(
        "tresor-seal:v{SEAL_FORMAT_V1}\0shamir\0{}\0{}\0{}\0{created}",
        record.share_set_id, record.shares, record.threshold
    )
    .into_bytes()
}
