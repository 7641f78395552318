//! Cache coherence across nodes: a dedicated LISTEN connection per node hears what
//! the others commit, and a cheap poll of the change counter bounds staleness when a
//! notification is missed.
//!
//! Every batch notifies `node seq` plus its changes; `seq` comes from the
//! `change_seq` sequence. The poller reads the sequence every [`POLL`]: a value read
//! one poll earlier that no notification has reached yet means a notification was lost
//! (or its transaction aborted), and every cache is dropped. A failed poll drops every
//! cache too (the node cannot know what changed), and so does every (re)connection of
//! the listener. So a change another node committed is enforced here within
//! 2 × [`POLL`] + [`POLL_TIMEOUT`] at worst, and usually within milliseconds.

use super::tls::MakeRustls;
use super::{pool_err, PostgresStore, CHANNEL};
use crate::changes::{decode, Change, ChangeSink};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::AsyncMessage;

/// How often the change counter is read.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a poll may take before the node stops trusting its caches.
pub const POLL_TIMEOUT: Duration = Duration::from_millis(500);
/// Pause before the listener reconnects.
const RECONNECT: Duration = Duration::from_millis(200);

type Sink = Arc<Mutex<Option<crate::SharedSink>>>;

impl PostgresStore {
    /// Starts the listener and the poller (once; later calls only replace the sink).
    pub(super) fn start_listener(&self) {
        let seen = Arc::new(AtomicI64::new(0));
        let (config, tls) = (self.config.clone(), self.tls.clone());
        let (sink, node) = (self.sink.clone(), self.node_id.clone());
        let mut started = self.listening.lock();
        if *started {
            return;
        }
        *started = true;
        self.handle
            .spawn(listen_loop(config, tls, sink.clone(), node, seen.clone()));
        self.handle.spawn(poll_loop(self.pool.clone(), sink, seen));
    }
}

async fn listen_loop(
    config: tokio_postgres::Config,
    tls: MakeRustls,
    sink: Sink,
    node: String,
    seen: Arc<AtomicI64>,
) {
    loop {
        if let Err(e) = listen_once(&config, &tls, &sink, &node, &seen).await {
            tracing::warn!(target: "tresor::store", "change listener: {e}");
        }
        // Whatever was committed while not listening is unknown.
        sink.changed(&[Change::All]);
        tokio::time::sleep(RECONNECT).await;
    }
}

async fn listen_once(
    config: &tokio_postgres::Config,
    tls: &MakeRustls,
    sink: &Sink,
    node: &str,
    seen: &AtomicI64,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls.clone()).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(n) = message {
                if tx.send(n.payload().to_string()).is_err() {
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // Changes committed before LISTEN took effect were not heard.
    sink.changed(&[Change::All]);
    while let Some(payload) = rx.recv().await {
        let (head, body) = payload.split_once('\n').unwrap_or((payload.as_str(), ""));
        let (from, seq) = head.split_once(' ').unwrap_or((head, ""));
        if let Ok(seq) = seq.parse::<i64>() {
            seen.fetch_max(seq, Ordering::SeqCst);
        }
        if from != node {
            sink.changed(&decode(body));
        }
    }
    driver.abort();
    drop(client);
    Ok(())
}

async fn poll_loop(pool: deadpool_postgres::Pool, sink: Sink, seen: Arc<AtomicI64>) {
    let mut previous: Option<i64> = None;
    loop {
        tokio::time::sleep(POLL).await;
        match tokio::time::timeout(POLL_TIMEOUT, current_seq(&pool)).await {
            Ok(Ok(now)) => {
                if let Some(p) = previous {
                    if p > seen.load(Ordering::SeqCst) {
                        tracing::debug!(target: "tresor::store", "a change notification was missed");
                        seen.fetch_max(p, Ordering::SeqCst);
                        sink.changed(&[Change::All]);
                    }
                }
                previous = Some(now);
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "tresor::store", "change poll failed: {e}");
                previous = None;
                sink.changed(&[Change::All]);
            }
            Err(_) => {
                tracing::warn!(target: "tresor::store", "change poll timed out");
                previous = None;
                sink.changed(&[Change::All]);
            }
        }
    }
}

async fn current_seq(pool: &deadpool_postgres::Pool) -> crate::StoreResult<i64> {
    let client = pool.get().await.map_err(pool_err)?;
    let row = client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_seq",
            &[],
        )
        .await
        .map_err(super::pg_err)?;
    super::get(&row, 0)
}
