//! The daemon's control socket (`DATA/control.sock`, mode 0600): while the daemon holds the
//! store (one process at a time), `deskmail show|thread|stats`, `invoices list|import|status`,
//! `outbox list|retry` and `reminders preview` from another shell ask the daemon, which does
//! exactly what the CLI would have done on the store (changes audited under the caller's name).
//! `deskmail search` asks it too: the daemon's index is open and its pages mapped, where a
//! process of its own opens the index and faults in every page a search reads (issue 14: at a
//! million messages 4–7 ms of a 10–15 ms search). One JSON request line, one JSON answer line.
//!
//! Who is asking is the kernel's word, not the request's: the daemon takes the caller's user
//! from the socket's peer credentials and records changes under it (`cli:NAME`, the form the
//! CLI uses), whatever `actor` the request carries. A request line is read up to
//! [`MAX_REQUEST_BYTES`]; a longer one is refused and its connection closed. The socket is
//! created inside the data directory (0700) under the private umask, so it is never open to
//! anyone else, not even between bind and chmod.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tracing::{debug, warn};

use crate::access::Role;
use crate::index::{
    MailIndex, QueryError, Reloader, SearchError, SearchOptions, SearchResults, SortOrder,
};
use crate::receivables::{Cadence, Receivable, ReceivableStatus};
use crate::store::Store;
use crate::views::{self, ViewError};

/// A request: a view of the store, or one of the desk's small changes to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum View {
    Show {
        id: String,
        json: bool,
    },
    Thread {
        id: String,
        json: bool,
    },
    Stats {
        json: bool,
    },
    Invoices {
        json: bool,
    },
    Outbox {
        json: bool,
    },
    Reminders {
        cadence: Box<Cadence>,
        day: chrono::NaiveDate,
        json: bool,
    },
    /// Receivables read from a CSV by the caller (`source` names the file in the audit log).
    InvoicesImport {
        receivables: Vec<Receivable>,
        source: String,
        actor: String,
    },
    InvoiceStatus {
        number: String,
        status: String,
        actor: String,
    },
    OutboxRetry {
        id: String,
        actor: String,
    },
    ReviewList {
        all: bool,
        json: bool,
    },
    ReviewShow {
        id: String,
        json: bool,
    },
    ReviewDecide {
        id: String,
        decide: views::Decide,
        version: Option<u32>,
        actor: String,
    },
    /// Writes into `dir` (an absolute path: the daemon may run elsewhere in the tree).
    ReviewExport {
        since: chrono::NaiveDate,
        dir: PathBuf,
    },
    Vendors {
        json: bool,
    },
    VendorShow {
        key: String,
        json: bool,
    },
    VendorConfirmIban {
        key: String,
        iban: String,
        actor: String,
    },
    /// The audit chain checked against its key and anchors (JSON, see `views::audit_verify`).
    AuditVerify,
    /// `deskmail search`, answered from the daemon's index ([`SearchAnswer`] as JSON).
    Search {
        query: String,
        limit: usize,
        sort: SortOrder,
    },
    /// `deskmail backup`: the daemon snapshots its store between two of the committer's batches
    /// and writes the archive to `out` (absolute); audited under the caller's name.
    Backup {
        out: PathBuf,
        actor: String,
    },
}

/// The longest request line the daemon reads (its newline not counted). The largest
/// legitimate request is `invoices import`: the whole CSV, parsed by the CLI, travels as one
/// JSON line, about 250-300 bytes per receivable. 16 MiB carries some 55,000 open invoices in
/// one import, far beyond a desk's open-items list, while a caller can no longer make the daemon
/// hold an unbounded line in memory (a 200 MB line used to cost it 200 MB).
pub const MAX_REQUEST_BYTES: usize = 16 << 20;

/// How long `deskmail backup` waits for the daemon's answer (the archive written and synced).
const BACKUP_ANSWER_WITHIN: Duration = Duration::from_secs(6 * 3600);

