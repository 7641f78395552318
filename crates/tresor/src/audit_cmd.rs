//! `tresor audit verify|query|tail`, and the audit options of `tresor serve`.

use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tresor_audit::files;
use tresor_audit::query::{self, Filter};
use tresor_audit::{FileAuditSink, FileSinkConfig};
use tresor_core::audit::{AuditSink, LogAuditSink};

/// The default audit directory of the CLI commands (that of `tresor serve`'s default
/// data directory).
const DEFAULT_DIR: &str = "./tresor-data/audit";

/// `tresor audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// `tresor audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that the log is complete and untampered: the record chain, the digests'
    /// signatures and chain, the files they cover. Exits non-zero on the first problem.
    Verify(VerifyArgs),
    /// Print the records that match filters.
    Query(QueryArgs),
    /// Print the newest records, and with -f keep printing new ones.
    Tail(TailArgs),
}

/// `tresor audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The audit directories (one per node); each is verified on its own.
    #[arg(default_value = DEFAULT_DIR, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Trust only this public key (PEM); by default the keys in DIR/signing-keys/ are
    /// used and their fingerprints printed.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
}

/// Output formats of `tresor audit query`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Output {
    /// One JSON record per line, as stored.
    Json,
    /// A table: time, event, principal, key, error, request id.
    Table,
}

/// `tresor audit query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The audit directory; repeat it for the logs of several nodes, whose records are
    /// merged by time.
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: Vec<PathBuf>,
    /// Records written by this node (`tresor.node`).
    #[arg(long, value_name = "ID")]
    pub node: Option<String>,
    /// Records at or after T (2026-11-28T12:00:00Z, 2026-11-28, or an age: 15m, 2h, 7d).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Records at or before T.
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Records of this operation (Encrypt, CreateKey, …).
    #[arg(long, value_name = "N")]
    pub event_name: Option<String>,
    /// Records about this key (key ARN, key id, or the keyId as requested).
    #[arg(long, value_name = "ARN|ID")]
    pub key: Option<String>,
    /// Records of this principal ARN.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// Failed requests only.
    #[arg(long)]
    pub errors_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub output: Output,
}

/// `tresor audit tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// The audit directory.
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Keep printing records as they are written.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// How many of the newest records to print first.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub lines: usize,
}

/// Where `tresor serve` sends audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SinkKind {
    /// The hash-chained, signed JSON-lines files (the default).
    File,
    /// Structured log lines on stderr only (no integrity protection).
    Log,
    /// Nothing (benchmarks only).
    None,
}

/// The audit options of `tresor serve`.
#[derive(Debug, Args)]
pub struct ServeAuditArgs {
    /// The audit log directory (default DATA_DIR/audit).
    #[arg(long, env = "TRESOR_AUDIT_DIR", value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    /// Where audit records go.
    #[arg(long, env = "TRESOR_AUDIT_SINK", value_enum, default_value = "file")]
    pub audit_sink: SinkKind,
    /// Start a new audit file (and sign a digest) when the current one reaches this size.
    #[arg(long, env = "TRESOR_AUDIT_ROTATE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub audit_rotate_bytes: u64,
    /// Start a new audit file (and sign a digest) when the current one is this old.
    #[arg(long, env = "TRESOR_AUDIT_ROTATE_SECONDS", default_value_t = 900)]
    pub audit_rotate_seconds: u64,
    /// Disk space kept allocated ahead of the audit log's write position; requests are
    /// admitted only while their records fit in it.
    #[arg(long, env = "TRESOR_AUDIT_RESERVE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub audit_reserve_bytes: u64,
    /// Remove audit files (once covered by a signed digest) older than this many days.
    #[arg(long, env = "TRESOR_AUDIT_RETENTION_DAYS", value_name = "N")]
    pub audit_retention_days: Option<u64>,
    /// Remove the oldest audit files (once covered by a signed digest) while all of
    /// them together are larger than this.
    #[arg(long, env = "TRESOR_AUDIT_RETENTION_BYTES", value_name = "BYTES")]
    pub audit_retention_bytes: Option<u64>,
    /// This node's id, written in every audit record (`tresor.node`) so the logs of
    /// several nodes can be merged (`tresor audit query --dir A --dir B`). Default: the
    /// id kept in DATA_DIR/node-id (made once at random).
    #[arg(long, env = "TRESOR_NODE_ID", value_name = "ID")]
    pub node_id: Option<String>,
}

/// The file in the data directory that keeps a node's id.
const NODE_ID_FILE: &str = "node-id";

