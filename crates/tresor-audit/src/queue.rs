//! The queue from callers to the writer thread.
//!
//! Unlike a channel, it wakes the writer only when the writer wants waking: always while
//! it is idle, but while it gathers read-only records for one group write, only for a
//! message that must not wait (a mutation's record, a flush, a close) or for a full
//! batch. A busy log thus costs its callers no wake-up (a futex call and a context
//! switch) per record. Bounded: a caller waits while `capacity` messages are queued.

use crate::writer::Msg;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::time::Duration;

/// What the writer waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Not waiting: nobody needs waking.
    No,
    /// Idle: any message wakes it.
    Any,
    /// Gathering: only an urgent message, or `batch` messages queued, wake it.
    Urgent { batch: usize },
}

struct State {
    items: VecDeque<Msg>,
    waiting: Waiting,
    /// The sink is gone: once the queue is empty, the writer stops.
    senders_gone: bool,
    /// The writer stopped: sends fail.
    receiver_gone: bool,
}

/// The queue (shared by the sink and its writer thread).
pub(crate) struct Queue {
    state: Mutex<State>,
    wake: Condvar,
    room: Condvar,
    capacity: usize,
}

/// What [`Queue::take`] found.
pub(crate) enum Taken {
    /// Messages (at least one).
    Some,
    /// Nothing arrived in time.
    Timeout,
    /// The sink is gone and nothing is queued.
    Disconnected,
}

impl Queue {
    /// A queue holding at most `capacity` messages.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::new(),
                waiting: Waiting::No,
                senders_gone: false,
                receiver_gone: false,
            }),
            wake: Condvar::new(),
            room: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues `m`, waiting while the queue is full; gives it back when the writer has
    /// stopped.
    pub(crate) fn send(&self, m: Msg) -> Result<(), Msg> {
        let mut s = self.state.lock();
        while s.items.len() >= self.capacity && !s.receiver_gone {
            self.room.wait(&mut s);
        }
        if s.receiver_gone {
            return Err(m);
        }
        let urgent = m.is_urgent();
        s.items.push_back(m);
        let wake = match s.waiting {
            Waiting::No => false,
            Waiting::Any => true,
            Waiting::Urgent { batch } => urgent || s.items.len() >= batch,
        };
        if wake {
            s.waiting = Waiting::No;
            drop(s);
            self.wake.notify_one();
        }
        Ok(())
    }

    /// The writer: moves up to `max` queued messages to `out`, first waiting up to
    /// `timeout` for any message, or — `gathering` — for an urgent one or for `max`.
    pub(crate) fn take(
        &self,
        out: &mut Vec<Msg>,
        max: usize,
        timeout: Duration,
        gathering: bool,
    ) -> Taken {
        let max = max.max(1);
        let mut s = self.state.lock();
        let ready = |s: &State| {
            if gathering {
                s.items.len() >= max || s.items.iter().any(Msg::is_urgent)
            } else {
                !s.items.is_empty()
            }
        };
        if !ready(&s) && !s.senders_gone && !timeout.is_zero() {
            s.waiting = if gathering {
                Waiting::Urgent { batch: max }
            } else {
                Waiting::Any
            };
            let deadline = std::time::Instant::now() + timeout;
            while !ready(&s) && !s.senders_gone {
                if self.wake.wait_until(&mut s, deadline).timed_out() {
                    break;
                }
            }
            s.waiting = Waiting::No;
        }
        if s.items.is_empty() {
            return if s.senders_gone {
                Taken::Disconnected
            } else {
                Taken::Timeout
            };
        }
        let n = s.items.len().min(max);
        out.extend(s.items.drain(..n));
        drop(s);
        self.room.notify_all();
        Taken::Some
    }

    /// The sink is gone: the writer stops once it has taken what is queued.
    pub(crate) fn close_senders(&self) {
        self.state.lock().senders_gone = true;
        self.wake.notify_one();
    }

    /// The writer stopped: callers waiting for room, and later sends, fail.
    pub(crate) fn close_receiver(&self) {
        self.state.lock().receiver_gone = true;
        self.room.notify_all();
    }
}

/// Closes the receiving side when the writer thread ends, however it ends.
pub(crate) struct ReceiverGuard(pub(crate) std::sync::Arc<Queue>);

impl Drop for ReceiverGuard {
    fn drop(&mut self) {
        self.0.close_receiver();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    fn read_only(n: u8) -> Msg {
        Msg::Record(vec![n], None)
    }

    #[test]
    fn an_idle_writer_wakes_for_any_message() {
        let q = Arc::new(Queue::new(8));
        let sender = {
            let q = q.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                q.send(read_only(1)).map_err(drop).unwrap();
            })
        };
        let mut out = Vec::new();
        let started = Instant::now();
        assert!(matches!(
            q.take(&mut out, 8, Duration::from_secs(10), false),
            Taken::Some
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(out.len(), 1);
        sender.join().unwrap();
    }

    #[test]
    fn a_gathering_writer_waits_out_read_only_records_but_not_a_mutation() {
        let q = Queue::new(64);
        q.send(read_only(1)).map_err(drop).unwrap();
        q.send(read_only(2)).map_err(drop).unwrap();
        // Only read-only records: the whole wait passes, then both are taken.
        let mut out = Vec::new();
        let started = Instant::now();
        assert!(matches!(
            q.take(&mut out, 8, Duration::from_millis(100), true),
            Taken::Some
        ));
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(out.len(), 2);
        // A full batch ends the wait at once, and takes no more than the batch.
        for n in 0..5 {
            q.send(read_only(n)).map_err(drop).unwrap();
        }
        out.clear();
        assert!(matches!(
            q.take(&mut out, 4, Duration::from_secs(30), true),
            Taken::Some
        ));
        assert_eq!(out.len(), 4);
        // So does a mutation's record.
        let (ack, _done) = std::sync::mpsc::sync_channel(1);
        q.send(Msg::Record(vec![9], Some(ack)))
            .map_err(drop)
            .unwrap();
        out.clear();
        let started = Instant::now();
        assert!(matches!(
            q.take(&mut out, 8, Duration::from_secs(30), true),
            Taken::Some
        ));
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_full_queue_makes_callers_wait_and_a_stopped_writer_fails_them() {
        let q = Arc::new(Queue::new(2));
        q.send(read_only(1)).map_err(drop).unwrap();
        q.send(read_only(2)).map_err(drop).unwrap();
        let blocked = {
            let q = q.clone();
            std::thread::spawn(move || q.send(read_only(3)).is_ok())
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!blocked.is_finished());
        let mut out = Vec::new();
        q.take(&mut out, 1, Duration::ZERO, false);
        assert!(blocked.join().unwrap(), "room made, the caller went on");
        drop(ReceiverGuard(q.clone()));
        assert!(q.send(read_only(4)).is_err());
        // The sink gone and the queue drained: the writer is told to stop.
        q.close_senders();
        out.clear();
        q.take(&mut out, 8, Duration::from_secs(30), false);
        assert!(matches!(
            q.take(&mut out, 8, Duration::from_secs(30), false),
            Taken::Disconnected
        ));
    }
}
