//! A fault-injecting TCP proxy on loopback: a device's [`HttpsTransport`] talks to it as if
//! it were the server, and it breaks the conversation the way a poor network does — cut
//! connections, cut answers, slow or repeated requests, answers that never come.
//!
//! Where [`Faulty`](crate::Faulty) breaks requests above the transport, this proxy breaks
//! them on the wire, so the real HTTP client's own error handling is part of what is tested.
//!
//! [`HttpsTransport`]: fieldconsult_core::HttpsTransport

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest the proxy waits on either side before giving a connection up: a bound on how long
/// a wedged test can hang, far above what any sync in these tests takes.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request head read; the device's heads are a few hundred bytes.
const MAX_HEAD: usize = 64 << 10;

/// What the proxy does with one connection (one request, see [`Proxy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Pass the request and its answer through untouched.
    None,
    /// Forward only the first `after` bytes of the request (never all of it), then close
    /// both sides: the server never sees a whole request.
    DropUpstream {
        /// Bytes of the request forwarded.
        after: usize,
    },
    /// Forward the whole request, then only the first `after` bytes of the answer (never all
    /// of it), then close: the server did the work, the device cannot know.
    DropDownstream {
        /// Bytes of the answer forwarded.
        after: usize,
    },
    /// Forward the whole request, then the answer's head and half its body, then close: the
    /// device sees a success status and a body that ends early.
    Truncate,
    /// Sleep before forwarding, then pass through.
    Delay(Duration),
    /// Send the request to the server twice over two connections, discard the first answer
    /// and return the second: as if a lost request had been resent by the network.
    Duplicate,
    /// Read the request and never forward or answer it, until the device gives up.
    Stall,
    /// Forward the request, then hold its answer back until the device gives up: the server
    /// did the work, the device sees a timeout.
    Withhold,
}

impl Fault {
    /// A short name for the kind of fault, whatever its parameters.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::DropUpstream { .. } => "drop_upstream",
            Fault::DropDownstream { .. } => "drop_downstream",
            Fault::Truncate => "truncate",
            Fault::Delay(_) => "delay",
            Fault::Duplicate => "duplicate",
            Fault::Stall => "stall",
            Fault::Withhold => "withhold",
        }
    }
}

/// Which fault each connection gets, in the order requests arrive.
#[derive(Clone, Debug)]
pub enum Plan {
    /// The same fault on every connection.
    Each(Fault),
    /// These faults on the first connections, one each, then pass-through.
    Sequence(Vec<Fault>),
    /// These faults, one each, on the first requests whose path starts with `path_prefix`
    /// (`"/v1/push"`); every other request passes.
    Matching {
        /// Start of the request path (with its query) that selects a request.
        path_prefix: String,
        /// Faults for the selected requests, in order; then pass-through.
        faults: Vec<Fault>,
    },
    /// A fault on each connection with probability `fault_rate`, its kind and parameters
    /// drawn from a PRNG seeded with `seed`: the same seed gives the same faults for the
    /// same sequence of requests.
    Random {
        /// PRNG seed.
        seed: u64,
        /// Probability in `0.0..=1.0` that a connection gets a fault.
        fault_rate: f64,
    },
}

/// One fault applied, as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Injected {
    /// The fault.
    pub fault: Fault,
    /// Method and path of the request it hit (`POST /v1/push`).
    pub request: String,
}

/// What the proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Whole requests read from devices.
    pub requests: u64,
    /// Faults applied (every [`Fault`] but [`Fault::None`]).
    pub faults: u64,
}

/// A running proxy on `127.0.0.1`, stopped when dropped.
///
/// One request per connection: the proxy rewrites each request's `Connection` header to
/// `close`, so the server closes after answering and its answer says so, and the device's
/// client (ureq, which pools connections) never reuses one. That makes a connection and a
/// request the same thing, so a fault hits exactly one request, [`Plan::Sequence`] is exact,
/// and the end of an answer is simply the server's end of stream (no need to parse chunked
/// bodies). The cost, a TCP handshake per request, is nothing on loopback.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// State the acceptor and the connection threads share with the [`Proxy`].
struct Shared {
    stop: AtomicBool,
    planner: Mutex<Planner>,
    connections: AtomicU64,
    requests: AtomicU64,
    injected: Mutex<Vec<Injected>>,
    /// Open sockets by connection, so that dropping the proxy can unblock every thread.
    live: Mutex<HashMap<u64, Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` following `plan`.
    pub fn start(upstream: SocketAddr, plan: Plan) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy on loopback");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            planner: Mutex::new(Planner::new(plan)),
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            injected: Mutex::new(Vec::new()),
            live: Mutex::new(HashMap::new()),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fault-proxy".into())
                .spawn(move || accept_loop(&listener, upstream, &shared))
                .expect("start the proxy thread")
        };
        Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// A proxy in front of the server at `url` (`http://127.0.0.1:1234`).
    pub fn in_front_of(url: &str, plan: Plan) -> Proxy {
        Proxy::start(upstream_of(url), plan)
    }

