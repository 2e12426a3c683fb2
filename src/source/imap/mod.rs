//! IMAP intake: one supervised task per (mailbox, folder) that logs in, reads new messages with
//! `UID FETCH <n>:* (UID BODY.PEEK[])` (never sets \Seen), hands them to the pipeline in batches
//! and waits for changes with IDLE (or polls).
//!
//! Exactly once: the folder's cursor (UIDVALIDITY + highest committed UID) is written by the
//! committer in the same store write as the messages, so after any crash the next start fetches
//! from the last committed UID; a message fetched twice is recognised by its content hash or
//! Message-ID. A UIDVALIDITY change restarts the folder from UID 1 with the same dedupe.
//!
//! After-processing actions (flag, move) work on the whole committed range `1:<cursor>` and are
//! idempotent, so an action lost to a crash is done on the next connect.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::Client;
use async_imap::extensions::idle::IdleResponse;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::config::{AfterProcessing, AuthMethod, DaemonSettings, MailboxConfig, SecretSource};
use crate::health::Health;
use crate::intake::{IntakeSender, ItemOutcome};
use crate::model::RawMail;
use crate::store::{FolderCursor, Store};
use crate::tls::TlsMode;

pub mod tls;

/// Bytes of raw mail per batch, whatever the message count (large attachments).
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Batches a folder may have in the pipeline before it stops reading from the server.
const IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("the server did not accept STARTTLS ({0}); not continuing without TLS")]
    StartTls(String),
    #[error("login as {user:?} refused: {detail}")]
    Auth { user: String, detail: String },
    #[error("{0}")]
    Secret(String),
    #[error("{0}")]
    Config(String),
    #[error("no answer within {secs}s while {during} (connection dropped)")]
    Timeout { secs: u64, during: &'static str },
    #[error("IMAP error while {during}: {source}")]
    Protocol {
        during: &'static str,
        source: async_imap::error::Error,
    },
    #[error("the server closed the connection while {0}")]
    Closed(&'static str),
    #[error("the store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the pipeline could not commit a batch: {0}")]
    Commit(#[from] crate::intake::CommitError),
    #[error("the pipeline has stopped")]
    PipelineStopped,
}

/// A plain or TLS TCP stream, so one session type serves every TLS mode.
#[derive(Debug)]
pub enum ImapStream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<ImapStream>;

/// Await `f` for at most the I/O timeout: a half-open connection must not hang a task forever.
async fn within<T, E>(
    limit: Duration,
    during: &'static str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError>
where
    E: Into<ImapError>,
{
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(ImapError::Timeout {
            secs: limit.as_secs(),
            during,
        }),
    }
}

/// Tags protocol errors with what was being done.
struct During(&'static str, async_imap::error::Error);
impl From<During> for ImapError {
    fn from(d: During) -> Self {
        match d.1 {
            async_imap::error::Error::ConnectionLost => ImapError::Closed(d.0),
            source => ImapError::Protocol {
                during: d.0,
                source,
            },
        }
    }
}
fn during<T>(
    what: &'static str,
) -> impl FnOnce(Result<T, async_imap::error::Error>) -> Result<T, During> {
    move |r| r.map_err(|e| During(what, e))
}

/// Read the secret (password or OAuth token) from where the config says. Never logged.
pub async fn read_secret(m: &MailboxConfig) -> Result<String, ImapError> {
    let source = m
        .secret_source()
        .ok_or_else(|| ImapError::Secret(format!("mailbox {:?} has no secret source", m.name)))?;
    match source {
        SecretSource::Env(var) => std::env::var(var).map_err(|_| {
            ImapError::Secret(format!(
                "environment variable {var} (password_env) is not set"
            ))
        }),
        SecretSource::File(path) => tokio::fs::read_to_string(path)
            .await
            .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| ImapError::Secret(format!("password_file {}: {e}", path.display()))),
        SecretSource::Command(cmd) => {
            let out = tokio::time::timeout(
                Duration::from_secs(30),
                tokio::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .output(),
            )
            .await
            .map_err(|_| ImapError::Secret(format!("secret command {cmd:?} took over 30 s")))?
            .map_err(|e| ImapError::Secret(format!("secret command {cmd:?}: {e}")))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                return Err(ImapError::Secret(format!(
                    "secret command {cmd:?} failed ({}): {}",
                    out.status,
                    err.lines()
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(200)
                        .collect::<String>()
                )));
            }
            let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if secret.is_empty() {
                return Err(ImapError::Secret(format!(
                    "secret command {cmd:?} printed nothing"
                )));
            }
            Ok(secret)
        }
    }
}

/// SASL XOAUTH2 (Google, Microsoft) and OAUTHBEARER (RFC 7628). After the first response the
/// server may send an error challenge; answering it with an empty line ends the exchange.
struct OAuth {
    initial: String,
    sent: bool,
}

impl async_imap::Authenticator for &mut OAuth {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if self.sent {
            String::new()
        } else {
            self.sent = true;
            self.initial.clone()
        }
    }
}

