//! Access and data protection: `token`, `audit`, `export`, `erase`, `purge`, `hold`. Every
//! change is recorded in the audit log under the person running the command.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::access::Role;
use deskmail::index::MailIndex;
use deskmail::pipeline::DataDir;
use deskmail::privacy::Lookup;

use super::args::{AuditCommand, DataArg, KeysCommand, TokenCommand};
use super::common::{
    cli_actor, cli_audit, load_config, open_store, print_json_pretty, store_request,
};
use deskmail::daemon::control::View;

pub fn token(command: TokenCommand) -> Result<ExitCode> {
    match command {
        TokenCommand::Create {
            data,
            role,
            name,
            client_cert: Some(pem),
        } => register_client_cert(&data, role, &name, &pem),
        TokenCommand::Create {
            data,
            role,
            name,
            client_cert: None,
        } => create_token(&data, role, &name),
        TokenCommand::List { data, json } => list_tokens(&data, json),
        TokenCommand::Revoke { data, name } => revoke_tokens(&data, &name),
    }
}

fn create_token(data: &DataArg, role: Role, name: &str) -> Result<ExitCode> {
    let store = open_store(&data.data, true)?;
    let new = deskmail::admin::create_token(&store, name, role, &cli_actor())?;
    outln!("created {role} token {name:?} (shown once; stored only as a hash):")?;
    outln!("{}", new.token)?;
    Ok(ExitCode::SUCCESS)
}

fn register_client_cert(data: &DataArg, role: Role, name: &str, pem: &Path) -> Result<ExitCode> {
    use rustls_pki_types::pem::PemObject;
    let store = open_store(&data.data, true)?;
    let der = rustls_pki_types::CertificateDer::from_pem_file(pem)
        .map_err(|e| anyhow!("{}: {e}", pem.display()))?;
    let key =
        deskmail::admin::register_client_cert(&store, der.as_ref(), name, role, &cli_actor())?;
    outln!("registered client certificate {key} as {role} {name:?}")?;
    Ok(ExitCode::SUCCESS)
}