impl View {
    /// Requests that change the store name who asks for them; the daemon puts the socket
    /// peer's identity there before doing them.
    fn set_actor(&mut self, who: &str) {
        match self {
            View::InvoicesImport { actor, .. }
            | View::InvoiceStatus { actor, .. }
            | View::OutboxRetry { actor, .. }
            | View::ReviewDecide { actor, .. }
            | View::VendorConfirmIban { actor, .. }
            | View::Backup { actor, .. } => *actor = who.to_string(),
            View::Show { .. }
            | View::Thread { .. }
            | View::Stats { .. }
            | View::Invoices { .. }
            | View::Outbox { .. }
            | View::Reminders { .. }
            | View::ReviewList { .. }
            | View::ReviewShow { .. }
            | View::ReviewExport { .. }
            | View::Vendors { .. }
            | View::VendorShow { .. }
            | View::AuditVerify
            | View::Search { .. } => {}
        }
    }
}

/// The audit name of the local user `uid`, in the CLI's form (`cli:NAME`, see `cli_actor` in
/// main.rs); `uid:N` for a user the system has no name for.
pub fn peer_actor(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("cli:{}", user.name),
        _ => format!("uid:{uid}"),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    output: String,
    #[serde(default)]
    error: String,
}

impl Answer {
    fn refused(error: String) -> Answer {
        Answer {
            ok: false,
            output: String::new(),
            error,
        }
    }
}

/// One request line of at most `limit` bytes (its newline not counted); None when it is
/// longer, after reading no more than `limit + 1` bytes of it. A caller that closes without a
/// newline sent what it sent.
async fn read_request(
    read: impl AsyncRead + Unpin,
    limit: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut reader = tokio::io::BufReader::new(read.take(limit as u64 + 1));
    reader.read_until(b'\n', &mut line).await?;
    if line.len() > limit && line.last() != Some(&b'\n') {
        return Ok(None);
    }
    Ok(Some(line))
}

pub fn socket_path(data: &Path) -> PathBuf {
    data.join("control.sock")
}

/// What a search through the socket gives: the results, or where the query is wrong (the CLI
/// says so as it does for its own search).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchAnswer {
    Results(SearchResults),
    BadQuery(QueryError),
}

impl SearchAnswer {
    /// A search's outcome as the socket carries it: a bad query is an answer, any other error
    /// is not.
    pub fn of(outcome: Result<SearchResults, SearchError>) -> Result<SearchAnswer, SearchError> {
        match outcome {
            Ok(results) => Ok(SearchAnswer::Results(results)),
            Err(SearchError::Query(e)) => Ok(SearchAnswer::BadQuery(e)),
            Err(e) => Err(e),
        }
    }
}

/// The daemon's index as the control socket searches it, seeing the writer's commits.
pub struct SearchIndex {
    dir: PathBuf,
    /// Opened at the first search (read-only) unless given.
    open: std::sync::Mutex<Option<Arc<MailIndex>>>,
    reloader: Reloader,
}

impl SearchIndex {
    /// The index in `dir`, opened read-only at the first search (and again after a failure).
    pub fn at(dir: PathBuf) -> Self {
        SearchIndex {
            dir,
            open: Default::default(),
            reloader: Reloader::default(),
        }
    }

    /// An index this process already has open (`deskmail serve`'s).
    pub fn of(index: Arc<MailIndex>) -> Self {
        SearchIndex {
            dir: index.dir().to_path_buf(),
            open: std::sync::Mutex::new(Some(index)),
            reloader: Reloader::default(),
        }
    }

    fn index(&self) -> Result<Arc<MailIndex>, ViewError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = open.as_ref() {
            return Ok(Arc::clone(index));
        }
        let index = Arc::new(MailIndex::open_read_only(&self.dir).map_err(|e| {
            ViewError::Invalid(format!(
                "cannot open the search index in {}: {e}",
                self.dir.display()
            ))
        })?);
        *open = Some(Arc::clone(&index));
        Ok(index)
    }

    fn answer(&self, query: &str, opts: &SearchOptions) -> Result<SearchAnswer, ViewError> {
        let index = self.index()?;
        self.reloader.refresh(&index);
        SearchAnswer::of(index.search(query, opts))
            .map_err(|e| ViewError::Invalid(format!("search: {e}")))
    }
}

