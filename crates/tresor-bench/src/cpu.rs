//! CPU time of a process, from `/proc/PID/stat` (Linux), so each measurement can say how
//! much CPU the server and the load generator spent per request. On a shared, noisy
//! machine requests per second move with whatever else runs; CPU per request moves far
//! less, and with client and server on the same cores it is what bounds the rate.

use std::time::Duration;

/// `/proc`'s clock tick: `USER_HZ`, which Linux fixes at 100 for user space.
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time of all threads of process `pid` so far; `None` where there
/// is no `/proc` or no such process.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_of_stat(&stat)
}

/// [`process_cpu`] of this process.
pub fn own_cpu() -> Option<Duration> {
    process_cpu(std::process::id())
}

/// `utime + stime` of a `/proc/PID/stat` line. The command name (field 2) is in
/// parentheses and may itself hold spaces and parentheses, so fields are counted from
/// the last `)`: after it come `state` (field 3) … `utime` (14) and `stime` (15).
fn cpu_of_stat(stat: &str) -> Option<Duration> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime.checked_add(stime)?;
    Some(Duration::from_millis(
        ticks.checked_mul(1000 / TICKS_PER_SECOND)?,
    ))
}

/// CPU spent over a measured window: by the server (when its process is known) and by
/// this process, the load generator.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// The server's CPU time in the window.
    pub server: Option<Duration>,
    /// The load generator's CPU time in the window.
    pub client: Option<Duration>,
}

/// A reading at the start of a window, for [`CpuStart::finish`] at its end.
#[derive(Debug, Clone, Copy)]
pub struct CpuStart {
    pid: Option<u32>,
    server: Option<Duration>,
    client: Option<Duration>,
}

impl CpuStart {
    /// Reads the CPU time of `server_pid` (if any) and of this process now.
    pub fn now(server_pid: Option<u32>) -> Self {
        Self {
            pid: server_pid,
            server: server_pid.and_then(process_cpu),
            client: own_cpu(),
        }
    }

    /// The CPU time spent since [`CpuStart::now`].
    pub fn finish(&self) -> CpuUse {
        let since = |start: Option<Duration>, end: Option<Duration>| {
            start.zip(end).map(|(s, e)| e.saturating_sub(s))
        };
        CpuUse {
            server: since(self.server, self.pid.and_then(process_cpu)),
            client: since(self.client, own_cpu()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_from_the_last_parenthesis() {
        // A command name with spaces and a `)` of its own; utime 250, stime 31 ticks.
        let line =
            "4242 (tokio rt) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 31 0 0 20 0 5 0 77 0 0";
        assert_eq!(cpu_of_stat(line), Some(Duration::from_millis(2810)));
        assert_eq!(cpu_of_stat("4242 (short) S 1 2"), None);
        assert_eq!(cpu_of_stat("no parenthesis at all"), None);
    }

    #[test]
    fn this_process_is_charged_for_the_cpu_it_burns() {
        let Some(before) = own_cpu() else {
            return; // no /proc here
        };
        let start = CpuStart::now(Some(std::process::id()));
        // Burn CPU until /proc shows three more ticks (30 ms); a minute is a hang.
        let give_up = std::time::Instant::now() + Duration::from_secs(60);
        let mut x = 0u64;
        while own_cpu().unwrap() < before + Duration::from_millis(30) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            assert!(
                std::time::Instant::now() < give_up,
                "no CPU time was charged"
            );
        }
        let used = start.finish();
        assert!(
            used.client.unwrap() >= Duration::from_millis(30),
            "{used:?}"
        );
        assert!(
            used.server.unwrap() >= Duration::from_millis(30),
            "{used:?}"
        );
        assert_eq!(CpuStart::now(None).finish().server, None);
        assert_eq!(process_cpu(u32::MAX), None);
    }
}
