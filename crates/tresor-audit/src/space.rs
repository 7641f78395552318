//! Disk space held ahead of the write position of a record file, so that the records
//! of admitted requests always fit in blocks that are already allocated.
//!
//! On Linux this is `fallocate(FALLOC_FL_KEEP_SIZE)` (the file's size does not change,
//! so readers see only complete records); what a closed file did not use is given back
//! by `FALLOC_FL_PUNCH_HOLE` and a truncation to the file's own size (ext4 punches no
//! hole past the end of a file, but a truncation frees the blocks allocated there).
//! Elsewhere the reservation is only counted, not enforced.

use std::fs::File;
use std::io;

/// Allocates `len` bytes of `file` from `offset` without changing its size.
#[cfg(target_os = "linux")]
pub fn reserve(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use rustix::fs::FallocateFlags;
    rustix::fs::fallocate(file, FallocateFlags::KEEP_SIZE, offset, len).map_err(io::Error::from)
}

/// Frees the blocks of `file` in `offset..offset + len` (past its end: reserved space).
#[cfg(target_os = "linux")]
pub fn release(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use rustix::fs::FallocateFlags;
    if len == 0 {
        return Ok(());
    }
    let punched = rustix::fs::fallocate(
        file,
        FallocateFlags::KEEP_SIZE | FallocateFlags::PUNCH_HOLE,
        offset,
        len,
    )
    .map_err(io::Error::from);
    let size = file.metadata()?.len();
    if size <= offset {
        // Frees what lies past the end (the size stays as it is).
        return file.set_len(size);
    }
    punched
}

/// Tells the kernel the pages of `file` in `offset..offset + len` (already on disk)
/// will not be read again soon, so it can reuse them rather than fill memory with the
/// log. Advisory: an error changes nothing that matters and is ignored.
#[cfg(target_os = "linux")]
pub fn forget_cached(file: &File, offset: u64, len: u64) {
    use rustix::fs::Advice;
    if let Some(len) = std::num::NonZeroU64::new(len) {
        let _ = rustix::fs::fadvise(file, offset, Some(len), Advice::DontNeed);
    }
}

/// Page-cache advice (nothing to do on this platform).
#[cfg(not(target_os = "linux"))]
pub fn forget_cached(_file: &File, _offset: u64, _len: u64) {}

/// Allocates `len` bytes of `file` from `offset` (not enforced on this platform).
#[cfg(not(target_os = "linux"))]
pub fn reserve(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

/// Frees reserved blocks (nothing to do on this platform).
#[cfg(not(target_os = "linux"))]
pub fn release(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

/// Reserves as much of `want` bytes as the filesystem gives, halving down to `min`:
/// the bytes reserved, or the error of the smallest attempt.
pub fn reserve_up_to(file: &File, offset: u64, want: u64, min: u64) -> io::Result<u64> {
    let mut len = want.max(1);
    loop {
        match reserve(file, offset, len) {
            Ok(()) => return Ok(len),
            Err(e) if len / 2 < min.max(1) => return Err(e),
            Err(_) => len /= 2,
        }
    }
}

/// The (device, inode) of an open file or a path, to notice a file replaced under us.
#[cfg(unix)]
pub fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// The (device, inode) of an open file or a path (not available: always equal).
#[cfg(not(unix))]
pub fn identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn released_space_past_the_end_is_freed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = File::create(tmp.path().join("log")).unwrap();
        f.write_all(&[b'x'; 5000]).unwrap();
        f.sync_all().unwrap();
        let allocated = |f: &File| f.metadata().unwrap().blocks() * 512;
        reserve(&f, 5000, 8 << 20).unwrap();
        assert!(allocated(&f) >= 8 << 20, "{}", allocated(&f));
        assert_eq!(f.metadata().unwrap().len(), 5000);
        release(&f, 5000, 8 << 20).unwrap();
        assert!(
            allocated(&f) < 1 << 20,
            "{} bytes still allocated",
            allocated(&f)
        );
        assert_eq!(f.metadata().unwrap().len(), 5000);
    }
}
