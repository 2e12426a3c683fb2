//! TLS for IMAP: rustls with the system's roots, or only the CAs of a configured PEM file
//! (private CAs). Names are always verified; there is no "accept any certificate" switch.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::ImapError;
use crate::tls::parse_ca_pem;

/// A connector trusting `ca_file` only, or the system's roots when there is none.
pub fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, ImapError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| ImapError::Config(format!("ca_file {}: {e}", path.display())))?;
            for cert in parse_ca_pem(&pem)
                .map_err(|e| ImapError::Config(format!("ca_file {}: {e}", path.display())))?
            {
                roots
                    .add(cert)
                    .map_err(|e| ImapError::Config(format!("ca_file {}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A few odd system certificates do not parse; the rest are still usable.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(ImapError::Config(
                    "no system CA certificates found (install ca-certificates or set ca_file)"
                        .into(),
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ImapError::Config(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Run the TLS handshake; the certificate must be valid for `host`.
pub async fn handshake(
    connector: &TlsConnector,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, ImapError> {
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| ImapError::Config(format!("host {host:?} is not a valid TLS name: {e}")))?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Tls {
            host: host.to_string(),
            detail: e.to_string(),
        })
}
