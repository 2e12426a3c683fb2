//! What `deskmail run` builds before it starts anything, checked all at once: the config, the
//! rules, the reply templates against the rules, the reminder templates, the outbound
//! transport (DKIM key, CA file), the API's TLS files. `deskmail config check` runs exactly
//! this, so a config that passes the check starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::outbound::ReplySettings;
use crate::outbound::dunning::Dunning;
use crate::outbound::send::Transport;
use crate::rules::{RuleSet, RuleSource};

/// Everything the daemon needs that can be wrong in a config or the files it names.
pub struct Prepared {
    pub config: Config,
    /// The data directory: `--data`, else the config's `data`, else `./deskmail-data`.
    pub data: PathBuf,
    /// The rules: `--rules`, else the config's `rules`, else the built-in set (a directory is
    /// followed by the reload watcher).
    pub rules_source: RuleSource,
    pub rules: Arc<RuleSet>,
    /// Reply templates (checked against the rules' reply actions) and addresses.
    pub replies: Option<Arc<ReplySettings>>,
    pub dunning: Option<Arc<Dunning>>,
    /// How replies and reminders leave (none in a dry run).
    pub transport: Option<Transport>,
}

impl Prepared {
    /// Without mailboxes or drop folders in the config, the embedded default: one drop folder,
    /// `drop` or else DATA/drop, scanned every `interval_secs`. Every drop folder is created.
    pub fn ensure_drop_folders(
        &mut self,
        drop: Option<PathBuf>,
        interval_secs: u64,
    ) -> Result<(), DropFolderError> {
        let config = &mut self.config;
        if config.mailboxes.is_empty() && config.drop_folders.is_empty() {
            config.drop_folders.push(crate::config::DropFolderConfig {
                name: "drop".into(),
                path: drop.unwrap_or_else(|| self.data.join("drop")),
                role: None,
                interval_secs: interval_secs.max(1),
            });
        }
        for d in &config.drop_folders {
            std::fs::create_dir_all(&d.path).map_err(|source| DropFolderError {
                path: d.path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// A drop folder that cannot be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create drop folder {}: {source}", path.display())]
pub struct DropFolderError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Every problem found, one per line (`path:line: message` where there is a line).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct Problems(pub Vec<String>);

/// Build and check what `run` would start with. `config`: the config file (None: the embedded
/// default); `data` and `rules` override what the config says.
pub fn preflight(
    config_path: Option<&Path>,
    data: Option<PathBuf>,
    rules: Option<PathBuf>,
) -> Result<Prepared, Problems> {
    let config = match config_path {
        Some(path) => {
            Config::load(path).map_err(|e| Problems(e.0.iter().map(|p| p.to_string()).collect()))?
        }
        None => Config::default(),
    };
    let mut problems = Vec::new();
    if let Some(path) = config_path
        && config.mailboxes.is_empty()
        && config.drop_folders.is_empty()
    {
        problems.push(format!(
            "{}: no [[mailbox]] and no [[drop_folder]]: nothing to watch",
            path.display()
        ));
    }
    let data = data
        .or_else(|| config.data.clone())
        .unwrap_or_else(|| PathBuf::from("deskmail-data"));
    let rules_source = RuleSource::from_option(rules.or_else(|| config.rules.clone()));
    let rules = match rules_source.load() {
        Ok(r) => Some(Arc::new(r)),
        Err(e) => {
            problems.extend(e.errors.iter().map(|e| e.to_string()));
            None
        }
    };
    let mut replies = None;
    let mut transport = None;
    if let Some(o) = &config.outbound {
        if let Some(rules) = &rules {
            match reply_settings(o, &config, rules) {
                Ok(r) => replies = Some(Arc::new(r)),
                Err(found) => problems.extend(found),
            }
        }
        if !o.dry_run {
            match Transport::from_config(o) {
                Ok(t) => {
                    transport = Some(match &replies {
                        Some(r) => t.with_templates(r.templates.clone()),
                        None => t,
                    })
                }
                Err(e) => problems.push(format!("[outbound] transport: {e}")),
            }
        }
    }
    let dunning = match (&config.dunning, &config.outbound) {
        (Some(cadence), Some(o)) => match Dunning::new(cadence, o) {
            Ok(d) => {
                let found = d.check();
                if found.is_empty() {
                    Some(Arc::new(d))
                } else {
                    let found = found
                        .into_iter()
                        .map(|p| format!("reminder templates: {p}"));
                    problems.extend(found);
                    None
                }
            }
            Err(e) => {
                problems.push(format!("[dunning]: {e:#}"));
                None
            }
        },
        _ => None,
    };
    if let Some(api) = &config.api
        && let (Some(cert), Some(key)) = (&api.tls_cert, &api.tls_key)
    {
        let files = crate::api::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: api.client_ca.clone(),
        };
        if let Err(e) = crate::api::server::check_tls(&files) {
            problems.push(format!("[api]: {e}"));
        }
    }
    if let Some(m) = &config.metrics
        && let (Some(cert), Some(key)) = (&m.tls_cert, &m.tls_key)
    {
        let files = crate::api::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
        };
        if let Err(e) = crate::api::server::check_tls(&files) {
            problems.push(format!("[metrics]: {e}"));
        }
    }
    match rules {
        Some(rules) if problems.is_empty() => Ok(Prepared {
            config,
            data,
            rules_source,
            rules,
            replies,
            dunning,
            transport,
        }),
        _ => Err(Problems(problems)),
    }
}

/// What the antivirus section means right now: `Ok(None)` off, `Ok(Some(version))` clamd
/// answered PING and VERSION, `Err` clamd cannot be reached (or is not clamd). Not part of
/// [`preflight`]: `run` starts anyway (mail waits until clamd is back, `status` says why),
/// `config check` reports it as a problem.
pub fn check_antivirus(config: &Config) -> Result<Option<String>, String> {
    let Some(a) = &config.antivirus else {
        return Ok(None);
    };
    let Some(client) = a.client().map_err(|e| format!("[antivirus]: {e}"))? else {
        return Ok(None);
    };
    let unreachable = |e: crate::antivirus::ScanError| format!("[antivirus]: {e}");
    client.ping().map_err(unreachable)?;
    client.version().map(Some).map_err(unreachable)
}

/// The reply templates, checked against the rules' reply actions, and the addresses replies
/// come from (and never go to).
fn reply_settings(
    o: &crate::outbound::send::OutboundConfig,
    config: &Config,
    rules: &RuleSet,
) -> Result<ReplySettings, Vec<String>> {
    let templates = crate::outbound::Templates::from_option(o.templates.as_deref())
        .map_err(|e| vec![format!("{e:#}")])?;
    let problems = templates.check(rules);
    if !problems.is_empty() {
        return Err(problems.iter().map(|e| e.to_string()).collect());
    }
    let from_by_mailbox: std::collections::BTreeMap<String, String> = config
        .mailboxes
        .iter()
        .filter_map(|m| m.reply_from.clone().map(|f| (m.name.clone(), f)))
        .collect();
    let mut own = o.own_addresses.clone();
    own.push(o.from.clone());
    own.extend(from_by_mailbox.values().cloned());
    own.extend(
        config
            .mailboxes
            .iter()
            .filter(|m| m.username.contains('@'))
            .map(|m| m.username.clone()),
    );
    Ok(ReplySettings {
        templates,
        from_by_mailbox,
        default_from: o.from.clone(),
        own_addresses: own,
        period_hours: o.reply_period_hours,
        dry_run: o.dry_run,
    })
}
