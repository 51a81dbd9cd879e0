//! A loopback TCP proxy between the product's AWS clients and moto, so a
//! test can make AWS unreachable for a while and bring it back with its
//! state intact. moto keeps its state in memory, so restarting it would
//! lose the tables.
//!
//! Modes: `Pass` forwards bytes both ways. `Refuse` closes every open
//! connection and accepts new ones only to close them, as a network outage
//! looks to the SDK. `Stall` stops forwarding requests and keeps their
//! connections open, as a hung network does, so a test can cut a run while
//! it waits for AWS. A trip wire switches the mode when a request contains
//! a chosen byte string; that request is not forwarded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    Pass,
    Refuse,
    Stall,
}

struct TripWire {
    pattern: Vec<u8>,
    mode: ProxyMode,
}

struct Shared {
    target: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    trip_wire: Mutex<Option<TripWire>>,
    /// Requests the trip wire caught.
    tripped: AtomicUsize,
    /// Connections closed or refused because of `Refuse`.
    refused: AtomicUsize,
}

/// The running proxy. Dropping it stops accepting connections.
pub struct Proxy {
    shared: Arc<Shared>,
    address: SocketAddr,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port that forwards to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (mode, _) = watch::channel(ProxyMode::Pass);
        let shared = Arc::new(Shared {
            target,
            mode,
            trip_wire: Mutex::new(None),
            tripped: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        });
        let accept_shared = shared.clone();
        let accept_task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                tokio::spawn(async move { serve(shared, client).await });
            }
        });
        Ok(Proxy {
            shared,
            address,
            accept_task,
        })
    }

    /// Returns the endpoint URL for the product's AWS clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn set_mode(&self, mode: ProxyMode) {
        self.shared.mode.send_replace(mode);
    }

    pub fn mode(&self) -> ProxyMode {
        *self.shared.mode.borrow()
    }

    /// Switches to `mode` when a request contains `pattern`, once.
    pub fn trip_on(&self, pattern: &str, mode: ProxyMode) {
        *lock(&self.shared.trip_wire) = Some(TripWire {
            pattern: pattern.as_bytes().to_vec(),
            mode,
        });
    }

    /// Number of requests the trip wire caught (0 or 1).
    pub fn tripped(&self) -> usize {
        self.shared.tripped.load(Ordering::SeqCst)
    }

    /// Number of connections closed or refused while in `Refuse` mode.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.shared.mode.send_replace(ProxyMode::Refuse);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(shared: Arc<Shared>, client: TcpStream) {
    let mut mode = shared.mode.subscribe();
    if *mode.borrow_and_update() == ProxyMode::Refuse {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let Ok(server) = TcpStream::connect(shared.target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let mut upstream = [0u8; 16 * 1024];
    let mut downstream = [0u8; 16 * 1024];
    // The last bytes of the previous request chunk, so a pattern split
    // across two reads still trips the wire.
    let mut tail: Vec<u8> = Vec::new();

    loop {
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow_and_update() == ProxyMode::Refuse {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
            read = client_read.read(&mut upstream), if *mode.borrow() == ProxyMode::Pass => {
                let Ok(count) = read else { return };
                if count == 0 {
                    return;
                }
                let chunk = &upstream[..count];
                if trips(&shared, &tail, chunk) {
                    // Hold the connection without forwarding: the mode watch
                    // decides what happens to it next.
                    tail.clear();
                    continue;
                }
                tail = chunk[count.saturating_sub(64)..].to_vec();
                if server_write.write_all(chunk).await.is_err() {
                    return;
                }
            }
            read = server_read.read(&mut downstream) => {
                let Ok(count) = read else { return };
                if count == 0 || client_write.write_all(&downstream[..count]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Checks the trip wire against a request chunk and switches the mode when
/// it matches.
fn trips(shared: &Shared, tail: &[u8], chunk: &[u8]) -> bool {
    let mut wire = lock(&shared.trip_wire);
    let Some(active) = wire.as_ref() else {
        return false;
    };
    let mut window = tail.to_vec();
    window.extend_from_slice(chunk);
    let found = window
        .windows(active.pattern.len().max(1))
        .any(|part| part == active.pattern.as_slice());
    if !found {
        return false;
    }
    let mode = active.mode;
    *wire = None;
    shared.tripped.fetch_add(1, Ordering::SeqCst);
    shared.mode.send_replace(mode);
    true
}
