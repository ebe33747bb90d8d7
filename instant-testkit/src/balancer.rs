//! A TCP load balancer for tests: the one address clients know, in front of several WebSocket
//! endpoints (Centrifugo nodes), that can move its traffic from one node to another.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

/// A TCP proxy on a free `127.0.0.1` port forwarding every connection to the current target
/// port, like a load balancer in front of Centrifugo nodes: WebSocket connections pass through
/// unchanged.
///
/// [`Balancer::route_to`] moves the traffic to another node: open connections are cut (the
/// clients see a dropped connection and reconnect, as when a node goes away) and new ones go to
/// the new target. [`Balancer::cut`] drops every connection and refuses new ones until the next
/// `route_to`. Stops on drop.
pub struct Balancer {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    stopping: AtomicBool,
}

#[derive(Default)]
struct State {
    target: Option<u16>,
    /// Both ends of every open connection, to cut them.
    open: Vec<TcpStream>,
    /// How many connections went to each target port.
    forwarded: Vec<(u16, u32)>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Balancer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balancer")
            .field("port", &self.port)
            .field("target", &self.shared.state().target)
            .finish_non_exhaustive()
    }
}

impl Balancer {
    /// Listens on a free loopback port and forwards to `127.0.0.1:<target>`.
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                target: Some(target),
                ..State::default()
            }),
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let target = accepting.state().target;
                // Without a target the connection is closed at once, as by a balancer with no
                // healthy backend.
                let Some(target) = target else { continue };
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                if let Err(e) = forward(&accepting, client, upstream, target) {
                    eprintln!("balancer: cannot forward a connection: {e}");
                }
            }
        });
        Self { port, shared }
    }

    /// The port clients connect to.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:<port>/connection/websocket`: Centrifugo's WebSocket endpoint through the
    /// balancer.
    #[must_use]
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// Cuts every open connection and sends new ones to `127.0.0.1:<target>`.
    pub fn route_to(&self, target: u16) {
        let mut state = self.shared.state();
        state.target = Some(target);
        cut_all(&mut state);
    }

    /// Cuts every open connection and closes new ones until [`Balancer::route_to`].
    pub fn cut(&self) {
        let mut state = self.shared.state();
        state.target = None;
        cut_all(&mut state);
    }

    /// How many connections were forwarded to `127.0.0.1:<target>` so far.
    #[must_use]
    pub fn forwarded_to(&self, target: u16) -> u32 {
        self.shared
            .state()
            .forwarded
            .iter()
            .find(|(port, _)| *port == target)
            .map_or(0, |(_, count)| *count)
    }
}

fn cut_all(state: &mut State) {
    for stream in state.open.drain(..) {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// Registers both ends and copies bytes each way on two threads.
fn forward(shared: &Shared, client: TcpStream, upstream: TcpStream, target: u16) -> io::Result<()> {
    {
        let mut state = shared.state();
        state.open.push(client.try_clone()?);
        state.open.push(upstream.try_clone()?);
        match state.forwarded.iter_mut().find(|(port, _)| *port == target) {
            Some((_, count)) => *count += 1,
            None => state.forwarded.push((target, 1)),
        }
    }
    let (client_reader, upstream_writer) = (client.try_clone()?, upstream.try_clone()?);
    thread::spawn(move || pipe(client_reader, upstream_writer));
    thread::spawn(move || pipe(upstream, client));
    Ok(())
}

/// Copies until either side closes, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        cut_all(&mut self.shared.state());
        // Wakes the accepting thread so that it sees the flag and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
