//! The accept loop: plain HTTP (loopback only) or HTTPS with rustls, each connection served by
//! hyper with the client's address attached to every request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt;
use tracing::{debug, info, warn};

use super::{ClientAddr, ClientCert};

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Verify client certificates against this CA (mTLS). A certificate is optional; one that
    /// is presented must chain to this CA, and is a caller when registered with
    /// `deskmail token create --client-cert`.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "plain HTTP is only allowed on a loopback address, not {0}; give --tls-cert and --tls-key"
    )]
    PlainNotLoopback(SocketAddr),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Whether `serve` could start TLS with these files (read, parsed, key matching the
/// certificate), for the start-up check.
pub fn check_tls(files: &TlsFiles) -> Result<(), ServeError> {
    tls_acceptor(files).map(|_| ())
}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = tokio_rustls::rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| ServeError::Tls(format!("{}: {e}", ca.display())))?
            {
                roots
                    .add(cert)
                    .map_err(|e| ServeError::Tls(format!("{}: {e}", ca.display())))?;
            }
            let verifier =
                tokio_rustls::rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .allow_unauthenticated()
                .build()
                .map_err(|e| ServeError::Tls(format!("client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 512;
/// A request head (and, on a kept-alive connection, the next one) must arrive within this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The TLS handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed accept (out of file handles), wait this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Bind (fails fast on a bad address or TLS files), then serve until `shutdown` resolves.
pub async fn serve(
    app: Router,
    listen: SocketAddr,
    tls: Option<TlsFiles>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    serve_as("listening on", app, listen, tls, shutdown).await
}

/// [`serve`], announcing the bound address on stdout as `<what> <scheme>://<addr>` (the API:
/// "listening on"; `[metrics] listen`: "metrics on").
pub async fn serve_as(
    what: &str,
    app: Router,
    listen: SocketAddr,
    tls: Option<TlsFiles>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let acceptor = match &tls {
        Some(files) => Some(tls_acceptor(files)?),
        None if listen.ip().is_loopback() => None,
        None => return Err(ServeError::PlainNotLoopback(listen)),
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Listen {
            addr: listen,
            source: e,
        })?;
    let bound = listener.local_addr().unwrap_or(listen);
    info!(listen = %bound, tls = acceptor.is_some(), "{what}");
    // The first line on stdout says where (tests and scripts read the port from it).
    println!(
        "{what} {}://{bound}",
        if acceptor.is_some() { "https" } else { "http" }
    );
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        // At the limit, wait for a connection to end: new ones queue in the kernel's backlog.
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => s.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file handles (EMFILE) or memory: retrying at once only spins.
                    warn!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            serve_connection(app, acceptor, tcp, peer).await;
        });
    }
    info!("{what}: stopped");
    Ok(())
}

/// One connection: its TLS handshake (within [`HANDSHAKE_TIMEOUT`]) when there is an acceptor,
/// then HTTP/1.1 requests until it ends, each request told the client's address and verified
/// certificate.
async fn serve_connection(
    app: Router,
    acceptor: Option<TlsAcceptor>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    let service = |cert: Option<ClientCert>| {
        TowerToHyperService::new(app.map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ClientAddr(peer));
                if let Some(c) = cert.clone() {
                    req.extensions_mut().insert(c);
                }
                req.map(axum::body::Body::new)
            },
        ))
    };
    // HTTP/1.1 only (TLS offers no ALPN, so browsers speak it anyway): the automatic
    // version sniffing would wait for a first byte with no timeout. A client that sends
    // no complete request head in time (idle between requests included) is dropped.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let result = match acceptor {
        Some(a) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, a.accept(tcp)).await {
            Err(_) => {
                debug!(client = %peer, "TLS handshake timed out");
                return;
            }
            Ok(Ok(tls)) => {
                // A verified client certificate, named by its fingerprint.
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| ClientCert(crate::access::client_cert_key(c.as_ref())));
                builder
                    .serve_connection(TokioIo::new(tls), service(cert))
                    .await
            }
            Ok(Err(e)) => {
                debug!(client = %peer, error = %e, "TLS handshake failed");
                return;
            }
        },
        None => {
            builder
                .serve_connection(TokioIo::new(tcp), service(None))
                .await
        }
    };
    if let Err(e) = result {
        debug!(client = %peer, error = %e, "connection ended with an error");
    }
}
