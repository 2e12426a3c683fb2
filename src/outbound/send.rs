//! Delivering the outbox: a file transport (the embedded default: one `<id>.eml` per message in
//! a directory) and SMTP through lettre (STARTTLS, implicit TLS, AUTH, a private CA).
//!
//! Exactly once: a record is marked `sending` (flushed) before it is handed over and `sent`
//! after. A daemon that dies in between finds `sending` records on start and marks them
//! `uncertain`; they are never resent by themselves (that could deliver a second copy) and wait
//! for `deskmail outbox retry ID`. Transient failures (4xx, connection) are retried with
//! backoff; permanent ones (5xx) stop the record as `failed` with the server's answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::dkim::{DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::{OutboxRecord, OutboxState};
use crate::store::Store;

/// Retries back off from this, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: i64 = 2;
const MAX_BACKOFF: i64 = 300;

/// `[outbound]` in deskmail.toml.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// From address of replies (a mailbox's `reply_from` wins for its mail).
    pub from: String,
    /// Addresses that are us: never replied to (besides `from` and every `reply_from`).
    #[serde(default)]
    pub own_addresses: Vec<String>,
    /// Hours within which one sender gets at most one automatic reply per thread.
    #[serde(default = "default_period")]
    pub reply_period_hours: u32,
    /// Template directory, relative to the config; without one, `templates/` beside the config
    /// if there is one, else the built-in templates.
    pub templates: Option<PathBuf>,
    /// Decide and record replies, send nothing.
    #[serde(default)]
    pub dry_run: bool,
    pub transport: TransportConfig,
    /// Sign outgoing mail with DKIM (RSA, PKCS#1 PEM key).
    pub dkim: Option<DkimSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DkimSettings {
    pub domain: String,
    pub selector: String,
    pub private_key_file: PathBuf,
}

