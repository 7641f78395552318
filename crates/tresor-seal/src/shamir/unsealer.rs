//! The unseal state machine: shares arrive one at a time (one per operator), and at the
//! threshold the secret is reassembled, checked and used to decrypt the root key.

use super::{aad, seal_root, ShamirParams, Share};
use crate::envelope::DerivedKeys;
use crate::seal_file::{b64, unb64, SealFile, SealerRecord, ShamirRecord};
use crate::{RootMaterial, SealError, SealerKind};
use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

/// How far an unseal has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct valid shares submitted so far.
    pub progress: u8,
    /// Shares needed.
    pub threshold: u8,
}

/// The outcome of one accepted share.
#[derive(Debug)]
pub enum Step {
    /// More shares are needed.
    Progress(Progress),
    /// The threshold was reached and the shares were right.
    Unsealed(Box<Unsealed>),
}

/// Collects shares for one seal file. Holds the submitted shares (zeroized on drop)
/// until the threshold is reached or [`Unsealer::reset`] is called.
pub struct Unsealer {
    record: ShamirRecord,
    created: String,
    shares: Vec<Share>,
}

impl fmt::Debug for Unsealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsealer")
            .field("share_set_id", &self.record.share_set_id)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Unsealer {
    /// An unsealer for data directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, SealError> {
        Self::new(SealFile::read(dir)?)
    }

    /// An unsealer for an already read seal file; it must be a Shamir one.
    pub fn new(file: SealFile) -> Result<Self, SealError> {
        let kind = file.kind();
        let SealerRecord::Shamir(record) = file.sealer else {
            return Err(SealError::WrongSealer {
                expected: SealerKind::Shamir.name(),
                found: kind.name(),
            });
        };
        Ok(Self {
            record,
            created: file.created,
            shares: Vec::new(),
        })
    }

    /// Shares so far and the threshold.
    pub fn progress(&self) -> Progress {
        Progress {
            progress: u8::try_from(self.shares.len()).unwrap_or(u8::MAX),
            threshold: self.record.threshold,
        }
    }

    /// The share-set id the shares must carry.
    pub fn share_set_id(&self) -> &str {
        &self.record.share_set_id
    }

    /// Forgets the shares submitted so far.
    pub fn reset(&mut self) {
        self.shares.clear();
    }

    /// Parses and submits one share in text form.
    pub fn submit(&mut self, text: &str) -> Result<Step, SealError> {
        self.submit_share(Share::parse(text)?)
    }

    /// Submits one share. Malformed, foreign and duplicate shares are refused and leave
    /// the progress as it was; at the threshold, a combination that fails the check value
    /// is refused with [`SealError::WrongShares`] and the progress is reset.
    pub fn submit_share(&mut self, share: Share) -> Result<Step, SealError> {
        if share.set_id() != self.record.share_set_id {
            return Err(SealError::ForeignShare);
        }
        if self.shares.iter().any(|s| s.index() == share.index()) {
            return Err(SealError::DuplicateShare(share.index()));
        }
        self.shares.push(share);
        if self.shares.len() < usize::from(self.record.threshold) {
            return Ok(Step::Progress(self.progress()));
        }
        let result = self.combine();
        self.reset();
        result.map(|u| Step::Unsealed(Box::new(u)))
    }

    fn combine(&self) -> Result<Unsealed, SealError> {
        let shares = self
            .shares
            .iter()
            .map(|s| {
                let mut bytes = Zeroizing::new(vec![s.index()]);
                bytes.extend_from_slice(s.value());
                blahaj::Share::try_from(bytes.as_slice())
                    .map_err(|_| SealError::MalformedShare("bad share value"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let secret = Zeroizing::new(
            blahaj::Sharks(self.record.threshold)
                .recover(&shares)
                .map_err(|_| SealError::WrongShares)?,
        );
        let set_id = &self.record.share_set_id;
        let keys = DerivedKeys::derive(&secret, set_id)?;
        let check = unb64(&self.record.check)?;
        if !keys.verify_check(set_id, &check) {
            return Err(SealError::WrongShares);
        }
        let sealed = unb64(&self.record.encrypted_root_key)?;
        let root = keys.open_root(&sealed, &aad(&self.record, &self.created))?;
        Ok(Unsealed {
            root,
            resealer: Resealer {
                keys,
                record: self.record.clone(),
            },
        })
    }
}

/// The result of a quorum of shares: the root key material, and the right to rekey.
pub struct Unsealed {
    root: RootMaterial,
    resealer: Resealer,
}

impl fmt::Debug for Unsealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unsealed(REDACTED)")
    }
}

impl Unsealed {
    /// The root key material.
    pub fn root(&self) -> &RootMaterial {
        &self.root
    }

    /// Splits into the root material and a [`Resealer`] (for root rotation). The right to
    /// rekey is given up: keep only these in a running server.
    pub fn into_parts(self) -> (RootMaterial, Resealer) {
        (self.root, self.resealer)
    }

    /// Issues a new share set (new share-set id) for the same root key and replaces the
    /// seal file; the old shares stop working. Needs a fresh quorum of the old shares,
    /// which is why it consumes this value.
    pub fn rekey(self, dir: &Path, params: ShamirParams) -> Result<Vec<Share>, SealError> {
        seal_root(dir, params, &self.root, true)
    }
}

/// Re-encrypts a new root key under the current share set's derived key, so that a root
/// rotation keeps the operators' shares. Holds that derived key, never the shares.
pub struct Resealer {
    keys: DerivedKeys,
    record: ShamirRecord,
}

impl fmt::Debug for Resealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resealer")
            .field("share_set_id", &self.record.share_set_id)
            .finish_non_exhaustive()
    }
}

impl Resealer {
    /// The root key of `dir`'s seal file, opened with this share set's derived key: how a
    /// node follows a root rotation another node of its database made, without shares.
    /// [`SealError::Tampered`] when the file is another share set's (a rekey elsewhere:
    /// unseal again with the new shares).
    pub fn open_root(&self, dir: &Path) -> Result<RootMaterial, SealError> {
        let file = SealFile::read(dir)?;
        let record = match &file.sealer {
            SealerRecord::Shamir(r) if r.share_set_id == self.record.share_set_id => r,
            _ => return Err(SealError::Tampered),
        };
        let sealed = unb64(&record.encrypted_root_key)?;
        self.keys.open_root(&sealed, &aad(record, &file.created))
    }

    /// Replaces the root key in `dir`'s seal file with `root`; the same shares unseal it.
    /// Refused when the seal file on disk is no longer this share set's (e.g. after a
    /// rekey elsewhere).
    pub fn replace_root(&self, dir: &Path, root: &RootMaterial) -> Result<(), SealError> {
        let current = SealFile::read(dir)?;
        match &current.sealer {
            SealerRecord::Shamir(r) if r.share_set_id == self.record.share_set_id => {}
            _ => return Err(SealError::Tampered),
        }
        let mut record = self.record.clone();
        let created = crate::seal_file::now_rfc3339();
        record.encrypted_root_key = b64(&self.keys.seal_root(root, &aad(&record, &created))?);
        SealFile {
            format: current.format,
            created,
            sealer: SealerRecord::Shamir(record),
        }
        .write(dir, true)
    }
}
