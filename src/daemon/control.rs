//! The daemon's control socket (`DATA/control.sock`, mode 0600): while the daemon holds the
//! store (sled admits one process), `deskmail show|thread|stats`, `invoices list|import|status`,
//! `outbox list|retry` and `reminders preview` from another shell ask the daemon, which does
//! exactly what the CLI would have done on the store (changes audited under the caller's name).
//! One JSON request line, one JSON answer line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tracing::{debug, warn};

use crate::access::Role;
use crate::pipeline::Pipeline;
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
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    output: String,
    #[serde(default)]
    error: String,
}

pub fn socket_path(data: &Path) -> PathBuf {
    data.join("control.sock")
}

/// Do what the request asks on the store; `index` is whoever holds the index's writer (a
/// correction in review re-indexes its message through it).
pub fn render(
    store: &Store,
    index: &dyn crate::privacy::IndexUpdates,
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
    let mut stream = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| format!("cannot reach the daemon at {}: {e}", path.display()))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut line = serde_json::to_string(view).map_err(|e| e.to_string())?;
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

/// Serve the socket until the listener task is aborted.
pub async fn serve(
    path: PathBuf,
    pipeline: Arc<Pipeline>,
    index: Arc<dyn crate::privacy::IndexUpdates>,
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let pipeline = Arc::clone(&pipeline);
        let index = Arc::clone(&index);
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let mut reader = tokio::io::BufReader::new(read);
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let answer = match serde_json::from_str::<View>(&line) {
                Ok(view) => {
                    debug!(?view, "Control request");
                    let r = tokio::task::spawn_blocking(move || {
                        render(&pipeline.store, index.as_ref(), &view)
                    })
                    .await;
                    match r {
                        Ok(Ok(output)) => Answer {
                            ok: true,
                            output,
                            error: String::new(),
                        },
                        Ok(Err(e)) => Answer {
                            ok: false,
                            output: String::new(),
                            error: e.to_string(),
                        },
                        Err(e) => Answer {
                            ok: false,
                            output: String::new(),
                            error: format!("the request failed: {e}"),
                        },
                    }
                }
                Err(e) => Answer {
                    ok: false,
                    output: String::new(),
                    error: format!("bad request: {e}"),
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