/// Do what the request asks on the store; `index` is whoever holds the index's writer (a
/// correction in review re-indexes its message through it), `search` the index searches read
/// (the daemon's; None in a CLI process, which searches on its own).
pub fn render(
    store: &Store,
    index: &dyn crate::privacy::IndexUpdates,
    search: Option<&SearchIndex>,
    view: &View,
) -> Result<String, ViewError> {
    match view {
        View::ReviewList { all, json } => views::review_list(store, *all, *json),
        View::ReviewShow { id, json } => views::review_show(store, id, *json),
        View::ReviewDecide {
            id,
            decide,
            version,
            actor,
        } => views::decide(store, index, id, decide, actor, "admin", *version)
            .map(|o| views::outcome_text(&o))
            .map_err(|e| match e {
                views::DecideError::View(v) => v,
                other => ViewError::Invalid(other.to_string()),
            }),
        View::ReviewExport { since, dir } => views::review_export(store, *since, dir),
        View::Vendors { json } => views::vendors_list(store, *json),
        View::VendorShow { key, json } => views::vendor_show(store, key, *json),
        View::VendorConfirmIban { key, iban, actor } => {
            views::vendor_confirm_iban(store, key, iban, actor)
        }
        View::Show { id, json } => views::show(store, id, *json),
        View::Thread { id, json } => views::thread(store, id, *json),
        View::Stats { json } => views::stats(store, *json),
        View::AuditVerify => views::audit_verify(store),
        View::Search { query, limit, sort } => {
            let search = search.ok_or_else(|| {
                ViewError::Invalid("no search index is open in this process".into())
            })?;
            let opts = SearchOptions {
                limit: *limit,
                sort: *sort,
                message_ids: true,
            };
            Ok(serde_json::to_string(&search.answer(query, &opts)?)?)
        }
        View::Backup { out, actor } => crate::backup::backup_audited(store, out, actor)
            .map(|summary| summary.to_string())
            .map_err(|e| match e {
                crate::backup::BackupError::Store(s) => ViewError::from(s),
                other => ViewError::Invalid(other.to_string()),
            }),
        View::Invoices { json } => views::invoices(store, *json),
        View::Outbox { json } => views::outbox(store, *json),
        View::Reminders { cadence, day, json } => views::reminders(store, cadence, *day, *json),
        View::InvoicesImport {
            receivables,
            source,
            actor,
        } => {
            let (new, updated) = store.import_receivables(receivables)?;
            audited(store, actor, "invoices import", source)?;
            Ok(format!(
                "imported {} invoices: {new} new, {updated} updated\n",
                receivables.len()
            ))
        }
        View::InvoiceStatus {
            number,
            status,
            actor,
        } => {
            let next = match status.as_str() {
                "open" => ReceivableStatus::Open,
                "paid" => ReceivableStatus::Paid { by_message: None },
                "disputed" => ReceivableStatus::Disputed { by_message: None },
                other => {
                    return Err(ViewError::Invalid(format!(
                        "status {other:?} is not open, paid or disputed"
                    )));
                }
            };
            if !store.set_receivable_status(number, next)? {
                return Err(ViewError::NotFound(format!(
                    "no imported invoice {number:?} (see `deskmail invoices list`)"
                )));
            }
            audited(store, actor, &format!("invoices status {status}"), number)?;
            Ok(format!("{number}: {status}\n"))
        }
        View::OutboxRetry { id, actor } => match store.outbox_retry(id)? {
            Some(r) => {
                audited(store, actor, "outbox retry", &r.id)?;
                Ok(format!("queued {} again (to {})\n", r.id, r.mail.to))
            }
            None => Err(ViewError::NotFound(format!("no outbox message {id:?}"))),
        },
    }
}

/// Record a change made on a person's request; an address in `target` is kept as a pseudonym.
fn audited(store: &Store, actor: &str, action: &str, target: &str) -> Result<(), ViewError> {
    crate::admin::record_admin_action(store, actor, Role::Admin, action, [target], "ok")?;
    Ok(())
}

/// Ask a running daemon to render a view.
pub fn ask(path: &Path, view: &View) -> Result<String, String> {
    let stream =
        connect(path).map_err(|e| format!("cannot reach the daemon at {}: {e}", path.display()))?;
    ask_on(stream, view)
}

/// A connection to the daemon's socket (refused when no daemon listens there).
pub fn connect(path: &Path) -> std::io::Result<std::os::unix::net::UnixStream> {
    std::os::unix::net::UnixStream::connect(path)
}