/// Connect, secure and log in. Returns the session and whether the server offers IDLE / MOVE.
pub async fn connect(m: &MailboxConfig, s: &DaemonSettings) -> Result<(Session, Caps), ImapError> {
    let io = s.io_timeout();
    let client = secured(m, io).await?;
    let mut session = log_in(client, m, io).await?;
    // Drain greetings' leftovers; the set of capabilities can change after login.
    let caps = within(io, "reading capabilities", async {
        session
            .capabilities()
            .await
            .map_err(|e| During("reading capabilities", e))
    })
    .await?;
    let caps = Caps {
        idle: caps.has_str("IDLE"),
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    };
    Ok((session, caps))
}

/// A connection to the mailbox's server, secured as configured (implicit TLS, STARTTLS, or
/// plain), past the server's greeting.
async fn secured(m: &MailboxConfig, io: Duration) -> Result<Client<ImapStream>, ImapError> {
    let port = m.port();
    let addr = format!("{}:{port}", m.host);
    let tcp = within(io, "connecting", async {
        TcpStream::connect((m.host.trim_start_matches('[').trim_end_matches(']'), port))
            .await
            .map_err(|e| ImapError::Connect {
                addr: addr.clone(),
                source: e,
            })
    })
    .await?;
    let _ = tcp.set_nodelay(true);
    let connector = match m.tls {
        TlsMode::Plain => None,
        _ => Some(tls::connector(m.ca_file.as_deref())?),
    };
    let client = match (m.tls, connector) {
        (TlsMode::Implicit, Some(c)) => {
            let tls = within(io, "TLS handshake", tls::handshake(&c, &m.host, tcp)).await?;
            let mut client = Client::new(ImapStream::Tls(Box::new(tls)));
            greeting(&mut client, io).await?;
            client
        }
        (TlsMode::Starttls, Some(c)) => {
            let mut client = Client::new(ImapStream::Plain(tcp));
            greeting(&mut client, io).await?;
            within(io, "STARTTLS", async {
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| ImapError::StartTls(e.to_string()))
            })
            .await?;
            let ImapStream::Plain(tcp) = client.into_inner() else {
                return Err(ImapError::StartTls("unexpected stream state".into()));
            };
            let tls = within(io, "TLS handshake", tls::handshake(&c, &m.host, tcp)).await?;
            // No greeting after STARTTLS.
            Client::new(ImapStream::Tls(Box::new(tls)))
        }
        _ => {
            let mut client = Client::new(ImapStream::Plain(tcp));
            greeting(&mut client, io).await?;
            client
        }
    };
    Ok(client)
}

