//! The AWS emulator, `moto_server`, started once per test process on a free
//! loopback port. It is started through `sh` with a pipe on its standard
//! input: when the test process exits, for any reason, the pipe closes and
//! the shell stops the emulator, so no server outlives the tests.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    port: u16,
    /// Held so that the pipe stays open while the process lives.
    _child: Mutex<Child>,
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts a new emulator on a free port and waits until it answers.
    pub fn start() -> std::io::Result<Moto> {
        let binary = moto_binary();
        let mut last_error = None;
        for _ in 0..5 {
            let port = free_port()?;
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill "$pid""#)
                .arg(&binary)
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|error| {
                    std::io::Error::new(
                        error.kind(),
                        format!("could not start {}: {error}; run `make venv` first", binary.display()),
                    )
                })?;
            if wait_for_port(port, Duration::from_secs(30)) {
                return Ok(Moto {
                    port,
                    _child: Mutex::new(child),
                });
            }
            let _ = child.kill();
            last_error = Some(format!("moto_server did not answer on port {port}"));
        }
        Err(std::io::Error::other(last_error.unwrap_or_default()))
    }
}

/// The emulator shared by every test of this process.
pub async fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    if let Some(moto) = MOTO.get() {
        return moto;
    }
    let started = tokio::task::spawn_blocking(Moto::start)
        .await
        .expect("the start task ran")
        .expect("moto_server started");
    let _ = MOTO.set(started);
    MOTO.get().expect("set above")
}

/// `MOTO_SERVER` if set, else the project's venv.
pub fn moto_binary() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    workspace_root().join(".venv/bin/moto_server")
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
