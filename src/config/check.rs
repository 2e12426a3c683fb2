//! Reading a config file and checking it: every problem as `path:line: message`, unknown keys
//! with a suggestion, types section by section (one bad mailbox does not hide the next), then
//! what only makes sense together; relative paths resolved against the file's directory.

use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::*;
use crate::rules::file::{line_of, suggest};

/// Collects problems with their lines.
struct Checker<'a> {
    path: &'a str,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn err(&mut self, offset: usize, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: self.path.to_string(),
            line: line_of(self.text, offset),
            message: message.into(),
        });
    }
}

impl Config {
    /// Read and check a config file. Relative paths in it are resolved against its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                path: shown.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            }])
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&shown, &text, base)
    }

    /// Check config text. `base` is the directory relative paths are resolved against.
    pub fn parse(path: &str, text: &str, base: &Path) -> Result<Config, ConfigErrors> {
        let mut c = Checker {
            path,
            text,
            errors: Vec::new(),
        };
        let doc = match DeTable::parse(text) {
            Ok(d) => d,
            Err(e) => {
                c.err(
                    e.span().map_or(0, |s| s.start),
                    format!("TOML syntax: {}", e.message().trim()),
                );
                return Err(ConfigErrors(c.errors));
            }
        };
        let starts = check_unknown_keys(&mut c, doc.get_ref());
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                c.err(
                    e.span().map_or(0, |s| s.start),
                    e.message().trim().to_string(),
                );
                return Err(ConfigErrors(c.errors));
            }
        };
        let typed = typed_sections(&mut c, &table, &starts);
        let config = resolve_and_check(&mut c, typed, base, starts.antivirus);
        if c.errors.is_empty() {
            Ok(config)
        } else {
            c.errors.sort_by_key(|e| e.line);
            Err(ConfigErrors(c.errors))
        }
    }
}

/// Where each section of the file starts (its errors point there).
#[derive(Default)]
struct SectionStarts {
    mailbox: Vec<usize>,
    drop_folder: Vec<usize>,
    antivirus: usize,
}

/// Pass 1 of [`Config::parse`]: unknown keys anywhere, with their lines; where each section
/// starts.
fn check_unknown_keys(c: &mut Checker<'_>, doc: &DeTable<'_>) -> SectionStarts {
    let mut starts = SectionStarts::default();
    for (key, value) in doc.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "daemon" => check_keys(
                c,
                value.get_ref(),
                keys_of::<DaemonSettings>(),
                "daemon setting",
            ),
            "retention" => check_keys(
                c,
                value.get_ref(),
                keys_of::<crate::privacy::RetentionPolicy>(),
                "retention setting",
            ),
            "api" => check_keys(c, value.get_ref(), keys_of::<ApiConfig>(), "api setting"),
            "metrics" => check_keys(
                c,
                value.get_ref(),
                keys_of::<MetricsConfig>(),
                "metrics setting",
            ),
            "outbound" => check_keys(
                c,
                value.get_ref(),
                keys_of::<crate::outbound::send::OutboundConfig>(),
                "outbound setting",
            ),
            "antivirus" => {
                starts.antivirus = key.span().start;
                check_keys(
                    c,
                    value.get_ref(),
                    keys_of::<crate::antivirus::AntivirusConfig>(),
                    "antivirus setting",
                )
            }
            "dunning" => check_keys(
                c,
                value.get_ref(),
                keys_of::<crate::receivables::Cadence>(),
                "dunning setting",
            ),
            "mailbox" | "drop_folder" => {
                let (keys, what, at) = if name == "mailbox" {
                    (
                        keys_of::<MailboxConfig>(),
                        "mailbox key",
                        &mut starts.mailbox,
                    )
                } else {
                    (
                        keys_of::<DropFolderConfig>(),
                        "drop_folder key",
                        &mut starts.drop_folder,
                    )
                };
                match value.get_ref() {
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            at.push(item.span().start);
                            check_keys(c, item.get_ref(), keys, what);
                        }
                    }
                    _ => c.err(
                        key.span().start,
                        format!("\"{name}\" must be written as [[{name}]] sections"),
                    ),
                }
            }
            other if !keys_of::<Config>().contains(&other) => {
                let s = suggest(other, keys_of::<Config>());
                c.err(
                    key.span().start,
                    format!("unknown top-level key \"{other}\"{s}"),
                );
            }
            _ => {}
        }
    }
    starts
}

