//! `nsgsim serve` on the generated 10,000-VM scenario (JIT enabled on every VM at the start, 100
//! NSGs of 200 JIT rules each): the HTTP round trip of each action the page offers, from a client
//! on the same machine over one kept-alive loopback connection, as a browser sends them.
//!
//! Criterion measures the mean of each round trip (`serve/10000-vms/ACTION`); before that, each
//! action is also timed alone 300 times and its 50th and 99th percentiles and maximum are printed
//! (criterion reports no percentiles), the figure the classroom's responsiveness depends on.
//! Actions that change what the next one meets are paired with an untimed step that restores it
//! (a request before a revoke, a disable before an enable), so every round trip meets the same
//! state.
//!
//! Run: `cargo bench --bench serve` (about a minute).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use nsgsim::serve::{Config, Server};

#[path = "common/generated.rs"]
mod generated;

/// A kept-alive HTTP/1.1 connection to the server.
struct Client {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("the server accepts");
        stream.set_nodelay(true).expect("no delay");
        Client { addr, reader: BufReader::new(stream) }
    }

    /// One request; panics unless the status is 2xx. Returns the body.
    fn call(&mut self, method: &str, path: &str, body: &str) -> String {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.reader.get_mut().write_all(head.as_bytes()).expect("sent");
        let mut status = String::new();
        self.reader.read_line(&mut status).expect("a status line");
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a header");
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("a length");
            }
        }
        let mut buf = vec![0; length];
        self.reader.read_exact(&mut buf).expect("the body");
        let body = String::from_utf8(buf).expect("UTF-8");
        assert!(status.contains(" 20"), "{method} {path}: {status} {body}");
        body
    }
}

