//! A `deskmail serve` child on a free loopback port and a bare HTTP/1.1 client for it, with a
//! data directory holding the AP fixtures and one token per role.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use deskmail::access::Role;
use serde_json::Value;

use super::{bin, deskmail, fixtures};

pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        let mut command = bin();
        command
            .args([
                "serve",
                "--data",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra);
        Server::spawn(command)
    }

    /// Start a prepared `deskmail serve` command and read its port from its first line.
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server { child, port }
    }

    /// GET with an optional bearer token: (status, headers, body).
    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, HashMap<String, String>, Vec<u8>) {
        self.request("GET", path, token, b"")
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, HashMap<String, String>, Vec<u8>) {
        self.request_with(method, path, token, &[], body)
    }

    /// A request with extra header lines (`X-Forwarded-For`, …).
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, HashMap<String, String>, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut extra = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        for (k, v) in headers {
            extra.push_str(&format!("{k}: {v}\r\n"));
        }
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect::<HashMap<_, _>>();
        let mut body = raw[split + 4..].to_vec();
        if method == "HEAD" {
            body.clear();
        }
        if headers
            .get("transfer-encoding")
            .is_some_and(|v| v == "chunked")
        {
            body = dechunk(&body);
        }
        (status, headers, body)
    }

    pub fn json(&self, path: &str, token: &str) -> Value {
        let (status, _, body) = self.get(path, Some(token));
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn create_token(data: &Path, role: Role, name: &str) -> String {
    let out = deskmail(&[
        "token",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--role",
        role.name(),
        "--name",
        name,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string()
}

/// A data dir with the AP fixtures and one token per role.
pub fn setup() -> (tempfile::TempDir, PathBuf, HashMap<Role, String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = deskmail(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        fixtures().join("ap").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let tokens = Role::ALL
        .iter()
        .map(|&r| (r, create_token(&data, r, &format!("{r}-1"))))
        .collect();
    (dir, data, tokens)
}
