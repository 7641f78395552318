//! Start-up of the writer: the chain recovered from the directory, a torn last line cut
//! off, files a previous run left without a digest sealed.

use super::*;

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sequence of a complete record line.
fn line_chain(line: &[u8], path: &Path) -> io::Result<u64> {
    let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        other(format!(
            "audit file {} has a corrupt record ({e}); run `tresor audit verify`",
            path.display()
        ))
    })?;
    files::chain_of(&v).map(|(s, _)| s).ok_or_else(|| {
        other(format!(
            "audit file {} has a record without a chain member",
            path.display()
        ))
    })
}

impl Writer {
    /// Recovers the chain from the directory (a torn last line is cut off), seals files a
    /// previous run left without a digest, applies retention and opens a fresh file with
    /// its reservation. A full disk is not an error here: the sink starts unhealthy and
    /// recovers by itself.
    pub(crate) fn recover(
        dir: PathBuf,
        key: SigningKey,
        limits: Limits,
        shared: Arc<Shared>,
    ) -> io::Result<Writer> {
        let now = Instant::now();
        let mut w = Writer {
            dir,
            key,
            limits,
            shared,
            seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            current: None,
            unsealed: Vec::new(),
            digest_seq: 0,
            previous_digest: None,
            buf: Vec::with_capacity(1 << 20),
            pending: VecDeque::new(),
            failing_since: None,
            next_retry: now,
            next_top_up: now,
            next_retention: now,
            next_rotation: now,
            reseal: false,
            last_write: Instant::now(),
            last_batch: 0,
            warned_rotation: false,
        };
        std::fs::create_dir_all(&w.dir)?;
        w.ensure_layout()?;
        w.load_chain()?;
        if let Err(e) = w.write_digest("startup") {
            tracing::warn!("cannot sign a startup digest yet (retried at the next rotation): {e}");
        }
        w.apply_retention();
        match w.open_new(MIN_RESERVE, w.limits.reserve_bytes) {
            Ok(f) => {
                w.shared.add_budget(signed(f.headroom()));
                w.current = Some(f);
                w.shared.healthy.store(true, Ordering::Relaxed);
            }
            Err(e) => w.fail(&e),
        }
        Ok(w)
    }

    /// The directories and the public key a verifier needs.
    pub(super) fn ensure_layout(&self) -> io::Result<()> {
        let ddir = self.dir.join(files::DIGEST_DIR);
        let kdir = self.dir.join(files::KEYS_DIR);
        std::fs::create_dir_all(&ddir)?;
        std::fs::create_dir_all(&kdir)?;
        let kpath = kdir.join(format!("{}.pem", self.key.fingerprint()));
        if !kpath.exists() {
            signing::write_atomic(&kpath, self.key.public_pem().as_bytes(), 0o644)?;
        }
        Ok(())
    }

    fn load_chain(&mut self) -> io::Result<()> {
        let dir = self.dir.clone();
        let ddir = dir.join(files::DIGEST_DIR);
        // Leftovers of a digest write that did not finish: temporaries, and signatures
        // whose digest was never renamed into place.
        for entry in std::fs::read_dir(&ddir)? {
            let path = entry?.path();
            let name = file_name(&path);
            let orphan_sig = name.ends_with(".sig") && !path.with_extension("json").exists();
            if name.ends_with(".tmp") || orphan_sig {
                std::fs::remove_file(&path)?;
            }
        }
        let mut digested_up_to = 0;
        if let Some((seq, path)) = files::list_digests(&dir)?.pop() {
            let bytes = std::fs::read(&path)?;
            let d: Digest = serde_json::from_slice(&bytes)
                .map_err(|e| other(format!("digest {} is corrupt: {e}", path.display())))?;
            let sig = std::fs::read(path.with_extension("sig"))?;
            self.digest_seq = seq;
            self.previous_digest = Some((file_name(&path), hex::encode(sig)));
            self.seq = d.last_sequence;
            self.last_hash = d.last_record_hash;
            digested_up_to = d.last_sequence;
        }
        let mut logs: Vec<(u64, PathBuf)> = files::list_log_files(&dir)?
            .into_iter()
            .filter(|(first, _)| *first > digested_up_to)
            .collect();
        // Cut a torn last line off the newest file (it was never acknowledged); a file
        // left empty goes away.
        while let Some((_, path)) = logs.last() {
            let bytes = std::fs::read(path)?;
            let (lines, torn) = files::split_lines(&bytes);
            if torn > 0 {
                tracing::warn!(
                    file = %path.display(),
                    bytes = torn,
                    "dropping a torn audit record left by a crash"
                );
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(len64(bytes.len().saturating_sub(torn)))?;
                f.sync_all()?;
            }
            if lines.is_empty() {
                std::fs::remove_file(path)?;
                logs.pop();
                continue;
            }
            // Give back space a crash left reserved past the end.
            let f = OpenOptions::new().write(true).open(path)?;
            let end = len64(bytes.len().saturating_sub(torn));
            if let Err(e) = space::release(&f, end, 1 << 40) {
                tracing::debug!("releasing reserved audit space: {e}");
            }
            break;
        }
        for (first, path) in &logs {
            let bytes = std::fs::read(path)?;
            let (lines, torn) = files::split_lines(&bytes);
            if torn > 0 {
                return Err(other(format!(
                    "audit file {} ends with a partial record but is not the newest; run `tresor audit verify`",
                    path.display()
                )));
            }
            let (Some(first_line), Some(last_line)) = (lines.first(), lines.last()) else {
                continue;
            };
            let first_seq = line_chain(first_line, path)?;
            let last_seq = line_chain(last_line, path)?;
            if first_seq != *first {
                return Err(other(format!(
                    "audit file {} starts at sequence {first_seq}, its name says {first}",
                    path.display()
                )));
            }
            self.seq = last_seq;
            // The next file's first record links to this one, whole.
            self.last_hash = files::sha256_hex(&bytes);
            self.unsealed.push(DigestedFile {
                file_name: file_name(path),
                sha256: self.last_hash.clone(),
                bytes: len64(bytes.len()),
                first_sequence: first_seq,
                last_sequence: last_seq,
            });
        }
        Ok(())
    }
}
