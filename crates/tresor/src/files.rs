//! Input and output of `tresor encrypt`/`decrypt`: `-` for stdin/stdout, and an output
//! file that appears only complete. A file OUT is written as a temporary file (mode 0600)
//! next to it and renamed over OUT at the end of a successful run; on any failure the
//! temporary file is deleted and an existing OUT is left as it was.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Buffer size for reading and writing (the ESDK frames are 4 KiB by default).
const BUFFER: usize = 64 * 1024;

/// Opens `path` (`-`: stdin) and its length when known; with a progress bar on a
/// terminal stderr unless `quiet`.
pub fn open_input(path: &str, quiet: bool) -> Result<(Box<dyn Read>, Progress), String> {
    let (reader, len): (Box<dyn Read>, Option<u64>) = if path == "-" {
        (
            Box::new(BufReader::with_capacity(BUFFER, std::io::stdin())),
            None,
        )
    } else {
        let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let len = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        (Box::new(BufReader::with_capacity(BUFFER, file)), len)
    };
    let progress = Progress::new(len, quiet);
    let reader = match &progress.bar {
        Some(bar) => Box::new(bar.wrap_read(reader)) as Box<dyn Read>,
        None => reader,
    };
    Ok((reader, progress))
}

/// A progress bar on stderr, or nothing.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(len: Option<u64>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let template = match len {
            Some(_) => "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            None => "{spinner} {bytes} {binary_bytes_per_sec}",
        };
        let bar = match len {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        Self { bar: Some(bar) }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Where the output goes.
pub enum Output {
    /// Standard output, written as it comes.
    Stdout(BufWriter<std::io::Stdout>),
    /// A temporary file that becomes `dest` at [`Output::commit`].
    File {
        /// The temporary file (deleted on drop).
        temp: BufWriter<tempfile::NamedTempFile>,
        /// The final path.
        dest: PathBuf,
    },
}

impl Output {
    /// Prepares `path` (`-`: stdout).
    pub fn create(path: &str) -> Result<Self, String> {
        if path == "-" {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                BUFFER,
                std::io::stdout(),
            )));
        }
        let dest = PathBuf::from(path);
        if dest.is_dir() {
            return Err(format!("{path} is a directory"));
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        let temp = tempfile::Builder::new()
            .prefix(".tresor-partial-")
            .tempfile_in(&dir)
            .map_err(|e| format!("creating a file in {}: {e}", dir.display()))?;
        Ok(Output::File {
            temp: BufWriter::with_capacity(BUFFER, temp),
            dest,
        })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File { temp, .. } => temp,
        }
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<(), String> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| format!("stdout: {e}")),
            Output::File { temp, dest } => {
                let temp = temp
                    .into_inner()
                    .map_err(|e| format!("{}: {}", dest.display(), e.error()))?;
                temp.as_file()
                    .sync_all()
                    .map_err(|e| format!("{}: {e}", dest.display()))?;
                temp.persist(&dest)
                    .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
                Ok(())
            }
        }
    }
}