/// Logged in with the mailbox's secret (password, XOAUTH2 or OAUTHBEARER); the secret is
/// dropped as soon as it is sent.
async fn log_in(
    client: Client<ImapStream>,
    m: &MailboxConfig,
    io: Duration,
) -> Result<Session, ImapError> {
    let port = m.port();
    let secret = read_secret(m).await?;
    let auth_error = |e: async_imap::error::Error| ImapError::Auth {
        user: m.username.clone(),
        detail: match e {
            async_imap::error::Error::No(s) | async_imap::error::Error::Bad(s) => s,
            other => other.to_string(),
        },
    };
    let session = match m.auth {
        AuthMethod::Password => {
            within(io, "logging in", async {
                client
                    .login(&m.username, &secret)
                    .await
                    .map_err(|(e, _)| auth_error(e))
            })
            .await?
        }
        AuthMethod::Xoauth2 | AuthMethod::Oauthbearer => {
            let (mechanism, initial) = if m.auth == AuthMethod::Xoauth2 {
                (
                    "XOAUTH2",
                    format!("user={}\x01auth=Bearer {secret}\x01\x01", m.username),
                )
            } else {
                (
                    "OAUTHBEARER",
                    format!(
                        "n,a={},\x01host={}\x01port={port}\x01auth=Bearer {secret}\x01\x01",
                        m.username, m.host
                    ),
                )
            };
            let mut auth = OAuth {
                initial,
                sent: false,
            };
            within(io, "authenticating", async {
                client
                    .authenticate(mechanism, &mut auth)
                    .await
                    .map_err(|(e, _)| auth_error(e))
            })
            .await?
        }
    };
    drop(secret);
    Ok(session)
}

/// The UIDs above `last_uid` in the selected folder. UID SEARCH first: "n:*" on a folder whose
/// highest UID is below n still returns that last message, and an empty folder answers some
/// servers' FETCH with an error.
async fn new_uids(
    session: &mut Session,
    last_uid: u32,
    io: Duration,
) -> Result<Vec<u32>, ImapError> {
    let query = format!("UID {}:*", last_uid.saturating_add(1));
    let uids = within(io, "searching for new messages", async {
        session
            .uid_search(&query)
            .await
            .map_err(|e| During("searching for new messages", e))
    })
    .await?;
    Ok(uids.into_iter().collect())
}

