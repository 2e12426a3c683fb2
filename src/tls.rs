//! TLS settings and certificate files shared by the IMAP and SMTP clients, the config check
//! and the API server: the modes a connection may use, what counts as loopback (the only place
//! plain text is allowed), and reading a PEM file of CA certificates.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain connect, then STARTTLS before anything else; refusing it is an error, never a
    /// downgrade.
    Starttls,
    /// No TLS: only with `allow_plain_loopback = true` and a loopback host.
    Plain,
}

/// A host name or address that stays on this machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Every certificate in a PEM file; an error when there is none.
pub fn parse_ca_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_this_machine_only() {
        assert!(is_loopback("localhost") && is_loopback("127.0.0.1") && is_loopback("[::1]"));
        assert!(!is_loopback("10.0.0.1") && !is_loopback("imap.example.com"));
    }

    #[test]
    fn a_pem_without_a_certificate_is_an_error() {
        assert!(parse_ca_pem(b"not a certificate").is_err());
    }
}
