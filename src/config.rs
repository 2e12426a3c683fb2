//! `deskmail.toml`: the daemon's configuration — IMAP mailboxes, drop folders, where data and
//! rules live.
//!
//! [`Config::load`] reports every problem at once as `path:line: message`, like the rule files:
//! unknown keys (with a did-you-mean) are found by walking toml's spanned document, types by serde
//! per mailbox, and then what only makes sense together (plain IMAP only to loopback, exactly one
//! secret source, the CA file readable, unique names).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::tls::{TlsMode, is_loopback};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Every problem found in one config file.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data directory (store and index); relative paths are relative to the config file.
    pub data: Option<PathBuf>,
    /// Rule directory; relative to the config file.
    pub rules: Option<PathBuf>,
    #[serde(default)]
    pub daemon: DaemonSettings,
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<MailboxConfig>,
    #[serde(default, rename = "drop_folder")]
    pub drop_folders: Vec<DropFolderConfig>,
    /// How long mail is kept, per category (`deskmail purge`, `/api/retention`).
    #[serde(default)]
    pub retention: crate::privacy::RetentionPolicy,
    /// Serve the web page and API from the daemon.
    pub api: Option<ApiConfig>,
    /// Automatic replies: from address, templates, transport.
    pub outbound: Option<crate::outbound::send::OutboundConfig>,
    /// The reminder cadence for imported receivables.
    pub dunning: Option<crate::receivables::Cadence>,
    /// Prometheus metrics on their own address (`GET /metrics`, no token).
    pub metrics: Option<MetricsConfig>,
    /// Scan every message with clamd before the rules. No section: off.
    pub antivirus: Option<crate::antivirus::AntivirusConfig>,
}

/// `[metrics]`: where `deskmail run` serves `GET /metrics` (also on the API listener, behind a
/// role). Plain HTTP only on loopback, like `[api]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    #[serde(default = "default_metrics_listen")]
    pub listen: std::net::SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The conventional port for an exporter like this one, on loopback.
pub fn default_metrics_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 9464))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: std::net::SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// CA for client certificates (mTLS).
    pub client_ca: Option<PathBuf>,
    #[serde(default = "default_auth_failures")]
    pub auth_failures_per_minute: u32,
    /// Reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For names
    /// the client; anyone else's is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Failed authentications allowed per client address per window before it gets 429 (default).
pub const AUTH_FAILURES_ALLOWED: u32 = 10;

fn default_auth_failures() -> u32 {
    AUTH_FAILURES_ALLOWED
}

/// Timings of the daemon. Defaults suit real servers; tests shorten them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonSettings {
    /// IDLE is ended and renewed after this long (servers drop it at 29-30 minutes).
    pub idle_renew_secs: u64,
    /// Every network read or write must finish within this, or the connection is dropped.
    pub io_timeout_secs: u64,
    /// Reconnect backoff: starts at the first value, doubles up to the second, plus jitter.
    pub backoff_initial_secs: f64,
    pub backoff_max_secs: f64,
    /// How often the rule directory is checked for edits (SIGHUP reloads at once).
    pub rules_reload_secs: u64,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            idle_renew_secs: 25 * 60,
            io_timeout_secs: 60,
            backoff_initial_secs: 1.0,
            backoff_max_secs: 300.0,
            rules_reload_secs: 2,
        }
    }
}