fn default_period() -> u32 {
    24
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportConfig {
    /// Write each message as `<id>.eml` into `dir`.
    File { dir: PathBuf },
    Smtp {
        host: String,
        port: u16,
        /// "implicit" (465), "starttls" (587/25) or "plain" (loopback only).
        tls: crate::tls::TlsMode,
        ca_file: Option<PathBuf>,
        username: Option<String>,
        password_env: Option<String>,
    },
}

/// Where outbound mail goes, and how it is signed.
pub struct Transport {
    kind: TransportKind,
    dkim: Option<DkimConfig>,
    /// The reply templates, for replies corrected in review after they were rendered.
    templates: Option<std::sync::Arc<super::Templates>>,
}

enum TransportKind {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
    /// For the metrics: "4xx" or "5xx" when the server answered, else "error".
    pub result: &'static str,
}

impl Transport {
    pub fn from_config(o: &OutboundConfig) -> Result<Transport, String> {
        let dkim = match &o.dkim {
            None => None,
            Some(d) => {
                let pem = std::fs::read_to_string(&d.private_key_file)
                    .map_err(|e| format!("DKIM key {}: {e}", d.private_key_file.display()))?;
                let key = DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
                    .map_err(|e| format!("DKIM key {}: {e}", d.private_key_file.display()))?;
                Some(DkimConfig::default_config(
                    d.selector.clone(),
                    d.domain.clone(),
                    key,
                ))
            }
        };
        Ok(Transport {
            kind: Self::kind(&o.transport)?,
            dkim,
            templates: None,
        })
    }

    /// Render replies again from corrected decisions with these templates.
    pub fn with_templates(mut self, templates: super::Templates) -> Self {
        self.templates = Some(std::sync::Arc::new(templates));
        self
    }

    /// A reply whose message was corrected in review: its bodies again from the corrected
    /// decision (the stored message re-parsed from its raw bytes).
    fn rerender(&self, store: &Store, rec: &mut OutboxRecord) -> Result<(), String> {
        let templates = self
            .templates
            .as_ref()
            .ok_or("no templates to render the corrected reply with")?;
        let id = crate::model::MessageId(rec.source_message.clone());
        let stored = store
            .message(&id)
            .map_err(|e| e.to_string())?
            .ok_or("its message is gone")?;
        let raw = crate::model::RawMail {
            mailbox: stored.message.mailbox.clone(),
            role: stored.message.role,
            origin: stored.message.origin.clone(),
            bytes: store.raw_bytes(&stored).map_err(|e| e.to_string())?,
        };
        let msg = crate::parse::parse(&raw, &crate::parse::ParseLimits::default())
            .map_err(|e| e.to_string())?;
        let (text, html) = templates
            .render(&rec.mail.template, &msg, &stored.decision, &rec.mail.from)
            .ok_or_else(|| format!("no template {:?}", rec.mail.template))??;
        rec.mail.body_text = text;
        rec.mail.body_html = html;
        rec.rerender = false;
        Ok(())
    }

    fn kind(c: &TransportConfig) -> Result<TransportKind, String> {
        match c {
            TransportConfig::File { dir } => {
                // Outgoing mail names people: the directory and its files are the user's only.
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| format!("{}: {e}", dir.display()))?;
                Ok(TransportKind::File(dir.clone()))
            }
            TransportConfig::Smtp {
                host,
                port,
                tls,
                ca_file,
                username,
                password_env,
            } => {
                let mut params = TlsParameters::builder(host.clone());
                if let Some(ca) = ca_file {
                    let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
                    params = params.add_root_certificate(cert);
                }
                let params = params.build_rustls().map_err(|e| e.to_string())?;
                let tls = match tls {
                    crate::tls::TlsMode::Implicit => Tls::Wrapper(params),
                    crate::tls::TlsMode::Starttls => Tls::Required(params),
                    crate::tls::TlsMode::Plain => {
                        if !crate::tls::is_loopback(host) {
                            return Err(format!(
                                "plain SMTP is only allowed to loopback, not {host}"
                            ));
                        }
                        Tls::None
                    }
                };
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .port(*port)
                    .tls(tls)
                    .timeout(Some(Duration::from_secs(30)));
                if let (Some(user), Some(var)) = (username, password_env) {
                    let pass = std::env::var(var)
                        .map_err(|_| format!("environment variable {var} is not set"))?;
                    b = b.credentials(Credentials::new(user.clone(), pass));
                }
                Ok(TransportKind::Smtp(b.build()))
            }
        }
    }

    pub async fn deliver(&self, rec: &OutboxRecord) -> Result<(), SendError> {
        let (envelope, bytes) = build(rec, self.dkim.as_ref()).map_err(|message| SendError {
            permanent: true,
            message,
            result: "error",
        })?;
        match &self.kind {
            TransportKind::File(dir) => {
                // Same id, same file: writing twice never makes two messages.
                let tmp = dir.join(format!(".{}.tmp", rec.id));
                let result = write_private(&tmp, &bytes)
                    .and_then(|_| std::fs::rename(&tmp, dir.join(format!("{}.eml", rec.id))));
                result.map_err(|e| SendError {
                    permanent: false,
                    message: format!("{}: {e}", dir.display()),
                    result: "error",
                })
            }
            TransportKind::Smtp(t) => {
                t.send_raw(&envelope, &bytes)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                        result: if e.is_permanent() {
                            "5xx"
                        } else if e.is_transient() {
                            "4xx"
                        } else {
                            "error"
                        },
                    })
            }
        }
    }
}

/// RFC 3834: "auto-replied" for a reply, "auto-generated" for a reminder or notice.
#[derive(Clone)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(if s.trim() == "auto-replied" {
            "auto-replied"
        } else {
            "auto-generated"
        }))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.into())
    }
}

#[derive(Clone)]
struct OutboxId(String);

