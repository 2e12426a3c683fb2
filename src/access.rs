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

use crate::audit::record_admin_action;
use crate::store::{Store, StoreError};

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

/// A token just made: `token` is shown once; the store keeps only its hash and `record`.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: String,
    pub record: TokenRecord,
}

/// Make a token for caller `name` with `role`, store its hash, and record in the audit log that
/// `actor` made it.
pub fn create_token(
    store: &Store,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<NewToken, StoreError> {
    let token = new_token();
    let record = live_record(name, role);
    store.put_token(&token_hash(&token), &record)?;
    let target = format!("{name} ({role})");
    record_admin_action(store, actor, Role::Admin, "token create", [target], "ok")?;
    Ok(NewToken { token, record })
}

/// Register a client certificate (DER): a service presenting it over mTLS is caller `name`
/// with `role`. Recorded in the audit log as `actor`'s; returns the certificate's store key.
pub fn register_client_cert(
    store: &Store,
    der: &[u8],
    name: &str,
    role: Role,
    actor: &str,
) -> Result<String, StoreError> {
    let key = client_cert_key(der);
    store.put_token(&key, &live_record(name, role))?;
    let target = format!("{name} ({role}, client certificate)");
    record_admin_action(store, actor, Role::Admin, "token create", [target], "ok")?;
    Ok(key)
}

/// Revoke every live token named `name`; if there was one, record that `actor` did. How many.
pub fn revoke_tokens(store: &Store, name: &str, actor: &str) -> Result<usize, StoreError> {
    let n = store.revoke_tokens(name)?;
    if n > 0 {
        record_admin_action(store, actor, Role::Admin, "token revoke", [name], "ok")?;
    }
    Ok(n)
}

fn live_record(name: &str, role: Role) -> TokenRecord {
    TokenRecord {
        name: name.to_string(),
        role,
        created_at: Utc::now(),
        revoked_at: None,
    }
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
    fn a_token_is_stored_as_its_hash_and_its_making_and_revoking_audited() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let new = create_token(&store, "ann@example.com", Role::Agent, "cli:root").unwrap();
        assert_eq!(
            store.token(&token_hash(&new.token)).unwrap(),
            Some(new.record.clone())
        );
        assert_eq!(
            revoke_tokens(&store, "ann@example.com", "cli:root").unwrap(),
            1
        );
        assert_eq!(
            revoke_tokens(&store, "ann@example.com", "cli:root").unwrap(),
            0
        );
        let audit = store.audit_records(1, 10).unwrap();
        let actions: Vec<&str> = audit.iter().map(|r| r.entry.action.as_str()).collect();
        assert_eq!(actions, ["token create", "token revoke"]);
        for r in &audit {
            assert_eq!(r.entry.actor, "cli:root");
            assert!(
                !r.entry.targets[0].contains("example.com"),
                "the name's address is a pseudonym: {r:?}"
            );
        }
    }

    #[test]
    fn roles_parse_by_name_only() {
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("root".parse::<Role>().unwrap_err().contains("unknown role"));
    }
}