impl DaemonSettings {
    pub fn io_timeout(&self) -> Duration {
        Duration::from_secs(self.io_timeout_secs.max(1))
    }
    pub fn idle_renew(&self) -> Duration {
        Duration::from_secs(self.idle_renew_secs.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// LOGIN with a password.
    Password,
    /// SASL XOAUTH2 with a bearer token from `token_command` (Microsoft 365, Gmail).
    Xoauth2,
    /// SASL OAUTHBEARER (RFC 7628) with a token from `token_command`.
    Oauthbearer,
}

/// What to do on the server once a message is committed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AfterProcessing {
    /// Leave the message as it is (deskmail never sets \Seen).
    #[default]
    Nothing,
    /// Add this flag or keyword, e.g. `$Deskmail`.
    Flag(String),
    /// Move to this folder (MOVE, or COPY + \Deleted + UID EXPUNGE).
    MoveTo(String),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// Short name: shown in status and logs, searchable as `mailbox:NAME`.
    pub name: String,
    pub host: String,
    /// Default: 993 for implicit TLS, 143 otherwise.
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    #[serde(default)]
    pub allow_plain_loopback: bool,
    /// PEM file of the CA(s) to trust instead of the system's (private CAs).
    pub ca_file: Option<PathBuf>,
    pub username: String,
    #[serde(default = "default_auth")]
    pub auth: AuthMethod,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_command: Option<String>,
    /// For XOAUTH2/OAUTHBEARER: prints a current access token on stdout.
    pub token_command: Option<String>,
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    #[serde(default)]
    pub after: AfterProcessing,
    /// From address of automatic replies to this mailbox's mail (default: [outbound] from).
    pub reply_from: Option<String>,
    /// What the mailbox is for: "ap" (vendors write to it) or "ar" (customers do). Rules can
    /// test it (`role = "ar"`).
    pub role: Option<crate::model::MailboxRole>,
    /// Messages per UID FETCH batch handed to the pipeline.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Use IDLE when the server offers it.
    #[serde(default = "default_true")]
    pub idle: bool,
    /// Seconds between polls when IDLE is off or not offered.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
}

fn default_tls() -> TlsMode {
    TlsMode::Implicit
}
fn default_auth() -> AuthMethod {
    AuthMethod::Password
}
fn default_folders() -> Vec<String> {
    vec!["INBOX".into()]
}
fn default_batch() -> usize {
    256
}
fn default_true() -> bool {
    true
}
fn default_poll() -> u64 {
    60
}

impl MailboxConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 993,
            _ => 143,
        })
    }

    /// Where the secret comes from, for messages (never the secret itself).
    pub fn secret_source(&self) -> Option<SecretSource<'_>> {
        match self.auth {
            AuthMethod::Password => {
                if let Some(v) = &self.password_env {
                    Some(SecretSource::Env(v))
                } else if let Some(p) = &self.password_file {
                    Some(SecretSource::File(p))
                } else {
                    self.password_command.as_deref().map(SecretSource::Command)
                }
            }
            AuthMethod::Xoauth2 | AuthMethod::Oauthbearer => {
                self.token_command.as_deref().map(SecretSource::Command)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum SecretSource<'a> {
    Env(&'a str),
    File(&'a Path),
    Command(&'a str),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DropFolderConfig {
    pub name: String,
    pub path: PathBuf,
    /// "ap" or "ar", as for a mailbox.
    pub role: Option<crate::model::MailboxRole>,
    #[serde(default = "default_drop_interval")]
    pub interval_secs: u64,
}

fn default_drop_interval() -> u64 {
    2
}

/// The keys a `#[derive(Deserialize)]` struct accepts, as serde's derive lists them: the
/// unknown-key checker asks the very structs the reader fills, so no second list can drift.
pub fn keys_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct FieldNames<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the field names were wanted"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

mod check;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigErrors> {
        Config::parse("deskmail.toml", text, Path::new("/etc/deskmail"))
    }

    /// The checker's keys are the reader's: every field of every section is known (a field
    /// added to a struct is accepted without touching the checker), and a key the reader would
    /// refuse is reported as unknown, with its line.
    #[test]
    fn every_key_the_reader_accepts_is_known_to_the_checker() {
        let sections: [(&str, &[&str]); 10] = [
            ("top level", keys_of::<Config>()),
            ("daemon", keys_of::<DaemonSettings>()),
            ("mailbox", keys_of::<MailboxConfig>()),
            ("drop_folder", keys_of::<DropFolderConfig>()),
            ("retention", keys_of::<crate::privacy::RetentionPolicy>()),
            ("api", keys_of::<ApiConfig>()),
            ("metrics", keys_of::<MetricsConfig>()),
            (
                "outbound",
                keys_of::<crate::outbound::send::OutboundConfig>(),
            ),
            ("dunning", keys_of::<crate::receivables::Cadence>()),
            ("antivirus", keys_of::<crate::antivirus::AntivirusConfig>()),
        ];
        for (name, keys) in sections {
            assert!(keys.len() >= 3, "{name}: {keys:?}");
        }
        assert_eq!(
            keys_of::<Config>(),
            [
                "data",
                "rules",
                "daemon",
                "mailbox",
                "drop_folder",
                "retention",
                "api",
                "outbound",
                "dunning",
                "metrics",
                "antivirus"
            ]
        );
        assert!(keys_of::<MailboxConfig>().contains(&"poll_interval_secs"));
        assert!(keys_of::<crate::outbound::send::OutboundConfig>().contains(&"dkim"));
        // Every key of a mailbox (as the struct lists them) passes the key check; a misspelt
        // one does not.
        let mut text = String::from("[[mailbox]]\n");
        for k in keys_of::<MailboxConfig>() {
            text.push_str(&format!("{k} = 1\n"));
        }
        text.push_str("pasword_env = 1\n");
        let errors = parse(&text).unwrap_err().0;
        let unknown: Vec<&String> = errors
            .iter()
            .map(|e| &e.message)
            .filter(|m| m.starts_with("unknown"))
            .collect();
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].contains("\"pasword_env\""), "{unknown:?}");
    }

    #[test]
    fn a_good_config_parses_with_defaults() {
        let c = parse(
            r#"
data = "data"
[[mailbox]]
name = "ap"
host = "imap.example.com"
username = "ap@example.com"
password_command = "pass show ap"
after = { move_to = "Processed" }

[[mailbox]]
name = "ar"
host = "outlook.office365.com"
username = "ar@example.com"
auth = "xoauth2"
token_command = "get-token ar"
folders = ["INBOX", "Remittances"]
"#,
        )
        .unwrap();
        assert_eq!(c.data.as_deref(), Some(Path::new("/etc/deskmail/data")));
        assert_eq!(c.mailboxes.len(), 2);
        let ap = &c.mailboxes[0];
        assert_eq!(
            (ap.tls, ap.port(), ap.batch_size),
            (TlsMode::Implicit, 993, 256)
        );
        assert_eq!(ap.folders, vec!["INBOX"]);
        assert_eq!(ap.after, AfterProcessing::MoveTo("Processed".into()));
        assert!(matches!(
            ap.secret_source(),
            Some(SecretSource::Command("pass show ap"))
        ));
        assert_eq!(c.mailboxes[1].auth, AuthMethod::Xoauth2);
        assert_eq!(c.daemon.idle_renew_secs, 1500);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_line() {
        let text = r#"data = "d"
[[mailbox]]
name = "ap"
hots = "imap.example.com"
username = "ap"
password_command = "x"

[[mailbox]]
name = "ar"
host = "imap.example.com"
tls = "plain"
username = "ar"
port = "143"

[[mailbox]]
name = "ap"
host = "10.0.0.5"
tls = "plain"
allow_plain_loopback = true
username = "x"
password_command = "x"
password_env = "Y"
"#;
        let errs = parse(text).unwrap_err().0;
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let all = shown.join("\n");
        assert!(
            all.contains("deskmail.toml:4: unknown mailbox key \"hots\" (did you mean \"host\"?)"),
            "{all}"
        );
        assert!(all.contains("deskmail.toml:8: mailbox #2:"), "{all}");
        assert!(all.contains("only allowed to a loopback host"), "{all}");
        assert!(all.contains("exactly one of password_env"), "{all}");
        assert!(all.contains("name \"ap\" is used twice"), "{all}");
        assert!(errs.len() >= 5, "{all}");
    }

    #[test]
    fn plain_needs_the_explicit_allowance_and_oauth_needs_a_token_command() {
        let errs = parse(
            r#"
[[mailbox]]
name = "ap"
host = "127.0.0.1"
tls = "plain"
username = "ap"
password_command = "x"
auth = "oauthbearer"
"#,
        )
        .unwrap_err()
        .to_string();
        assert!(errs.contains("allow_plain_loopback"), "{errs}");
        assert!(errs.contains("needs token_command"), "{errs}");
        assert!(errs.contains("password_* keys are not used"), "{errs}");
    }

    #[test]
    fn syntax_errors_are_reported_and_a_retention_only_config_is_fine() {
        let e = parse("[[mailbox]\nname=").unwrap_err().to_string();
        assert!(e.starts_with("deskmail.toml:1: TOML syntax"), "{e}");
        let c = parse("data = \"x\"\n[retention]\ndefault_days = 730\ncategories = { \"ap.invoice\" = 2555 }\n").unwrap();
        assert!(c.mailboxes.is_empty());
        assert_eq!(c.retention.days_for("ap.invoice"), Some(2555));
        let e = parse("[retention]\ndefault_days = \"two years\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[retention]"), "{e}");
    }

    #[test]
    fn antivirus_section_is_checked_with_lines_and_absent_means_off() {
        assert!(parse("data = \"x\"\n").unwrap().antivirus.is_none());
        let c = parse("data = \"x\"\n[antivirus]\nclamd = \"/run/clamd.sock\"\n").unwrap();
        let a = c.antivirus.unwrap();
        assert_eq!(a.mode, crate::antivirus::Mode::On);
        assert_eq!(a.timeout_secs, 30);
        let e = parse(
            "data = \"x\"\n[antivirus]\nmode = \"on\"\nclamd = \"localhost\"\ntimout_secs = 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("deskmail.toml:2: [antivirus]: clamd \"localhost\""),
            "{e}"
        );
        assert!(
            e.contains("deskmail.toml:5: unknown antivirus setting \"timout_secs\""),
            "{e}"
        );
        assert!(e.contains("timeout_secs"), "{e}");
        let e = parse("[antivirus]\nmode = \"maybe\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("deskmail.toml:1: [antivirus]: unknown variant `maybe`"),
            "{e}"
        );
    }

    #[test]
    fn metrics_listen_defaults_to_loopback_and_plain_http_stays_there() {
        let c = parse("data = \"x\"\n[metrics]\n").unwrap();
        assert_eq!(c.metrics.unwrap().listen, default_metrics_listen());
        let e = parse("data = \"x\"\n[metrics]\nlisten = \"0.0.0.0:9464\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[metrics]: plain HTTP is only allowed on a loopback"),
            "{e}"
        );
        let e = parse("data = \"x\"\n[metrics]\nlisen = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
    }
}