/// What pass 2 of [`Config::parse`] read: the config, and where each mailbox and drop folder
/// is in the file.
#[derive(Default)]
struct Typed {
    config: Config,
    mailbox_names: Vec<String>,
    mailbox_lines: Vec<usize>,
    drop_lines: Vec<usize>,
}

/// Pass 2 of [`Config::parse`]: types, section by section so one bad mailbox does not hide the
/// next.
fn typed_sections(c: &mut Checker<'_>, table: &toml::Table, starts: &SectionStarts) -> Typed {
    let mut t = Typed::default();
    let config = &mut t.config;
    for (k, v) in table {
        let v = strip_unknown(v.clone(), k);
        match k.as_str() {
            "data" => config.data = typed(c, 0, "data", v),
            "rules" => config.rules = typed(c, 0, "rules", v),
            "daemon" => {
                config.daemon = typed(c, 0, "[daemon]", v).unwrap_or_default();
            }
            "retention" => {
                config.retention = typed(c, 0, "[retention]", v).unwrap_or_default();
            }
            "api" => config.api = typed(c, 0, "[api]", v),
            "metrics" => config.metrics = typed(c, 0, "[metrics]", v),
            "antivirus" => config.antivirus = typed(c, starts.antivirus, "[antivirus]", v),
            "outbound" => config.outbound = typed(c, 0, "[outbound]", v),
            "dunning" => config.dunning = typed(c, 0, "[dunning]", v),
            "mailbox" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    let at = starts.mailbox.get(i).copied().unwrap_or(0);
                    if let Some(name) = item.get("name").and_then(|n| n.as_str()) {
                        if t.mailbox_names.iter().any(|n| n == name) {
                            c.err(at, format!("mailbox name \"{name}\" is used twice"));
                        }
                        t.mailbox_names.push(name.to_string());
                    }
                    let what = format!("mailbox #{}", i + 1);
                    if let Some(m) = typed::<MailboxConfig>(c, at, &what, item.clone()) {
                        config.mailboxes.push(m);
                        t.mailbox_lines.push(at);
                    }
                }
            }
            "drop_folder" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    let at = starts.drop_folder.get(i).copied().unwrap_or(0);
                    let what = format!("drop_folder #{}", i + 1);
                    if let Some(d) = typed::<DropFolderConfig>(c, at, &what, item.clone()) {
                        config.drop_folders.push(d);
                        t.drop_lines.push(at);
                    }
                }
            }
            _ => {}
        }
    }
    t
}

/// Pass 3 of [`Config::parse`]: relative paths resolved against `base`, and what only makes
/// sense together.
fn resolve_and_check(
    c: &mut Checker<'_>,
    typed: Typed,
    base: &Path,
    antivirus_at: usize,
) -> Config {
    let mut config = typed.config;
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    config.data = config.data.as_deref().map(resolve);
    config.rules = config.rules.as_deref().map(resolve);
    if let Some(api) = config.api.as_mut() {
        api.tls_cert = api.tls_cert.as_deref().map(resolve);
        api.tls_key = api.tls_key.as_deref().map(resolve);
        api.client_ca = api.client_ca.as_deref().map(resolve);
        check_api(c, api);
    }
    if let Some(m) = config.metrics.as_mut() {
        m.tls_cert = m.tls_cert.as_deref().map(resolve);
        m.tls_key = m.tls_key.as_deref().map(resolve);
        check_metrics(c, m);
    }
    if let Some(o) = config.outbound.as_mut() {
        // No `templates` key: a `templates` directory beside the config (as configs written
        // for earlier releases expect), else the built-in templates.
        o.templates = match o.templates.as_deref() {
            Some(dir) => Some(resolve(dir)),
            None => Some(base.join("templates")).filter(|d| d.is_dir()),
        };
        match &mut o.transport {
            crate::outbound::send::TransportConfig::File { dir } => *dir = resolve(dir),
            crate::outbound::send::TransportConfig::Smtp { ca_file, .. } => {
                *ca_file = ca_file.as_deref().map(resolve);
            }
        }
        if let Some(d) = o.dkim.as_mut() {
            d.private_key_file = resolve(&d.private_key_file);
        }
        if !o.from.contains('@') {
            c.err(
                0,
                format!("[outbound]: from {:?} is not an address", o.from),
            );
        }
    }
    if let Some(a) = &config.antivirus
        && let Err(e) = a.client()
    {
        c.err(antivirus_at, format!("[antivirus]: {e}"));
    }
    if let Some(d) = &config.dunning {
        check_dunning(c, d, config.outbound.is_some());
    }
    let mut names = typed.mailbox_names;
    for (m, &at) in config.mailboxes.iter_mut().zip(&typed.mailbox_lines) {
        m.ca_file = m.ca_file.as_deref().map(resolve);
        m.password_file = m.password_file.as_deref().map(resolve);
        check_mailbox(c, at, m);
    }
    for (d, &at) in config.drop_folders.iter_mut().zip(&typed.drop_lines) {
        d.path = resolve(&d.path);
        if names.contains(&d.name) {
            c.err(at, format!("source name \"{}\" is used twice", d.name));
        }
        names.push(d.name.clone());
    }
    config
}

