//! Who may do what: API tokens and their roles.
//!
//! A token is 32 random bytes shown once as `dm_<64 hex>`; the store keeps only its SHA-256, so
//! a copy of the data directory does not hand out access. Roles are fixed and each route names
//! the roles it admits (deny by default, see `api`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens, erasure and retention.
    Admin,
    /// Helpdesk: search and read mail, threads, invoices.
    Agent,
    /// Reads the audit log and retention status; no mail content.
    Auditor,
    /// Service-to-service: search, invoices, rule dry-run.
    Integration,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Agent, Role::Auditor, Role::Integration];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Auditor => "auditor",
            Role::Integration => "integration",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role {s:?} (admin, agent, auditor or integration)"))
    }
}

/// What the store keeps for a token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new random token: `dm_` and 64 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    format!("dm_{}", hex::encode(bytes))
}

/// The key a token is stored under.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The store key of a client certificate (DER): like a token's hash, with its own prefix.
pub fn client_cert_key(der: &[u8]) -> String {
    format!("cert-{}", hex::encode(Sha256::digest(der)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("dm_") && a.len() == 67);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!(!token_hash(&a).contains(&a[3..]));
    }

    #[test]
    fn roles_parse_by_name_only() {
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("root".parse::<Role>().unwrap_err().contains("unknown role"));
    }
}
