//! Several `tresor serve --dev --store postgres://…` nodes on one fresh database, and a
//! TCP proxy in front of PostgreSQL that a test can close to make it unreachable.

use super::Server;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tresor_store::testing::TestDatabase;

/// Nodes sharing one database (dropped after the nodes).
pub struct Cluster {
    pub nodes: Vec<Server>,
    pub dirs: Vec<tempfile::TempDir>,
    pub store_url: String,
    pub db: TestDatabase,
}

impl Cluster {
    /// `n` dev nodes on a fresh database; `None` when no PostgreSQL is configured or
    /// answering (see `tresor_store::testing`).
    pub fn start(n: usize, flags: &[&str]) -> Option<Cluster> {
        let db = TestDatabase::create()?;
        let url = db.url().to_string();
        let mut c = Cluster {
            nodes: Vec::new(),
            dirs: Vec::new(),
            store_url: url,
            db,
        };
        for _ in 0..n {
            c.dirs.push(tempfile::tempdir().unwrap());
        }
        // Start them at once: they must bootstrap the shared state one after another.
        let handles: Vec<_> = c
            .dirs
            .iter()
            .map(|d| {
                let dir = d.path().to_path_buf();
                let url = c.store_url.clone();
                let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
                std::thread::spawn(move || start_node(&dir, &url, &flags))
            })
            .collect();
        for h in handles {
            c.nodes.push(h.join().unwrap());
        }
        Some(c)
    }

    /// Restarts node `i` (same data directory, same database) after it was stopped.
    pub fn restart(&mut self, i: usize, flags: &[&str]) {
        let dir = self.dirs[i].path().to_path_buf();
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        self.nodes[i] = start_node(&dir, &self.store_url, &flags);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }
}

/// One dev node of `url` in `dir`.
pub fn start_node(dir: &std::path::Path, url: &str, flags: &[String]) -> Server {
    let mut all: Vec<&str> = vec!["--dev", "--store", url];
    all.extend(flags.iter().map(String::as_str));
    Server::start_opts(dir, &all, &[])
}

/// A TCP forwarder to 127.0.0.1:5432 (or wherever `upstream` is) that can be closed
/// (refusing new connections and cutting open ones) and opened again on its port.
pub struct TcpProxy {
    pub port: u16,
    upstream: String,
    open: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl TcpProxy {
    /// Forwards a free local port to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = TcpProxy {
            port,
            upstream: upstream.to_string(),
            open: Arc::new(AtomicBool::new(true)),
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let (open, conns, upstream) =
            (self.open.clone(), self.conns.clone(), self.upstream.clone());
        std::thread::spawn(move || {
            while open.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        let mut list = conns.lock().unwrap();
                        list.push(client.try_clone().unwrap());
                        list.push(server.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                        pipe(server, client);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
    }

    /// Refuses new connections and cuts every open one.
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again, on the same port.
    pub fn reopen(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        self.open.store(true, Ordering::SeqCst);
        self.serve(listener);
    }

    /// `url` (a postgres:// URL to 127.0.0.1:5432) pointed at this proxy instead.
    pub fn url_for(&self, url: &str) -> String {
        url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", self.port))
            .replace("localhost:5432", &format!("127.0.0.1:{}", self.port))
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// A fresh temporary data directory path kept by the caller.
pub fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().to_path_buf();
    (t, p)
}