fn check_keys(c: &mut Checker<'_>, value: &DeValue<'_>, known: &[&str], what: &str) {
    if let DeValue::Table(t) = value {
        for (k, _) in t.iter() {
            let name = k.get_ref().as_ref();
            if !known.contains(&name) {
                let s = suggest(name, known);
                c.err(k.span().start, format!("unknown {what} \"{name}\"{s}"));
            }
        }
    }
}

/// Pass 1 reported unknown keys with their lines: drop them so serde reports only types.
fn strip_unknown(v: toml::Value, section: &str) -> toml::Value {
    let known = match section {
        "daemon" => keys_of::<DaemonSettings>(),
        "mailbox" => keys_of::<MailboxConfig>(),
        "drop_folder" => keys_of::<DropFolderConfig>(),
        "retention" => keys_of::<crate::privacy::RetentionPolicy>(),
        "api" => keys_of::<ApiConfig>(),
        "metrics" => keys_of::<MetricsConfig>(),
        "antivirus" => keys_of::<crate::antivirus::AntivirusConfig>(),
        "outbound" => keys_of::<crate::outbound::send::OutboundConfig>(),
        "dunning" => keys_of::<crate::receivables::Cadence>(),
        _ => return v,
    };
    let clean = |t: toml::Value| match t {
        toml::Value::Table(mut t) => {
            t.retain(|k, _| known.contains(&k));
            toml::Value::Table(t)
        }
        other => other,
    };
    match v {
        toml::Value::Array(items) => toml::Value::Array(items.into_iter().map(clean).collect()),
        other => clean(other),
    }
}

fn typed<T: for<'de> Deserialize<'de>>(
    c: &mut Checker<'_>,
    at: usize,
    what: &str,
    v: toml::Value,
) -> Option<T> {
    match T::deserialize(v) {
        Ok(t) => Some(t),
        Err(e) => {
            c.err(at, format!("{what}: {}", e.message().trim()));
            None
        }
    }
}

fn check_dunning(c: &mut Checker<'_>, d: &crate::receivables::Cadence, has_outbound: bool) {
    if !has_outbound {
        c.err(
            0,
            "[dunning] sends through [outbound]: add it (from address and transport)",
        );
    }
    if d.steps.is_empty() {
        c.err(0, "[dunning]: no steps");
    }
    let mut offsets: Vec<i32> = d.steps.iter().map(|s| s.offset).collect();
    offsets.sort_unstable();
    if offsets.windows(2).any(|w| w[0] == w[1]) {
        c.err(0, "[dunning]: two steps with the same offset");
    }
    if d.send_from >= d.send_until {
        c.err(
            0,
            format!(
                "[dunning]: send_from {} is not before send_until {}",
                d.send_from, d.send_until
            ),
        );
    }
    for (what, addr) in [("from", &d.from), ("notify", &d.notify)] {
        if let Some(a) = addr
            && !a.contains('@')
        {
            c.err(0, format!("[dunning]: {what} {a:?} is not an address"));
        }
    }
}

fn check_api(c: &mut Checker<'_>, api: &ApiConfig) {
    let files = [&api.tls_cert, &api.tls_key, &api.client_ca];
    check_listener(c, "[api]", api.listen, &api.tls_cert, &api.tls_key, files);
    if api.client_ca.is_some() && api.tls_cert.is_none() {
        c.err(0, "[api]: client_ca (mTLS) needs tls_cert and tls_key");
    }
}

fn check_metrics(c: &mut Checker<'_>, m: &MetricsConfig) {
    let files = [&m.tls_cert, &m.tls_key];
    check_listener(c, "[metrics]", m.listen, &m.tls_cert, &m.tls_key, files);
}