fn list_tokens(data: &DataArg, json: bool) -> Result<ExitCode> {
    let store = open_store(&data.data, false)?;
    let mut tokens: Vec<_> = store.tokens()?.into_iter().map(|(_, r)| r).collect();
    tokens.sort_by_key(|t| t.created_at);
    if json {
        print_json_pretty(&tokens)?;
        return Ok(ExitCode::SUCCESS);
    }
    for t in &tokens {
        outln!(
            "{:<20} {:<12} created {}{}",
            t.name,
            t.role,
            t.created_at.format("%Y-%m-%d %H:%M"),
            t.revoked_at.map_or(String::new(), |r| format!(
                "  revoked {}",
                r.format("%Y-%m-%d %H:%M")
            ))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn revoke_tokens(data: &DataArg, name: &str) -> Result<ExitCode> {
    let store = open_store(&data.data, false)?;
    let n = deskmail::admin::revoke_tokens(&store, name, &cli_actor())?;
    if n == 0 {
        eprintln!("no live token named {name:?}");
        return Ok(ExitCode::from(1));
    }
    outln!("revoked {n} token(s) named {name:?}")?;
    Ok(ExitCode::SUCCESS)
}

pub fn audit(command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { data } = command;
    // Through the daemon's socket when it holds the store.
    let answer: serde_json::Value =
        serde_json::from_str(&store_request(&data.data, View::AuditVerify, false)?)?;
    let text = answer["text"].as_str().unwrap_or_default();
    if answer["intact"] == true {
        outln!("{text}")?;
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{text}");
        Ok(ExitCode::from(1))
    }
}

pub fn keys(command: KeysCommand) -> Result<ExitCode> {
    match command {
        KeysCommand::Status { data, json } => {
            let store = open_store(&data.data, false)?;
            let k = store.key_status()?;
            if json {
                print_json_pretty(&k)?;
            } else {
                outln!(
                    "master key: {}\ndata keys: {} made, {} destroyed by erasure or removal",
                    k.master_key,
                    k.data_keys,
                    k.destroyed
                )?;
            }
        }
        KeysCommand::Rotate { data, new_key_file } => {
            let new = deskmail::secret::from_file("new master key", &new_key_file)?;
            let store = open_store(&data.data, false)?;
            cli_audit(&store, "keys rotate", "master key")?;
            let live = store.rotate_master_key(&new)?;
            outln!(
                "{live} data keys wrapped under the new master key; from now on start deskmail \
                 with DESKMAIL_STORE_KEY_FILE={}",
                new_key_file.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Everything held about an address, as a tar.
pub fn export(data: &DataArg, out: &Path, email: &str) -> Result<ExitCode> {
    let store = open_store(&data.data, false)?;
    // The index finds the person's mail; without one (not built yet, an older schema) every
    // stored message is read.
    let index = MailIndex::open_read_only(&DataDir::new(&data.data).index()).ok();
    let lookup = index.as_ref().map_or(Lookup::Scan, Lookup::Index);
    let export = deskmail::privacy::Export::of(&store, lookup, email)?;
    // Written as it is made, into a file beside `out` that takes its name once whole: a failed
    // export leaves neither a partial archive nor a lost earlier one. A device or a pipe is
    // written to as it is.
    let cannot = || format!("cannot write {}", out.display());
    if std::fs::metadata(out).is_ok_and(|m| !m.is_file()) {
        let device = std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .with_context(cannot)?;
        export
            .write_to(&store, std::io::BufWriter::new(device))
            .with_context(cannot)?;
    } else {
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut part = tempfile::NamedTempFile::new_in(dir).with_context(cannot)?;
        export
            .write_to(&store, std::io::BufWriter::new(part.as_file_mut()))
            .with_context(cannot)?;
        part.persist(out).with_context(cannot)?;
    }
    cli_audit(&store, "export", email)?;
    outln!(
        "exported {} messages to {}",
        export.messages(),
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn erase(data: &DataArg, email: &str) -> Result<ExitCode> {
    let store = open_store(&data.data, false)?;
    let index = MailIndex::open_or_create(&DataDir::new(&data.data).index())?;
    let report = deskmail::privacy::erase_address(&store, &index, Lookup::Index(&index), email)?;
    cli_audit(&store, "erase", email)?;
    print_json_pretty(&report)?;
    Ok(ExitCode::SUCCESS)
}

/// Dispose of what is past its retention period (`dry_run`: say what would go).
pub fn purge(data: &DataArg, config: &Path, dry_run: bool) -> Result<ExitCode> {
    let policy = load_config(config)?.retention;
    let store = open_store(&data.data, false)?;
    let now = chrono::Utc::now();
    let index_dir = DataDir::new(&data.data).index();
    if dry_run {
        // Without an index (not built yet, an older schema) every stored message is read.
        let index = MailIndex::open_read_only(&index_dir).ok();
        let lookup = index.as_ref().map_or(Lookup::Scan, Lookup::Index);
        let (_, status) = deskmail::privacy::retention_due(&store, lookup, &policy, now)?;
        print_json_pretty(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    let index = MailIndex::open_or_create(&index_dir)?;
    let report = deskmail::privacy::purge(&store, &index, Lookup::Index(&index), &policy, now)?;
    deskmail::admin::record_admin_action(
        &store,
        &cli_actor(),
        Role::Admin,
        "purge",
        report.message_ids.iter().map(|m| &m.0),
        &format!("{} erased", report.erased),
    )?;
    print_json_pretty(&report)?;
    Ok(ExitCode::SUCCESS)
}

/// Put a thread on legal hold, or release it.
pub fn hold(data: &DataArg, release: bool, thread: &str) -> Result<ExitCode> {
    let store = open_store(&data.data, false)?;
    let tid = store
        .resolve_thread_id(thread)?
        .ok_or_else(|| anyhow!("no single thread with an id starting {thread:?}"))?;
    store.set_hold(&tid, !release, &cli_actor())?;
    cli_audit(
        &store,
        if release { "hold release" } else { "hold" },
        &tid.0,
    )?;
    outln!(
        "thread {tid}: {}",
        if release { "hold released" } else { "on hold" }
    )?;
    Ok(ExitCode::SUCCESS)
}
