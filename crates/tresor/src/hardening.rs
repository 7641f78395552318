//! Process hardening: no core dumps, and key material locked in memory where permitted.
//!
//! Core dumps and swap are the two ways secrets held only in memory (the unsealed root
//! key, decrypted material, share fragments) reach a disk. Linux only; elsewhere these
//! are no-ops.

/// Makes the process non-dumpable (`PR_SET_DUMPABLE` 0: no core file even with a pipe
/// `core_pattern`, and other users cannot ptrace it or read its `/proc/PID/mem`) and
/// sets `RLIMIT_CORE` to 0.
pub fn no_core_dumps() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )
        .map_err(|e| format!("setrlimit(RLIMIT_CORE, 0): {e}"))?;
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .map_err(|e| format!("prctl(PR_SET_DUMPABLE, 0): {e}"))?;
    }
    Ok(())
}

/// Locks the process's memory, present and future, so that key material is never
/// swapped out: `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)` (pages are locked as
/// they are first touched, so reserved but unused memory costs nothing).
///
/// Only done when nothing can fail later because of it: with `CAP_IPC_LOCK` or an
/// unlimited `RLIMIT_MEMLOCK`. Under a finite limit `MCL_FUTURE` would make allocations
/// fail once the limit is reached, so the server then runs unlocked and says so once.
/// Returns whether memory is locked.
pub fn lock_memory() -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::mm::{mlockall, MlockAllFlags};
        use rustix::process::{getrlimit, Resource};
        let limit = getrlimit(Resource::Memlock).current;
        let capable = rustix::thread::capabilities(None)
            .map(|c| {
                c.effective
                    .contains(rustix::thread::CapabilitySet::IPC_LOCK)
            })
            .unwrap_or(false);
        if !capable && limit.is_some() {
            tracing::warn!(
                memlock_limit_bytes = limit.unwrap_or_default(),
                "key material is not locked in memory (RLIMIT_MEMLOCK is finite and CAP_IPC_LOCK is missing): \
                 it could be swapped out; set LimitMEMLOCK=infinity (systemd) or --ulimit memlock=-1 (docker), \
                 or use encrypted swap"
            );
            return false;
        }
        match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
            Ok(()) => {
                tracing::info!("memory locked: key material is never swapped out");
                true
            }
            Err(e) => {
                tracing::warn!("key material is not locked in memory: mlockall failed: {e}");
                false
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        tracing::warn!("key material is not locked in memory on this platform");
        false
    }
}
