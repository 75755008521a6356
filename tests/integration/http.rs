//! `nsgsim serve` as the tests meet it: the real binary on an ephemeral loopback port, and a small
//! HTTP/1.1 client over a `TcpStream` (one request per connection), so that tests can send any
//! header a browser or an attacker would (a foreign `Host`, an `Origin`, an oversized body).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `nsgsim serve`, stopped when dropped.
#[derive(Debug)]
pub struct Served {
    child: Child,
    /// Its standard output, kept open: a closed pipe would make its next line fail.
    _stdout: BufReader<std::process::ChildStdout>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Served {
    /// Starts `nsgsim serve FILE --bind 127.0.0.1:0 EXTRA...` and reads its address from the
    /// first line it prints.
    pub fn start(file: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nsgsim"))
            .args(["serve", file, "--bind", "127.0.0.1:0"])
            .args(extra)
            .current_dir(super::util::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("nsgsim serve starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("a first line");
        let url = first.split(" at ").nth(1).unwrap_or_else(|| panic!("no address in {first:?}")).trim();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        Served { child, _stdout: stdout, addr }
    }

    /// `METHOD PATH` with a JSON body (or none), with this server's own `Host`.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let host = self.addr.to_string();
        request(self.addr, method, path, &[("Host", &host)], body.map(str::as_bytes))
    }

    /// `GET PATH`, parsed as JSON, asserting the status.
    #[track_caller]
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        self.call("GET", path, None).assert_status(200).json()
    }

    /// `POST PATH BODY`, parsed as JSON, asserting the status.
    #[track_caller]
    pub fn post_json(&self, path: &str, body: &str, status: u16) -> serde_json::Value {
        self.call("POST", path, Some(body)).assert_status(status).json()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "status {} (expected {status}): {}", self.status, self.body);
        self
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends one request on its own connection and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("a timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("the request is sent");
    if let Some(body) = body {
        // The server may answer (413) and close before reading a large body.
        let _ = stream.write_all(body);
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let end =
        raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no header end in {raw:?}"));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let body = &raw[end + 4..];
    let mut lines = head.lines();
    let status_line = lines.next().expect("a status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The body of a chunked response.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..eol]).trim().to_string();
        let n = usize::from_str_radix(&size, 16).unwrap_or(0);
        let after = &rest[eol + 2..];
        if n == 0 || after.len() < n {
            break;
        }
        out.extend_from_slice(&after[..n]);
        rest = after[n..].strip_prefix(b"\r\n").unwrap_or(&after[n..]);
    }
    out
}