impl Header for OutboxId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Deskmail-Outbox")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(OutboxId(s.into()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The RFC 5322 message (DKIM-signed when configured) and its SMTP envelope.
pub fn build(
    rec: &OutboxRecord,
    dkim: Option<&DkimConfig>,
) -> Result<(lettre::address::Envelope, Vec<u8>), String> {
    let from: Mailbox = rec
        .mail
        .from
        .parse()
        .map_err(|e| format!("from {:?}: {e}", rec.mail.from))?;
    let to: Mailbox = rec
        .mail
        .to
        .parse()
        .map_err(|e| format!("to {:?}: {e}", rec.mail.to))?;
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(rec.mail.subject.clone())
        .message_id(Some(format!("<{}>", rec.mail.message_id)))
        .date(rec.created_at.into())
        .header(AutoSubmitted(if rec.mail.in_reply_to.is_some() {
            "auto-replied"
        } else {
            "auto-generated"
        }))
        .header(OutboxId(rec.id.clone()));
    if let Some(parent) = &rec.mail.in_reply_to {
        b = b.in_reply_to(format!("<{parent}>"));
    }
    if !rec.mail.references.is_empty() {
        b = b.references(
            rec.mail
                .references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let mut message = match &rec.mail.body_html {
        None => b.singlepart(SinglePart::plain(rec.mail.body_text.clone())),
        Some(html) => b.multipart(MultiPart::alternative_plain_html(
            rec.mail.body_text.clone(),
            html.clone(),
        )),
    }
    .map_err(|e| e.to_string())?;
    if let Some(d) = dkim {
        message.sign(d);
    }
    Ok((message.envelope().clone(), message.formatted()))
}

/// Records left `sending` by a stopped daemon become `uncertain` (call once before sending).
pub fn recover(store: &Store) {
    match store.outbox_mark_uncertain() {
        Ok(0) => {}
        Ok(n) => warn!(
            count = n,
            "Messages that were being sent when the daemon stopped are now `uncertain`: check, then `deskmail outbox retry ID`"
        ),
        Err(e) => error!(error = %e, "Cannot read the outbox"),
    }
}

/// What one pass over the due records did.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
    pub retrying: usize,
}

/// Send every record due now, once each; stops early when `stop` turns true.
pub async fn send_due(
    store: &Store,
    transport: &Transport,
    stop: Option<&watch::Receiver<bool>>,
) -> SendReport {
    let mut report = SendReport::default();
    let due = store.outbox_due(Utc::now()).unwrap_or_else(|e| {
        error!(error = %e, "Cannot read the outbox");
        Vec::new()
    });
    for mut rec in due {
        if stop.is_some_and(|s| *s.borrow()) {
            break;
        }
        if rec.rerender
            && let Err(e) = transport.rerender(store, &mut rec)
        {
            // Never send the values a person corrected away.
            rec.state = OutboxState::Failed;
            rec.last_error = Some(format!("cannot render the corrected reply: {e}"));
            rec.updated_at = Utc::now();
            warn!(id = %rec.id, error = %e, "Corrected reply not sent");
            if let Err(e) = store.outbox_put(&rec, true) {
                error!(error = %e, "Cannot update the outbox");
            }
            continue;
        }
        rec.state = OutboxState::Sending;
        rec.attempts += 1;
        if let Err(e) = store.outbox_put(&rec, true) {
            error!(error = %e, "Cannot update the outbox");
            continue;
        }
        let started = std::time::Instant::now();
        let delivered = transport.deliver(&rec).await;
        crate::metrics::send_attempt(
            delivered.as_ref().map_or_else(|e| e.result, |_| "2xx"),
            started.elapsed(),
        );
        match delivered {
            Ok(()) => {
                if rec.source_message.is_empty() {
                    crate::metrics::reminder_sent();
                }
                rec.state = OutboxState::Sent;
                rec.last_error = None;
                report.sent += 1;
                info!(id = %rec.id, to = %rec.mail.to, template = %rec.mail.template, "Sent");
            }
            Err(e) if e.permanent => {
                rec.state = OutboxState::Failed;
                rec.last_error = Some(e.message.clone());
                report.failed += 1;
                warn!(id = %rec.id, error = %e.message, "Refused for good");
            }
            Err(e) => {
                let wait = (FIRST_BACKOFF << rec.attempts.min(8)).min(MAX_BACKOFF);
                rec.state = OutboxState::Queued;
                rec.next_attempt_at = Some(Utc::now() + chrono::Duration::seconds(wait));
                rec.last_error = Some(e.message.clone());
                report.retrying += 1;
                warn!(id = %rec.id, error = %e.message, retry_in_secs = wait, "Not sent; will retry");
            }
        }
        rec.updated_at = Utc::now();
        if let Err(e) = store.outbox_put(&rec, true) {
            error!(error = %e, "Cannot update the outbox");
        }
    }
    report
}

/// Send due records until `stop` turns true.
pub async fn run_sender(store: Arc<Store>, transport: Transport, mut stop: watch::Receiver<bool>) {
    recover(&store);
    loop {
        send_due(&store, &transport, Some(&stop)).await;
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Write `bytes` to a new file (or over an old one) readable by the user alone.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}