    /// The proxy's base address, to give a transport instead of the server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.shared.connections.load(Ordering::SeqCst),
            requests: self.shared.requests.load(Ordering::SeqCst),
            faults: self.injected().len() as u64,
        }
    }

    /// Every fault applied so far, in order.
    pub fn injected(&self) -> Vec<Injected> {
        self.shared.injected.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor from `accept`; it sees `stop` and leaves.
        let _ = TcpStream::connect(self.addr);
        for streams in self.shared.live.lock().unwrap().values() {
            for s in streams {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// The socket address of a loopback base URL such as [`Mission::url`](crate::Mission::url).
pub fn upstream_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{url} is not http://<ip>:<port>: {e}"))
}

fn accept_loop(listener: &TcpListener, upstream: SocketAddr, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        next_id += 1;
        let id = next_id;
        let shared = shared.clone();
        workers.retain(|w| !w.is_finished());
        workers.push(std::thread::spawn(move || {
            // A connection that fails is the device's problem to notice, not the proxy's.
            let _ = serve_connection(id, client, upstream, &shared);
            shared.live.lock().unwrap().remove(&id);
        }));
    }
    // Their sockets were shut down by `Proxy::drop`: every worker ends promptly.
    for w in workers {
        let _ = w.join();
    }
}

impl Shared {
    /// Registers a socket of connection `id` so that dropping the proxy can shut it down.
    fn track(&self, id: u64, stream: &TcpStream) -> io::Result<()> {
        let clone = stream.try_clone()?;
        self.live.lock().unwrap().entry(id).or_default().push(clone);
        if self.stop.load(Ordering::SeqCst) {
            // The proxy was dropped between accept and here: do not outlive it.
            let _ = stream.shutdown(Shutdown::Both);
        }
        Ok(())
    }

    /// Connects to the server for connection `id`.
    fn upstream(&self, id: u64, addr: SocketAddr) -> io::Result<TcpStream> {
        let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        self.track(id, &s)?;
        Ok(s)
    }

    /// Sends `request` to the server on a connection of its own and reads the whole answer.
    fn exchange(&self, id: u64, addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
        let mut up = self.upstream(id, addr)?;
        up.write_all(request)?;
        // No shutdown of the write side: hyper (by default) takes a half-close for a
        // client gone away and may drop the request. It closes by itself after the answer (`Connection: close`).
        let mut answer = Vec::new();
        up.read_to_end(&mut answer)?;
        Ok(answer)
    }
}

fn serve_connection(
    id: u64,
    mut client: TcpStream,
    upstream: SocketAddr,
    shared: &Shared,
) -> io::Result<()> {
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    client.set_write_timeout(Some(IO_TIMEOUT))?;
    client.set_nodelay(true)?;
    shared.track(id, &client)?;
    if shared.stop.load(Ordering::SeqCst) {
        return Ok(());
    }
    let Some(request) = read_request(&mut client)? else {
        // Connected and left without asking anything: nothing to forward.
        return Ok(());
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let fault = shared
        .planner
        .lock()
        .unwrap()
        .next(&request.target, request.bytes.len());
    if fault != Fault::None {
        shared.injected.lock().unwrap().push(Injected {
            fault: fault.clone(),
            request: format!("{} {}", request.method, request.target),
        });
    }
    let bytes = &request.bytes;
    match fault {
        Fault::None => {
            let answer = shared.exchange(id, upstream, bytes)?;
            client.write_all(&answer)?;
        }
        Fault::DropUpstream { after } => {
            let mut up = shared.upstream(id, upstream)?;
            up.write_all(&bytes[..after.min(bytes.len() - 1)])?;
            // Dropping both sockets here closes them.
        }
        Fault::DropDownstream { after } => {
            let answer = shared.exchange(id, upstream, bytes)?;
            client.write_all(&answer[..after.min(answer.len().saturating_sub(1))])?;
        }
        Fault::Truncate => {
            let answer = shared.exchange(id, upstream, bytes)?;
            let cut = match find(&answer, b"\r\n\r\n") {
                Some(end) if answer.len() > end + 4 => end + 4 + (answer.len() - end - 4) / 2,
                // No body to cut into: cut the head instead.
                _ => answer.len() / 2,
            };
            client.write_all(&answer[..cut])?;
        }
        Fault::Delay(d) => {
            std::thread::sleep(d);
            let answer = shared.exchange(id, upstream, bytes)?;
            client.write_all(&answer)?;
        }
        Fault::Duplicate => {
            shared.exchange(id, upstream, bytes)?;
            let answer = shared.exchange(id, upstream, bytes)?;
            client.write_all(&answer)?;
        }
        Fault::Stall => wait_for_hang_up(&mut client),
        Fault::Withhold => {
            shared.exchange(id, upstream, bytes)?;
            wait_for_hang_up(&mut client);
        }
    }
    client.flush()
}

/// Blocks until the device closes the connection (its timeout), or the proxy is dropped.
fn wait_for_hang_up(client: &mut TcpStream) {
    let mut buf = [0u8; 256];
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 {
            return;
        }
    }
}

/// One request as read from the device, rewritten to close its connection after the answer.
struct Request {
    method: String,
    target: String,
    bytes: Vec<u8>,
}

/// Reads one whole request: its head, then `Content-Length` bytes of body. `None` when the
/// device closes before sending anything.
fn read_request(client: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0usize;
    let mut rewritten = format!("{request_line}\r\n");
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name_lower = name.trim().to_ascii_lowercase();
        match name_lower.as_str() {
            "content-length" => {
                content_length = value.trim().parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad content-length")
                })?;
            }
            // The device sends whole bodies with a length; a chunked one would need parsing.
            "transfer-encoding" => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunked requests are not supported",
                ));
            }
            "connection" | "keep-alive" => continue,
            _ => {}
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    let mut body = buf.split_off(head_end + 4);
    while body.len() < content_length {
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    // A client that pipelines would have sent more; ureq does not.
    body.truncate(content_length);
    let mut bytes = rewritten.into_bytes();
    bytes.extend_from_slice(&body);
    Ok(Some(Request {
        method,
        target,
        bytes,
    }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Turns a [`Plan`] into one fault per request.
struct Planner {
    plan: Plan,
    /// Position in a sequence.
    next: usize,
    rng: SplitMix64,
}

impl Planner {
    fn new(plan: Plan) -> Planner {
        let seed = match plan {
            Plan::Random { seed, .. } => seed,
            _ => 0,
        };
        Planner {
            plan,
            next: 0,
            rng: SplitMix64(seed),
        }
    }

    /// The fault for a request to `target` whose rewritten bytes number `len`.
    fn next(&mut self, target: &str, len: usize) -> Fault {
        match &self.plan {
            Plan::Each(f) => f.clone(),
            Plan::Sequence(faults) => {
                let f = faults.get(self.next).cloned().unwrap_or(Fault::None);
                self.next += 1;
                f
            }
            Plan::Matching {
                path_prefix,
                faults,
            } => {
                if !target.starts_with(path_prefix.as_str()) {
                    return Fault::None;
                }
                let f = faults.get(self.next).cloned().unwrap_or(Fault::None);
                self.next += 1;
                f
            }
            Plan::Random { fault_rate, .. } => {
                let fault_rate = *fault_rate;
                if self.rng.unit() >= fault_rate {
                    return Fault::None;
                }
                match self.rng.below(7) {
                    0 => Fault::DropUpstream {
                        after: self.rng.below(len as u64) as usize,
                    },
                    // Answers run from a few hundred bytes to a few kilobytes.
                    1 => Fault::DropDownstream {
                        after: self.rng.below(2048) as usize,
                    },
                    2 => Fault::Truncate,
                    3 => Fault::Delay(Duration::from_millis(self.rng.below(300))),
                    4 => Fault::Duplicate,
                    5 => Fault::Stall,
                    _ => Fault::Withhold,
                }
            }
        }
    }
}

/// splitmix64: tiny, seedable, and good enough to pick faults.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`0` when `n` is `0`).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}