/// This node's id: `--node-id`, or the one kept in `DATA_DIR/node-id` (made on first use).
pub fn node_id(args: &ServeAuditArgs, data_dir: &Path) -> Result<String, String> {
    let check = |id: String, whence: &str| {
        if tresor_audit::valid_node_id(&id) {
            Ok(id)
        } else {
            Err(format!(
                "{id:?} ({whence}) is not a node id: 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'"
            ))
        }
    };
    if let Some(id) = &args.node_id {
        return check(id.clone(), "--node-id");
    }
    let path = data_dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => check(s.trim().to_string(), &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let random: String = uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .chars()
                .take(12)
                .collect();
            let id = format!("node-{random}");
            std::fs::write(&path, format!("{id}\n"))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            Ok(id)
        }
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

/// The sink `tresor serve` gives the service, and the file sink to close at shutdown.
pub type ServeSink = (Arc<dyn AuditSink>, Option<Arc<FileAuditSink>>);

/// Opens the audit sink of `tresor serve` for the data directory `data_dir`. The signing
/// key lives in `DATA_DIR/audit-signing-key.pem`.
pub fn open_sink(args: &ServeAuditArgs, data_dir: &Path) -> Result<ServeSink, String> {
    match args.audit_sink {
        SinkKind::Log => {
            tracing::warn!("audit records go to the log only: no tamper-evident audit trail");
            Ok((Arc::new(LogAuditSink), None))
        }
        SinkKind::None => {
            tracing::warn!("auditing is OFF (--audit-sink none): fit for benchmarks only");
            Ok((Arc::new(tresor_audit::NullAuditSink), None))
        }
        SinkKind::File => {
            let dir = args
                .audit_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("audit"));
            let mut cfg = FileSinkConfig::new(dir.clone(), data_dir.join("audit-signing-key.pem"));
            cfg.max_file_bytes = args.audit_rotate_bytes.max(4096);
            cfg.max_file_age = Duration::from_secs(args.audit_rotate_seconds.max(1));
            cfg.reserve_bytes = args.audit_reserve_bytes;
            cfg.node_id = node_id(args, data_dir)?;
            cfg.retention = tresor_audit::Retention {
                max_age: args
                    .audit_retention_days
                    .map(|d| Duration::from_secs(d.saturating_mul(86_400))),
                max_bytes: args.audit_retention_bytes,
            };
            let sink = Arc::new(
                FileAuditSink::open(cfg)
                    .map_err(|e| format!("opening the audit log in {}: {e}", dir.display()))?,
            );
            tracing::info!(dir = %dir.display(), "audit log open");
            Ok((sink.clone(), Some(sink)))
        }
    }
}

/// Runs `tresor audit …`.
pub fn run(args: AuditArgs) -> Result<(), String> {
    match args.command {
        AuditCommand::Verify(a) => verify(&a),
        AuditCommand::Query(a) => query_cmd(&a),
        AuditCommand::Tail(a) => tail(&a),
    }
}

fn verify(a: &VerifyArgs) -> Result<(), String> {
    let mut failed = Vec::new();
    let mut nodes: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for dir in &a.dirs {
        if a.dirs.len() > 1 {
            println!("== {} ==", dir.display());
        }
        let r = tresor_audit::verify(dir, a.public_key.as_deref())
            .map_err(|e| format!("reading {}: {e}", dir.display()))?;
        for n in &r.nodes {
            if let Some(other) = nodes.insert(n.clone(), dir.clone()) {
                failed.push(format!(
                    "node id {n} writes to both {} and {}: two nodes share an id",
                    other.display(),
                    dir.display()
                ));
            }
        }
        if let Err(e) = verify_report(dir, &r) {
            failed.push(e);
        }
    }
    match failed.as_slice() {
        [] => Ok(()),
        [one] => Err(one.clone()),
        _ => Err(failed.join("; ")),
    }
}

