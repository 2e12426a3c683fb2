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
    let (replies, transport) = outbound(&config, rules.as_deref(), &mut problems);
    let dunning = dunning(&config, &mut problems);
    listeners_tls(&config, &mut problems);
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

/// The replies' settings (when the rules loaded) and the transport (unless a dry run) of
/// `[outbound]`.
fn outbound(
    config: &Config,
    rules: Option<&RuleSet>,
    problems: &mut Vec<String>,
) -> (Option<Arc<ReplySettings>>, Option<Transport>) {
    let Some(o) = &config.outbound else {
        return (None, None);
    };
    let replies = rules.and_then(|rules| match reply_settings(o, config, rules) {
        Ok(r) => Some(Arc::new(r)),
        Err(found) => {
            problems.extend(found);
            None
        }
    });
    let transport = if o.dry_run {
        None
    } else {
        match Transport::from_config(o) {
            Ok(t) => Some(match &replies {
                Some(r) => t.with_templates(r.templates.clone()),
                None => t,
            }),
            Err(e) => {
                problems.push(format!("[outbound] transport: {e}"));
                None
            }
        }
    };
    (replies, transport)
}

/// `[dunning]` with its reminder templates checked (it needs `[outbound]`).
fn dunning(config: &Config, problems: &mut Vec<String>) -> Option<Arc<Dunning>> {
    let (Some(cadence), Some(o)) = (&config.dunning, &config.outbound) else {
        return None;
    };
    match Dunning::new(cadence, o) {
        Ok(d) => {
            let found = d.check();
            if found.is_empty() {
                return Some(Arc::new(d));
            }
            let found = found
                .into_iter()
                .map(|p| format!("reminder templates: {p}"));
            problems.extend(found);
            None
        }
        Err(e) => {
            problems.push(format!("[dunning]: {e:#}"));
            None
        }
    }
}

/// The API's and the metrics listener's certificate and key, when they serve TLS.
fn listeners_tls(config: &Config, problems: &mut Vec<String>) {
    let api = config
        .api
        .as_ref()
        .map(|a| ("api", &a.tls_cert, &a.tls_key, &a.client_ca));
    let none = None;
    let metrics = config
        .metrics
        .as_ref()
        .map(|m| ("metrics", &m.tls_cert, &m.tls_key, &none));
    for (section, cert, key, client_ca) in api.into_iter().chain(metrics) {
        let (Some(cert), Some(key)) = (cert, key) else {
            continue;
        };
        let files = crate::api::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: client_ca.clone(),
        };
        if let Err(e) = crate::api::server::check_tls(&files) {
            problems.push(format!("[{section}]: {e}"));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener's certificate that does not load is a problem of its own section, the API's
    /// and the metrics listener's both reported.
    #[test]
    fn each_listener_s_certificate_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let p = not_pem.display();
        let config = dir.path().join("deskmail.toml");
        let listeners = format!(
            "[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{p}\"\ntls_key = \"{p}\"\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{p}\"\ntls_key = \"{p}\"\n"
        );
        let drop = dir.path().join("drop");
        std::fs::write(
            &config,
            format!(
                "data = \"{}\"\n[[drop_folder]]\nname = \"ap\"\npath = \"{}\"\n{listeners}",
                dir.path().join("data").display(),
                drop.display()
            ),
        )
        .unwrap();
        let Err(Problems(problems)) = preflight(Some(&config), None, None) else {
            panic!("a certificate that does not load passed");
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("[api]: "), "{problems:?}");
        assert!(problems[1].starts_with("[metrics]: "), "{problems:?}");
    }
}
