//! The limiter behind a proxy, idle and half-sent connections, running out of file handles.

use super::*;

/// Security finding 2: the limiter locked out valid tokens, counted missing tokens and ignored
/// X-Forwarded-For, so one client behind a proxy locked out the whole desk.
#[test]
fn finding2_one_client_behind_a_proxy_cannot_lock_out_the_desk() {
    let (_dir, data, tokens) = setup();
    // Missing tokens are not guesses: a page loading before its token is not locked out.
    let plain = Server::start(&data);
    for _ in 0..15 {
        assert_eq!(plain.get("/api/stats", None).0, 401);
    }
    assert_eq!(plain.get("/api/stats", Some("dm_a1")).0, 401, "not blocked");
    drop(plain);

    let server = Server::start_with(&data, &["--trusted-proxy", "127.0.0.0/8"]);
    let from = |client: &str, token: &str| {
        server
            .request_with(
                "GET",
                "/api/stats",
                Some(token),
                &[("X-Forwarded-For", client)],
                b"",
            )
            .0
    };
    for i in 0..10 {
        assert_eq!(from("203.0.113.7", &format!("dm_{i}x")), 401);
    }
    assert_eq!(from("203.0.113.7", "dm_zz"), 429, "the guesser waits");
    assert_eq!(
        from("198.51.100.4", "dm_yy"),
        401,
        "a colleague behind the proxy does not"
    );
    assert_eq!(
        from("203.0.113.7", &tokens[&Role::Admin]),
        200,
        "a valid token never waits"
    );
    // A client naming itself in the header without a trusted proxy is the peer, as before.
    drop(server);
    let direct = Server::start(&data);
    for i in 0..10 {
        let status = direct
            .request_with(
                "GET",
                "/api/stats",
                Some(&format!("dm_{i}q")),
                &[("X-Forwarded-For", &format!("192.0.2.{i}"))],
                b"",
            )
            .0;
        assert_eq!(status, 401);
    }
    assert_eq!(direct.get("/api/stats", Some("dm_last")).0, 429);
}

/// Security finding 5: idle and half-sent requests held connections forever, and with file
/// handles gone the accept loop spun a core. HEAD on a GET route was 403.
#[test]
fn finding5_idle_and_half_sent_connections_are_dropped_and_head_is_answered() {
    let (_dir, data, _tokens) = setup();
    let server = Server::start(&data);
    let (status, _, body) = server.request("HEAD", "/api/health", None, b"");
    assert_eq!(status, 200);
    assert!(body.is_empty());
    let idle = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut half = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half.write_all(b"GET /api/health HTTP/1.1\r\nHost: local")
        .unwrap();
    let started = std::time::Instant::now();
    for mut s in [idle, half] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert!(
            !String::from_utf8_lossy(&buf).contains("200 OK"),
            "answered a half request"
        );
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(20),
        "connections held {took:?} (the header timeout is 10 s)"
    );
}

/// Security finding 5, the other half: out of file handles, the accept loop retried at once and
/// burned a core while `/api/health` timed out. Now it pauses, and once the idle connections
/// are dropped the server answers again.
#[test]
fn finding5_out_of_file_handles_the_server_pauses_instead_of_spinning() {
    let (_dir, data, _tokens) = setup();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 48; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_deskmail"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(common::root());
    let server = Server::spawn(command);
    let port = server.port;
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // utime and stime, in clock ticks (100 per second on Linux).
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    let idle: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(
        idle.len() > 48,
        "the kernel's backlog takes them: {}",
        idle.len()
    );
    let before = cpu();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let burned = cpu() - before;
    assert!(
        burned < 100,
        "{burned} ticks of CPU in 3 s with handles exhausted"
    );
    // The header timeout frees the handles; then a fresh request is answered.
    let started = std::time::Instant::now();
    loop {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        if buf.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "health never answered after the idle connections timed out"
        );
    }
    drop(idle);
}