fn verify_report(dir: &Path, r: &tresor_audit::VerifyReport) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(first) = r.problems.first() {
        let _ = writeln!(out, "FAILED: {first}");
        for p in r.problems.iter().skip(1) {
            let _ = writeln!(out, "  also: {p}");
        }
        let _ = out.flush();
        return Err(format!(
            "the audit log in {} is NOT intact ({} problem(s))",
            dir.display(),
            r.problems.len()
        ));
    }
    let seqs = r
        .sequences
        .map_or("none".to_string(), |(f, l)| format!("{f}..{l}"));
    let _ = writeln!(
        out,
        "OK: {} record(s) (sequence {seqs}) in {} file(s); {} signed digest(s) verified",
        r.records, r.files, r.digests
    );
    if let Some((first, digest)) = &r.retained_from {
        let _ = writeln!(
            out,
            "retained suffix: {} records from sequence {first}, anchored by signed digest {digest}; records before {first} were removed (retention)",
            r.records
        );
    }
    if !r.nodes.is_empty() {
        let nodes: Vec<&str> = r.nodes.iter().map(String::as_str).collect();
        let _ = writeln!(out, "written by node(s): {}", nodes.join(", "));
    }
    for fp in &r.key_fingerprints {
        let _ = writeln!(out, "signing key SHA-256 fingerprint: {fp}");
    }
    if r.unsigned_records > 0 {
        let _ = writeln!(
            out,
            "note: the newest {} record(s) in {} file(s) are chained but not yet covered by a signed digest",
            r.unsigned_records, r.unsigned_files
        );
    }
    Ok(())
}

fn query_cmd(a: &QueryArgs) -> Result<(), String> {
    let now = time::OffsetDateTime::now_utc();
    let filter = Filter {
        since: a
            .since
            .as_deref()
            .map(|s| query::parse_time(s, now))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| query::parse_time(s, now))
            .transpose()?,
        event_name: a.event_name.clone(),
        key: a.key.clone(),
        principal: a.principal.clone(),
        errors_only: a.errors_only,
        node: a.node.clone(),
    };
    for dir in &a.dir {
        if !dir.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if matches!(a.output, Output::Table) {
        let _ = writeln!(out, "{}", query::table_header());
    }
    let records = files::merged_records(&a.dir).map_err(|e| format!("reading: {e}"))?;
    for item in records {
        let (_, _, raw, v) = item.map_err(|e| format!("reading: {e}"))?;
        if !filter.matches(&v) {
            continue;
        }
        let line = match a.output {
            Output::Json => raw,
            Output::Table => query::table_row(&v),
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    Ok(())
}

/// Complete lines of `bytes` from `offset`, and the offset after the last one.
fn complete_lines(bytes: &[u8], offset: usize) -> (Vec<String>, usize) {
    let tail = bytes.get(offset..).unwrap_or_default();
    let (lines, torn) = files::split_lines(tail);
    let next = offset
        .saturating_add(tail.len())
        .saturating_sub(torn)
        .max(offset);
    (
        lines
            .into_iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect(),
        next,
    )
}

fn tail(a: &TailArgs) -> Result<(), String> {
    let list = |dir: &Path| {
        files::list_log_files(dir).map_err(|e| format!("reading {}: {e}", dir.display()))
    };
    let mut out = std::io::stdout().lock();
    let logs = list(&a.dir)?;
    // The newest `lines` records, reading files from the newest back.
    let mut newest: Vec<String> = Vec::new();
    for (_, path) in logs.iter().rev() {
        if newest.len() >= a.lines {
            break;
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let (lines, _) = complete_lines(&bytes, 0);
        let mut lines = lines;
        let keep = a.lines.saturating_sub(newest.len());
        let start = lines.len().saturating_sub(keep);
        let mut older: Vec<String> = lines.drain(start..).collect();
        older.append(&mut newest);
        newest = older;
    }
    for l in &newest {
        if writeln!(out, "{l}").is_err() {
            return Ok(());
        }
    }
    let _ = out.flush();
    if !a.follow {
        return Ok(());
    }
    let mut current: Option<(PathBuf, usize)> = logs.last().map(|(_, p)| {
        let len = std::fs::read(p)
            .map(|b| complete_lines(&b, 0).1)
            .unwrap_or(0);
        (p.clone(), len)
    });
    loop {
        // List first: once a newer file exists the writer no longer appends to the
        // current one, so the read below sees all of it before we move on.
        let logs = list(&a.dir)?;
        let next = match &current {
            Some((path, _)) => logs.iter().find(|(_, p)| p > path).map(|(_, p)| p.clone()),
            None => logs.first().map(|(_, p)| p.clone()),
        };
        if let Some((path, offset)) = current.as_mut() {
            if let Ok(bytes) = std::fs::read(&*path) {
                let (lines, end) = complete_lines(&bytes, *offset);
                *offset = end;
                for l in lines {
                    if writeln!(out, "{l}").is_err() {
                        return Ok(());
                    }
                }
                if out.flush().is_err() {
                    return Ok(());
                }
            }
        }
        match next {
            Some(p) => current = Some((p, 0)),
            None => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}
