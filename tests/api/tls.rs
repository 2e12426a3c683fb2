//! HTTPS with a certificate, and client certificates (mTLS) as callers with roles: a CA and certificates made by openssl.

use super::*;

#[test]
fn https_with_a_certificate_serves_the_api_and_plain_clients_are_turned_away() {
    let (dir, data, tokens) = setup();
    self_signed(
        dir.path(),
        "localhost",
        &["-addext", "subjectAltName=DNS:localhost"],
    );
    let (cert, key) = (
        dir.path().join("localhost.pem"),
        dir.path().join("localhost.key"),
    );
    let server = Server::start_with(
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let fetch = |path: &str| {
        Command::new("python3")
            .args([
                "-c",
                "import ssl,sys,urllib.request\n\
                 ctx=ssl.create_default_context(cafile=sys.argv[1])\n\
                 req=urllib.request.Request(sys.argv[2], headers={'Authorization':'Bearer '+sys.argv[3]})\n\
                 print(urllib.request.urlopen(req, context=ctx).read().decode())",
                cert.to_str().unwrap(),
                &format!("https://localhost:{}{path}", server.port),
                &tokens[&Role::Agent],
            ])
            .output()
            .unwrap()
    };
    let out = fetch("/api/stats");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(stats["messages"].as_u64().unwrap() > 10);
    // A plain-HTTP request to the TLS port gets no answer.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        s,
        "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("\"status\""));
}

/// openssl in a directory: a self-signed certificate, a CA and certificates it signs.
fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl {args:?}");
}

/// A self-signed certificate for `name` (`NAME.pem`, its key `NAME.key`): a server's own, or a
/// CA's. `extra`: more `openssl req` arguments (a subjectAltName).
fn self_signed(dir: &Path, name: &str, extra: &[&str]) {
    let (subject, key, cert) = (
        format!("/CN={name}"),
        format!("{name}.key"),
        format!("{name}.pem"),
    );
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &subject,
        "-keyout",
        &key,
        "-out",
        &cert,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args);
}

fn make_ca(dir: &Path, name: &str) {
    self_signed(dir, name, &[]);
}

fn make_cert(dir: &Path, ca: &str, name: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

#[test]
fn mtls_client_certificates_registered_as_callers_get_their_role() {
    let (dir, data, _tokens) = setup();
    let pki = dir.path();
    make_ca(pki, "ca");
    make_ca(pki, "rogue-ca");
    make_cert(
        pki,
        "ca",
        "server",
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    make_cert(pki, "ca", "erp", "extendedKeyUsage=clientAuth\n");
    make_cert(pki, "ca", "stranger", "extendedKeyUsage=clientAuth\n");
    make_cert(pki, "rogue-ca", "rogue", "extendedKeyUsage=clientAuth\n");
    let out = deskmail(&[
        "token",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--role",
        "integration",
        "--name",
        "erp-bridge",
        "--client-cert",
        pki.join("erp.pem").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = |n: &str| pki.join(n).to_str().unwrap().to_string();
    let server = Server::start_with(
        &data,
        &[
            "--tls-cert",
            &p("server.pem"),
            "--tls-key",
            &p("server.key"),
            "--client-ca",
            &p("ca.pem"),
        ],
    );
    let call = |path: &str, client: Option<&str>| -> String {
        let out = Command::new("python3")
            .args([
                "-c",
                "import ssl,sys,urllib.request,urllib.error\n\
                 ctx=ssl.create_default_context(cafile=sys.argv[1])\n\
                 if sys.argv[3]: ctx.load_cert_chain(sys.argv[3]+'.pem', sys.argv[3]+'.key')\n\
                 try:\n  print(urllib.request.urlopen(sys.argv[2], context=ctx).status)\n\
                 except urllib.error.HTTPError as e:\n  print(e.code)\n\
                 except Exception as e:\n  print('refused', type(e).__name__)",
                &p("ca.pem"),
                &format!("https://localhost:{}{path}", server.port),
                &client.map(p).unwrap_or_default(),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // The registered certificate is the integration caller: search yes, mail content no.
    assert_eq!(call("/api/search?q=invoice", Some("erp")), "200");
    assert_eq!(call("/api/messages/abc", Some("erp")), "403");
    // A valid certificate nobody registered, or none at all: no caller.
    assert_eq!(call("/api/search?q=invoice", Some("stranger")), "401");
    assert_eq!(call("/api/search?q=invoice", None), "401");
    assert_eq!(call("/api/health", None), "200");
    // A certificate from another CA does not get through the handshake.
    assert!(call("/api/health", Some("rogue")).starts_with("refused"));
}
