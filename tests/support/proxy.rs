//! A TCP proxy for fault injection: put it between opsdeck and a server
//! (the simulator, moto, PostgreSQL) and make the link pass, freeze (stop
//! forwarding without closing, as a hung server or a dead network looks),
//! slow down, or reset every connection.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const PASS: u8 = 0;
const FREEZE: u8 = 1;
const SLOW: u8 = 2;
const RESET: u8 = 3;

struct Shared {
    mode: AtomicU8,
    /// Delay per forwarded chunk in SLOW mode.
    delay_ms: AtomicU64,
    stop: AtomicBool,
    /// Every open connection (both ends), to reset them.
    open: Mutex<Vec<TcpStream>>,
}

/// A proxy on 127.0.0.1 forwarding to `upstream`.
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(PASS),
            delay_ms: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        });
        let sh = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if sh.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if sh.mode.load(Ordering::SeqCst) == RESET {
                    reset(&client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    reset(&client);
                    continue;
                };
                if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                    sh.open.lock().unwrap().extend([c, s]);
                }
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    sh.clone(),
                );
                pump(server, client, sh.clone());
            }
        });
        Proxy { addr, shared }
    }

    /// The proxy's URL with `scheme` (`http`, `postgres`...).
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// Forward everything again (frozen bytes flow on).
    pub fn pass(&self) {
        self.shared.mode.store(PASS, Ordering::SeqCst);
    }

    /// Stop forwarding, keeping every connection open; new connections are
    /// accepted and then hang too.
    pub fn freeze(&self) {
        self.shared.mode.store(FREEZE, Ordering::SeqCst);
    }

    /// Forward each chunk after `delay`.
    pub fn slow(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
        self.shared.mode.store(SLOW, Ordering::SeqCst);
    }

    /// Reset every open connection and every new one until `pass`.
    pub fn reset(&self) {
        self.shared.mode.store(RESET, Ordering::SeqCst);
        for s in self.shared.open.lock().unwrap().drain(..) {
            reset(&s);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for s in self.shared.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Close with RST rather than FIN.
fn reset(s: &TcpStream) {
    if let Ok(c) = s.try_clone() {
        let sock = socket2::Socket::from(c);
        let _ = sock.set_linger(Some(Duration::ZERO));
        drop(sock);
    }
    let _ = s.shutdown(Shutdown::Both);
}

/// Copy `from` to `to` in the proxy's current mode.
fn pump(mut from: TcpStream, mut to: TcpStream, sh: Arc<Shared>) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => n,
            };
            // Hold the bytes while frozen; drop them when reset.
            loop {
                match sh.mode.load(Ordering::SeqCst) {
                    FREEZE => thread::sleep(Duration::from_millis(20)),
                    SLOW => {
                        thread::sleep(Duration::from_millis(sh.delay_ms.load(Ordering::SeqCst)));
                        break;
                    }
                    RESET => return,
                    _ => break,
                }
                if sh.stop.load(Ordering::SeqCst) {
                    return;
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                let _ = from.shutdown(Shutdown::Read);
                return;
            }
        }
    });
}
