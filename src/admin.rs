//! The desk's administrative changes, each made and audited in one call: API tokens and
//! client certificates made, registered and revoked, and the one way any change a person asked
//! for (an export, an erasure, a hold, an import, a purge, a token) reaches the audit log.
//! Above the store (it writes through it); the CLI, the control socket and the API call it.

use chrono::Utc;

use crate::access::{Role, TokenRecord, client_cert_key, new_token, token_hash};
use crate::audit::{AuditEntry, pseudonymise_addresses};
use crate::store::{Store, StoreError};

/// Record a change a person asked for (a token made or revoked, an export, an erasure, a hold,
/// an import, a purge). Every target is trimmed and keeps an address only as its pseudonym, and
/// the store is flushed before this returns: a change is never answered before its record is
/// durable.
pub fn record_admin_action<T: AsRef<str>>(
    store: &Store,
    actor: &str,
    role: Role,
    action: &str,
    targets: impl IntoIterator<Item = T>,
    outcome: &str,
) -> Result<(), StoreError> {
    store.audit(AuditEntry {
        actor: actor.to_string(),
        role: Some(role.name().to_string()),
        action: action.to_string(),
        targets: targets
            .into_iter()
            .map(|t| pseudonymise_addresses(t.as_ref().trim()))
            .collect(),
        outcome: outcome.to_string(),
    })?;
    store.flush()
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
    fn an_admin_action_keeps_an_address_only_as_its_pseudonym() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        record_admin_action(
            &store,
            "cli:ann",
            Role::Admin,
            "export",
            [" Jane.Doe@Example.com "],
            "ok",
        )
        .unwrap();
        let records = store.audit_records(1, 10).unwrap();
        let [record] = records.as_slice() else {
            panic!("one record: {records:?}");
        };
        assert_eq!(
            record.entry,
            AuditEntry {
                actor: "cli:ann".into(),
                role: Some("admin".into()),
                action: "export".into(),
                targets: vec![pseudonymise_addresses("jane.doe@example.com")],
                outcome: "ok".into(),
            }
        );
        assert!(
            record.entry.targets[0].starts_with("contact:")
                && !record.entry.targets[0].contains("example.com"),
            "{record:?}"
        );
        assert_eq!(store.audit_verify().unwrap().unwrap().records, 1);
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
}