/// One action: an untimed step that sets the state up (or nothing), then the timed request.
struct Action {
    name: &'static str,
    setup: fn(&mut Client, &str, u64),
    request: fn(&str, u64) -> (&'static str, String, String),
}

fn no_setup(_: &mut Client, _: &str, _: u64) {}

/// The VM an iteration acts on: a few VMs in turn, so that each request supersedes the grant of
/// an earlier one on the same port and the NSGs stay the same size.
fn vm(i: u64) -> u64 {
    (i % 8) * 1_237
}

fn request_body(id: &str, user: u64, i: u64) -> String {
    format!(
        r#"{{"RequestJit": {{"id": "{id}", "user": "u{}", "vm": "vm{}", "ports": [22], "duration": "1h"}}}}"#,
        user % 20,
        vm(i)
    )
}

fn actions() -> Vec<Action> {
    vec![
        Action {
            name: "request-jit",
            setup: no_setup,
            request: |s, i| {
                ("POST", format!("/api/sessions/{s}/actions"), request_body(&format!("req{i}"), i, i))
            },
        },
        Action {
            name: "revoke-jit",
            setup: |c, s, i| {
                c.call("POST", &format!("/api/sessions/{s}/actions"), &request_body(&format!("rv{i}"), i, i));
            },
            request: |s, i| {
                let body = format!(r#"{{"RevokeJit": {{"request": "rv{i}", "by": "u0"}}}}"#);
                ("POST", format!("/api/sessions/{s}/actions"), body)
            },
        },
        Action {
            name: "disable-jit",
            setup: |c, s, i| {
                let body =
                    format!(r#"{{"EnableJit": {{"vm": "vm{}", "ports": [{{"number": 22}}]}}}}"#, vm(i) + 1);
                c.call("POST", &format!("/api/sessions/{s}/actions"), &body);
            },
            request: |s, i| {
                let body = format!(r#"{{"DisableJit": {{"vm": "vm{}"}}}}"#, vm(i) + 1);
                ("POST", format!("/api/sessions/{s}/actions"), body)
            },
        },
        Action {
            name: "enable-jit",
            setup: |c, s, i| {
                let body = format!(r#"{{"DisableJit": {{"vm": "vm{}"}}}}"#, vm(i) + 2);
                c.call("POST", &format!("/api/sessions/{s}/actions"), &body);
            },
            request: |s, i| {
                let body = format!(
                    r#"{{"EnableJit": {{"vm": "vm{}", "ports": [{{"number": 22, "protocol": "Tcp", "max_duration": "PT1H"}}, {{"number": 3389}}]}}}}"#,
                    vm(i) + 2
                );
                ("POST", format!("/api/sessions/{s}/actions"), body)
            },
        },
        Action {
            name: "edit-jit",
            setup: no_setup,
            request: |s, i| {
                let body = format!(
                    r#"{{"EditJit": {{"vm": "vm{}", "ports": [{{"number": 22, "max_duration": "PT{}H"}}]}}}}"#,
                    vm(i) + 3,
                    1 + i % 3
                );
                ("POST", format!("/api/sessions/{s}/actions"), body)
            },
        },
        Action {
            name: "approve-jit",
            setup: |c, s, i| {
                let edit = format!(r#"{{"EditJit": {{"vm": "vm{}", "approvers": ["Owner"]}}}}"#, vm(i) + 4);
                c.call("POST", &format!("/api/sessions/{s}/actions"), &edit);
                let body = format!(
                    r#"{{"RequestJit": {{"id": "ap{i}", "user": "u1", "vm": "vm{}", "ports": [22], "duration": "1h"}}}}"#,
                    vm(i) + 4
                );
                c.call("POST", &format!("/api/sessions/{s}/actions"), &body);
            },
            request: |s, i| {
                let body = format!(r#"{{"ApproveJit": {{"request": "ap{i}", "by": "u2"}}}}"#);
                ("POST", format!("/api/sessions/{s}/actions"), body)
            },
        },
        Action {
            name: "try-a-connection",
            setup: no_setup,
            request: |s, i| {
                let body = format!(r#"{{"from": "u{}", "to": "vm{}", "port": 22}}"#, i % 20, vm(i));
                ("POST", format!("/api/sessions/{s}/eval"), body)
            },
        },
        Action {
            name: "clock-advance",
            setup: no_setup,
            request: |s, _| ("POST", format!("/api/sessions/{s}/clock"), r#"{"advance": "1m"}"#.into()),
        },
        Action {
            name: "clock-next-expiry",
            setup: |c, s, i| {
                c.call("POST", &format!("/api/sessions/{s}/actions"), &request_body(&format!("ex{i}"), i, i));
            },
            request: |s, _| {
                ("POST", format!("/api/sessions/{s}/clock"), r#"{"until": "next-expiry"}"#.into())
            },
        },
        Action {
            name: "state",
            setup: no_setup,
            request: |s, _| ("GET", format!("/api/sessions/{s}"), String::new()),
        },
        Action {
            name: "jit-page",
            setup: no_setup,
            request: |s, _| {
                ("GET", format!("/api/sessions/{s}/jit?status=Configured&limit=200"), String::new())
            },
        },
        Action {
            name: "nsgs",
            setup: no_setup,
            request: |s, _| ("GET", format!("/api/sessions/{s}/nsgs?limit=10"), String::new()),
        },
        Action {
            name: "activity-log",
            setup: no_setup,
            request: |s, _| ("GET", format!("/api/sessions/{s}/log?limit=200"), String::new()),
        },
        Action {
            name: "requests",
            setup: no_setup,
            request: |s, _| ("GET", format!("/api/sessions/{s}/requests?limit=200"), String::new()),
        },
    ]
}

/// Starts a server on the generated scenario and opens a sandbox session; returns the client and
/// the session id.
fn start(vms: usize) -> (Client, String) {
    let text = generated::scenario_text(vms);
    let scenario = nsgsim::scenario::load_str(&text, std::path::Path::new("generated.ron"))
        .expect("the generated scenario is valid");
    let config =
        Config { bind: "127.0.0.1:0".parse().expect("an address"), allowed_hosts: vec![], max_sessions: 4 };
    let server = Server::bind(scenario, text, &config).expect("a loopback port");
    let addr = server.local_addr();
    std::thread::spawn(move || server.run());
    let mut client = Client::new(addr);
    let created = client.call("POST", "/api/sessions", r#"{"mode": "sandbox"}"#);
    let value: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let id = value["session"].as_str().expect("a session id").to_string();
    (client, id)
}

#[expect(clippy::print_stdout, reason = "the percentiles are the bench's report")]
fn percentiles(client: &mut Client, session: &str, counter: &mut u64) {
    const N: usize = 300;
    println!("round trips on the generated 10,000-VM scenario, {N} of each action (ms):");
    for action in actions() {
        let mut times = Vec::with_capacity(N);
        for _ in 0..N {
            *counter += 1;
            (action.setup)(client, session, *counter);
            let (method, path, body) = (action.request)(session, *counter);
            let start = Instant::now();
            client.call(method, &path, &body);
            times.push(start.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {:<18} p50 {:>6.2}  p99 {:>6.2}  max {:>6.2}",
            action.name,
            ms(times[N / 2]),
            ms(times[N * 99 / 100]),
            ms(times[N - 1])
        );
    }
}

fn bench_actions(c: &mut Criterion) {
    let (mut client, session) = start(10_000);
    let mut counter = 0;
    percentiles(&mut client, &session, &mut counter);
    let mut group = c.benchmark_group("serve/10000-vms");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for action in actions() {
        group.bench_function(action.name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    counter += 1;
                    (action.setup)(&mut client, &session, counter);
                    let (method, path, body) = (action.request)(&session, counter);
                    let start = Instant::now();
                    client.call(method, &path, &body);
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_actions);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