async fn greeting(client: &mut Client<ImapStream>, io: Duration) -> Result<(), ImapError> {
    let greeting = within(io, "waiting for the greeting", async {
        client
            .read_response()
            .await
            .map_err(|e| During("waiting for the greeting", e.into()))
    })
    .await?;
    match greeting {
        Some(_) => Ok(()),
        None => Err(ImapError::Closed("waiting for the greeting")),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

/// Everything one folder task needs.
pub struct FolderTask {
    pub mailbox: Arc<MailboxConfig>,
    pub folder: String,
    pub intake: IntakeSender,
    pub store: Arc<crate::pipeline::Pipeline>,
    pub health: Arc<Health>,
    pub settings: DaemonSettings,
}

impl FolderTask {
    /// The cursor's key in the store.
    pub fn key(&self) -> String {
        format!("{}/{}", self.mailbox.name, self.folder)
    }

    fn store(&self) -> &Store {
        &self.store.store
    }

    /// Sync until shut down; on any failure, reconnect with exponential backoff and jitter.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let span = info_span!("mailbox", mailbox = %self.mailbox.name, folder = %self.folder);
        async {
            let mut backoff = self.settings.backoff_initial_secs.max(0.05);
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let mut healthy = false;
                match self.session(&mut shutdown, false, &mut healthy).await {
                    Ok(()) => break,
                    Err(e) => {
                        self.health
                            .failed(&self.mailbox.name, &self.folder, &e.to_string());
                        if healthy {
                            backoff = self.settings.backoff_initial_secs.max(0.05);
                        }
                        let wait = jitter(backoff);
                        warn!(error = %e, retry_in_secs = format!("{wait:.1}"), "Mailbox failed; will reconnect");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
                            _ = shutdown.changed() => break,
                        }
                        backoff = (backoff * 2.0).min(self.settings.backoff_max_secs);
                    }
                }
            }
            self.health.disconnected(&self.mailbox.name, &self.folder);
            info!("Stopped");
        }
        .instrument(span)
        .await
    }

    /// Connect, sync what is there, and return (for `run --once`).
    pub async fn sync_once(self) -> Result<(), ImapError> {
        let span = info_span!("mailbox", mailbox = %self.mailbox.name, folder = %self.folder);
        let (_tx, mut rx) = watch::channel(false);
        let mut healthy = false;
        let r = self
            .session(&mut rx, true, &mut healthy)
            .instrument(span)
            .await;
        match &r {
            Ok(()) => self.health.disconnected(&self.mailbox.name, &self.folder),
            Err(e) => self
                .health
                .failed(&self.mailbox.name, &self.folder, &e.to_string()),
        }
        r
    }

    /// One connection's life. `healthy` is set once a sync succeeded (resets the backoff).
    async fn session(
        &self,
        shutdown: &mut watch::Receiver<bool>,
        once: bool,
        healthy: &mut bool,
    ) -> Result<(), ImapError> {
        let io = self.settings.io_timeout();
        let m = &self.mailbox;
        let (mut session, caps) = connect(m, &self.settings).await?;
        let folder = self.folder.as_str();
        let selected = within(io, "selecting the folder", async {
            session
                .select(folder)
                .await
                .map_err(|e| During("selecting the folder", e))
        })
        .await?;
        let uid_validity = selected.uid_validity.ok_or_else(|| {
            ImapError::Config(format!(
                "folder {folder:?} has no UIDVALIDITY (no UID support)"
            ))
        })?;
        let mut last_uid = match self.store().cursor(&self.key())? {
            Some(c) if c.uid_validity == uid_validity => c.last_uid,
            Some(c) => {
                warn!(
                    old = c.uid_validity,
                    new = uid_validity,
                    "UIDVALIDITY changed: reading the folder again; messages already stored are recognised, not stored twice"
                );
                0
            }
            None => 0,
        };
        self.health.connected(&m.name, folder);
        info!(
            uid_validity,
            last_uid,
            idle = caps.idle && m.idle,
            "Connected"
        );
        // Finish after-actions a crash may have left undone (idempotent).
        self.after_processing(&mut session, caps, last_uid).await?;
        loop {
            let before = last_uid;
            let (uid, interrupted) = self
                .fetch_new(&mut session, uid_validity, last_uid, shutdown)
                .await?;
            last_uid = uid;
            if interrupted {
                // Shutdown mid-fetch: what was read is committed; the rest waits for next time.
                // The connection is mid-command, so it is dropped rather than logged out.
                info!(committed_uid = last_uid, "Stopped fetching for shutdown");
                return Ok(());
            }
            if last_uid > before {
                self.after_processing(&mut session, caps, last_uid).await?;
            }
            self.health.synced(&m.name, folder);
            *healthy = true;
            if once || *shutdown.borrow() {
                let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
                return Ok(());
            }
            session = if caps.idle && m.idle {
                match self.idle(session, shutdown).await? {
                    Some(s) => s,
                    None => return Ok(()),
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(m.poll_interval_secs.max(1))) => {}
                    _ = shutdown.changed() => {
                        let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
                        return Ok(());
                    }
                }
                within(io, "polling (NOOP)", async {
                    session
                        .noop()
                        .await
                        .map_err(|e| During("polling (NOOP)", e))
                })
                .await?;
                session
            };
            // Unsolicited EXISTS/EXPUNGE were noted by the server's answers; we re-read by UID.
            while session.unsolicited_responses.try_recv().is_ok() {}
        }
    }

    /// Wait in IDLE until the server reports a change, the renewal time passes, or shutdown.
    /// Returns the session, or None on shutdown.
    async fn idle(
        &self,
        session: Session,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<Session>, ImapError> {
        let io = self.settings.io_timeout();
        let renew = self.settings.idle_renew();
        let mut handle = session.idle();
        within(io, "starting IDLE", async {
            handle.init().await.map_err(|e| During("starting IDLE", e))
        })
        .await?;
        let stop = {
            let (wait, stop) = handle.wait_with_timeout(renew);
            // The library's own timeout restarts on every keepalive; this one bounds the whole
            // IDLE so it is renewed well inside the servers' 29-minute limit.
            tokio::select! {
                r = tokio::time::timeout(renew, wait) => match r {
                    Ok(Ok(IdleResponse::NewData(_))) => debug!("IDLE: change reported"),
                    Ok(Ok(_)) | Err(_) => debug!("IDLE renewed"),
                    Ok(Err(e)) => return Err(During("in IDLE", e).into()),
                },
                _ = shutdown.changed() => {}
            }
            stop
        };
        drop(stop);
        let session = within(io, "ending IDLE", async {
            handle.done().await.map_err(|e| During("ending IDLE", e))
        })
        .await?;
        if *shutdown.borrow() {
            let mut session = session;
            let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Fetch every message above `last_uid` and commit it through the pipeline; returns the new
    /// committed UID, and whether shutdown cut the fetch short. Batches are pipelined: reading
    /// goes on while earlier batches commit.
    async fn fetch_new(
        &self,
        session: &mut Session,
        uid_validity: u32,
        last_uid: u32,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<(u32, bool), ImapError> {
        let io = self.settings.io_timeout();
        let m = &self.mailbox;
        let uids = new_uids(session, last_uid, io).await?;
        let Some(&max_uid) = uids.iter().filter(|&&u| u > last_uid).max() else {
            self.health.lag(&m.name, &self.folder, 0);
            return Ok((last_uid, false));
        };
        let new_count = uids.iter().filter(|&&u| u > last_uid).count();
        // What the server holds beyond the committed cursor, as batches commit.
        let lag = |committed: u32| uids.iter().filter(|&&u| u > committed).count() as u64;
        self.health.lag(&m.name, &self.folder, new_count as u64);
        info!(new = new_count, "Fetching new messages");
        let range = format!("{}:{max_uid}", last_uid + 1);
        let mut committed = last_uid;
        let mut in_flight: std::collections::VecDeque<(u32, Ack)> = Default::default();
        let mut batch: Vec<RawMail> = Vec::new();
        let mut batch_bytes = 0usize;
        let mut batch_max = last_uid;
        let mut stats = FetchStats::default();
        let mut interrupted = false;
        {
            let mut stream = within(io, "fetching", async {
                session
                    .uid_fetch(&range, "(UID BODY.PEEK[])")
                    .await
                    .map_err(|e| During("fetching", e))
            })
            .await?;
            loop {
                if *shutdown.borrow() {
                    interrupted = true;
                    break;
                }
                let next = within(io, "fetching", async {
                    Ok::<_, ImapError>(stream.next().await)
                })
                .await?;
                let Some(fetch) = next else { break };
                let fetch = during("fetching")(fetch)?;
                let Some(uid) = fetch.uid else { continue };
                if uid <= last_uid || uid > max_uid {
                    continue;
                }
                let bytes = fetch.body().unwrap_or_default().to_vec();
                batch_bytes += bytes.len();
                batch.push(self.raw_mail(uid_validity, uid, bytes));
                batch_max = batch_max.max(uid);
                if batch.len() >= m.batch_size || batch_bytes >= BATCH_BYTES {
                    let ack = self
                        .submit(std::mem::take(&mut batch), uid_validity, batch_max)
                        .await?;
                    in_flight.push_back((batch_max, ack));
                    batch_bytes = 0;
                    while in_flight.len() > IN_FLIGHT {
                        if let Some((uid, ack)) = in_flight.pop_front() {
                            wait_ack(ack, &mut stats).await?;
                            committed = uid;
                            self.health.lag(&m.name, &self.folder, lag(committed));
                        }
                    }
                }
            }
        }
        if !batch.is_empty() {
            let ack = self.submit(batch, uid_validity, batch_max).await?;
            in_flight.push_back((batch_max, ack));
        }
        while let Some((uid, ack)) = in_flight.pop_front() {
            wait_ack(ack, &mut stats).await?;
            committed = uid;
        }
        self.health.lag(&m.name, &self.folder, lag(committed));
        info!(
            stored = stats.stored,
            duplicates = stats.duplicates,
            rejected = stats.rejected,
            committed_uid = committed,
            "Synced"
        );
        Ok((committed, interrupted))
    }

    /// A fetched message, named by where it came from.
    fn raw_mail(&self, uid_validity: u32, uid: u32, bytes: Vec<u8>) -> RawMail {
        let m = &self.mailbox;
        RawMail {
            role: m.role,
            mailbox: m.name.clone(),
            origin: format!(
                "imap://{}/{};UIDVALIDITY={uid_validity};UID={uid}",
                m.name, self.folder
            ),
            bytes,
        }
    }

    async fn submit(
        &self,
        mails: Vec<RawMail>,
        uid_validity: u32,
        last_uid: u32,
    ) -> Result<Ack, ImapError> {
        let durable = self.mailbox.after != AfterProcessing::Nothing;
        self.intake
            .submit(
                mails,
                Some((
                    self.key(),
                    FolderCursor {
                        uid_validity,
                        last_uid,
                    },
                )),
                durable,
            )
            .await
            .map_err(|_| ImapError::PipelineStopped)
    }

    /// Flag or move every committed message still in the folder (`1:last_uid`).
    async fn after_processing(
        &self,
        session: &mut Session,
        caps: Caps,
        last_uid: u32,
    ) -> Result<(), ImapError> {
        if last_uid == 0 {
            return Ok(());
        }
        let io = self.settings.io_timeout();
        let range = format!("1:{last_uid}");
        match &self.mailbox.after {
            AfterProcessing::Nothing => {}
            AfterProcessing::Flag(flag) => {
                let query = format!("+FLAGS.SILENT ({flag})");
                within(
                    io,
                    "flagging processed messages",
                    async {
                        let updates = session.uid_store(&range, &query).await?;
                        for r in updates.collect::<Vec<_>>().await {
                            r?;
                        }
                        Ok::<_, async_imap::error::Error>(())
                    }
                    .map_during("flagging processed messages"),
                )
                .await?;
            }
            AfterProcessing::MoveTo(target) => {
                // The target may not exist yet; an "already exists" answer is fine.
                let _ = within(io, "creating the target folder", async {
                    session
                        .create(target)
                        .await
                        .map_err(|e| During("creating", e))
                })
                .await;
                if caps.mv {
                    within(
                        io,
                        "moving processed messages",
                        async { session.uid_mv(&range, target).await }
                            .map_during("moving processed messages"),
                    )
                    .await?;
                } else {
                    within(
                        io,
                        "copying processed messages",
                        async {
                            session.uid_copy(&range, target).await?;
                            let flagged = session
                                .uid_store(&range, "+FLAGS.SILENT (\\Deleted)")
                                .await?
                                .collect::<Vec<_>>()
                                .await;
                            flagged.into_iter().collect::<Result<Vec<_>, _>>()?;
                            let expunged = if caps.uidplus {
                                session.uid_expunge(&range).await?.collect::<Vec<_>>().await
                            } else {
                                session.expunge().await?.collect::<Vec<_>>().await
                            };
                            expunged.into_iter().collect::<Result<Vec<_>, _>>()?;
                            Ok::<_, async_imap::error::Error>(())
                        }
                        .map_during("copying processed messages"),
                    )
                    .await?;
                }
                debug!(to = %target, through_uid = last_uid, "Moved processed messages");
            }
        }
        Ok(())
    }
}

use crate::intake::Ack;

#[derive(Default)]
struct FetchStats {
    stored: u64,
    duplicates: u64,
    rejected: u64,
}

/// Wait for a batch's commit (its cursor was written with it).
async fn wait_ack(ack: Ack, stats: &mut FetchStats) -> Result<(), ImapError> {
    let report = ack
        .await
        .map_err(|_| ImapError::PipelineStopped)?
        .map_err(ImapError::Commit)?;
    for o in report.outcomes {
        match o {
            ItemOutcome::Stored { .. } => stats.stored += 1,
            ItemOutcome::Duplicate => stats.duplicates += 1,
            ItemOutcome::Rejected(_) => stats.rejected += 1,
        }
    }
    Ok(())
}

/// Adds "while X" to a protocol error from a block of commands.
trait MapDuring<T> {
    fn map_during(self, what: &'static str) -> impl Future<Output = Result<T, During>>;
}
impl<T, F: Future<Output = Result<T, async_imap::error::Error>>> MapDuring<T> for F {
    // An `async fn` here would not promise the returned future is `Send`; this form keeps the
    // future's own auto traits, which the spawned folder tasks need.
    #[allow(clippy::manual_async_fn)]
    fn map_during(self, what: &'static str) -> impl Future<Output = Result<T, During>> {
        async move { self.await.map_err(|e| During(what, e)) }
    }
}

/// Up to 25 % random extra, so many daemons do not reconnect in step.
fn jitter(secs: f64) -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // A cheap hash of the clock's low bits is random enough to spread reconnects.
    let r = (nanos.wrapping_mul(2_654_435_761) >> 8) as f64 / (u32::MAX >> 8) as f64;
    secs * (1.0 + 0.25 * r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(auth: &str, secret: &str) -> MailboxConfig {
        let text = format!(
            "[[mailbox]]\nname = \"ap\"\nhost = \"imap.example.com\"\nusername = \"ap@example.com\"\nauth = \"{auth}\"\n{secret}\n"
        );
        crate::config::Config::parse("t.toml", &text, std::path::Path::new("/"))
            .unwrap()
            .mailboxes
            .remove(0)
    }

    #[tokio::test]
    async fn secrets_come_from_a_command_and_failures_do_not_echo_them() {
        let m = mailbox("xoauth2", "token_command = \"printf 'tok-123\\\\n'\"");
        assert_eq!(read_secret(&m).await.unwrap(), "tok-123");
        let m = mailbox("password", "password_command = \"echo oops >&2; exit 3\"");
        let e = read_secret(&m).await.unwrap_err().to_string();
        assert!(e.contains("failed") && e.contains("oops"), "{e}");
        let m = mailbox("password", "password_command = \"true\"");
        assert!(
            read_secret(&m)
                .await
                .unwrap_err()
                .to_string()
                .contains("printed nothing")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let m = mailbox(
            "password",
            &format!("password_file = \"{}\"", file.display()),
        );
        assert_eq!(read_secret(&m).await.unwrap(), "s3cret");
    }

    #[test]
    fn oauth_sends_its_initial_response_once_then_ends_an_error_challenge() {
        use async_imap::Authenticator;
        let mut auth = OAuth {
            initial: "user=a\x01auth=Bearer t\x01\x01".into(),
            sent: false,
        };
        let mut a = &mut auth;
        assert_eq!(a.process(b""), "user=a\x01auth=Bearer t\x01\x01");
        // The server's error challenge (JSON) must be answered with an empty response.
        assert_eq!(a.process(b"{\"status\":\"401\"}"), "");
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        for _ in 0..100 {
            let j = jitter(4.0);
            assert!((4.0..=5.0).contains(&j), "{j}");
        }
    }
}