/// A listener of `section`: a certificate and its key together or neither, plain HTTP only on
/// a loopback address, and each of `files` there.
fn check_listener<const N: usize>(
    c: &mut Checker<'_>,
    section: &str,
    listen: std::net::SocketAddr,
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    files: [&Option<PathBuf>; N],
) {
    if cert.is_some() != key.is_some() {
        c.err(
            0,
            format!("{section}: give both tls_cert and tls_key, or neither"),
        );
    }
    if cert.is_none() && !listen.ip().is_loopback() {
        c.err(
            0,
            format!(
                "{section}: plain HTTP is only allowed on a loopback address, not {listen}; add tls_cert and tls_key"
            ),
        );
    }
    for f in files.into_iter().flatten() {
        if let Err(e) = std::fs::metadata(f) {
            c.err(0, format!("{section}: {}: {e}", f.display()));
        }
    }
}

fn check_mailbox(c: &mut Checker<'_>, at: usize, m: &MailboxConfig) {
    let who = format!("mailbox \"{}\"", m.name);
    if m.name.is_empty()
        || !m
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
    {
        c.err(
            at,
            format!("{who}: name must be letters, digits, '-', '_' or '.'"),
        );
    }
    if m.host.trim().is_empty() {
        c.err(at, format!("{who}: host is empty"));
    }
    if m.tls == TlsMode::Plain {
        if !m.allow_plain_loopback {
            c.err(
                at,
                format!("{who}: tls = \"plain\" sends the password in clear; it needs allow_plain_loopback = true and a loopback host"),
            );
        } else if !is_loopback(&m.host) {
            c.err(
                at,
                format!(
                    "{who}: tls = \"plain\" is only allowed to a loopback host, not {:?}",
                    m.host
                ),
            );
        }
    }
    if let Some(ca) = &m.ca_file {
        match std::fs::read(ca) {
            Ok(pem) => {
                if crate::tls::parse_ca_pem(&pem).is_err() {
                    c.err(
                        at,
                        format!("{who}: ca_file {} holds no PEM certificate", ca.display()),
                    );
                }
            }
            Err(e) => c.err(at, format!("{who}: ca_file {}: {e}", ca.display())),
        }
    }
    check_credentials(c, at, &who, m);
    if m.folders.is_empty() {
        c.err(at, format!("{who}: folders is empty"));
    }
    match &m.after {
        AfterProcessing::MoveTo(f) if m.folders.contains(f) => c.err(
            at,
            format!("{who}: after.move_to {f:?} is also a watched folder (messages would loop)"),
        ),
        AfterProcessing::MoveTo(f) | AfterProcessing::Flag(f) if f.trim().is_empty() => {
            c.err(at, format!("{who}: after needs a folder or flag name"))
        }
        _ => {}
    }
    if m.batch_size == 0 || m.batch_size > 10_000 {
        c.err(at, format!("{who}: batch_size must be 1..=10000"));
    }
}

/// A mailbox's credentials: exactly one password source for a password, a token command (and no
/// password) for OAuth, and the named variable or file there.
fn check_credentials(c: &mut Checker<'_>, at: usize, who: &str, m: &MailboxConfig) {
    let password_sources = [
        m.password_env.is_some(),
        m.password_file.is_some(),
        m.password_command.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    match m.auth {
        AuthMethod::Password => {
            if password_sources != 1 {
                c.err(
                    at,
                    format!("{who}: give exactly one of password_env, password_file, password_command (found {password_sources})"),
                );
            }
            if m.token_command.is_some() {
                c.err(
                    at,
                    format!("{who}: token_command is for auth = \"xoauth2\" or \"oauthbearer\""),
                );
            }
        }
        AuthMethod::Xoauth2 | AuthMethod::Oauthbearer => {
            if m.token_command.is_none() {
                c.err(at, format!("{who}: auth = {:?} needs token_command (a command that prints an access token)", m.auth));
            }
            if password_sources > 0 {
                c.err(
                    at,
                    format!("{who}: password_* keys are not used with OAuth; remove them"),
                );
            }
        }
    }
    if let Some(var) = &m.password_env
        && std::env::var_os(var).is_none()
    {
        c.err(
            at,
            format!("{who}: environment variable {var} (password_env) is not set"),
        );
    }
    if let Some(f) = &m.password_file
        && let Err(e) = std::fs::metadata(f)
    {
        c.err(at, format!("{who}: password_file {}: {e}", f.display()));
    }
}