/// Ask the daemon on the other end of `stream` to render a view.
pub fn ask_on(mut stream: std::os::unix::net::UnixStream, view: &View) -> Result<String, String> {
    // A backup writes the whole store before it answers.
    let wait = match view {
        View::Backup { .. } => BACKUP_ANSWER_WITHIN,
        _ => Duration::from_secs(30),
    };
    let _ = stream.set_read_timeout(Some(wait));
    let mut line = serde_json::to_string(view).map_err(|e| e.to_string())?;
    if line.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "the request is {} MiB; the daemon's control socket takes at most {} MiB \
             (split the file)",
            line.len() >> 20,
            MAX_REQUEST_BYTES >> 20
        ));
    }
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .map_err(|e| format!("control socket: {e}"))?;
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .map_err(|e| format!("control socket: {e}"))?;
    let answer: Answer =
        serde_json::from_str(&answer).map_err(|e| format!("control socket answer: {e}"))?;
    if answer.ok {
        Ok(answer.output)
    } else {
        Err(answer.error)
    }
}

/// Serve the socket until the listener task is aborted: `deskmail run` (the index changes go
/// through its intake) and `deskmail serve` (through its own index writer).
pub async fn serve(
    path: PathBuf,
    store: Arc<Store>,
    index: Arc<dyn crate::privacy::IndexUpdates>,
    search: Option<Arc<SearchIndex>>,
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&path);
    // Born private: the socket is created under the private umask, in the data directory
    // (0700), so there is no moment at which another user could connect.
    crate::store::permissions::restrict_umask();
    let listener = tokio::net::UnixListener::bind(&path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let store = Arc::clone(&store);
        let index = Arc::clone(&index);
        let search = search.clone();
        tokio::spawn(async move {
            let peer = stream.peer_cred().map(|c| c.uid());
            let (read, mut write) = stream.into_split();
            let answer = match read_request(read, MAX_REQUEST_BYTES).await {
                Err(_) => return,
                Ok(None) => {
                    warn!(
                        peer = ?peer.as_ref().ok(),
                        limit = MAX_REQUEST_BYTES,
                        "Control request line too long; refused and the connection closed"
                    );
                    Answer::refused(format!(
                        "request refused: a request line is at most {} MiB",
                        MAX_REQUEST_BYTES >> 20
                    ))
                }
                Ok(Some(line)) => match (serde_json::from_slice::<View>(&line), peer) {
                    (Err(e), _) => Answer::refused(format!("bad request: {e}")),
                    (Ok(_), Err(e)) => Answer::refused(format!(
                        "cannot tell who is asking (peer credentials: {e})"
                    )),
                    (Ok(mut view), Ok(uid)) => {
                        let r = tokio::task::spawn_blocking(move || {
                            view.set_actor(&peer_actor(uid));
                            debug!(?view, "Control request");
                            render(&store, index.as_ref(), search.as_deref(), &view)
                        })
                        .await;
                        match r {
                            Ok(Ok(output)) => Answer {
                                ok: true,
                                output,
                                error: String::new(),
                            },
                            Ok(Err(e)) => Answer::refused(e.to_string()),
                            Err(e) => Answer::refused(format!("the request failed: {e}")),
                        }
                    }
                },
            };
            let mut out = serde_json::to_vec(&answer).unwrap_or_default();
            out.push(b'\n');
            if let Err(e) = write.write_all(&out).await {
                warn!(error = %e, "Control socket write failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_index_that_cannot_open_says_so_and_opens_once_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("index");
        let search = SearchIndex::at(at.clone());
        let opts = SearchOptions::default();
        let refused = search.answer("invoice", &opts).unwrap_err().to_string();
        assert!(
            refused.contains("cannot open the search index"),
            "{refused}"
        );
        MailIndex::open_or_create(&at).unwrap();
        match search.answer("invoice", &opts).unwrap() {
            SearchAnswer::Results(r) => assert_eq!(r.total_messages, 0),
            SearchAnswer::BadQuery(e) => panic!("{e}"),
        }
        match search.answer("date:2026-13", &opts).unwrap() {
            SearchAnswer::BadQuery(e) => assert!(e.message.contains("month"), "{e}"),
            SearchAnswer::Results(_) => panic!("a bad query was answered"),
        }
    }
}
