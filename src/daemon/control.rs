//! The daemon's control socket (`DATA/control.sock`, mode 0600): while the daemon holds the
//! store (sled admits one process), `deskmail show|thread|stats` from another shell ask the
//! daemon, which renders exactly what the CLI would. One JSON request line, one JSON answer line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tracing::{debug, warn};

use crate::pipeline::Pipeline;
use crate::store::Store;
use crate::views::{self, ViewError};

/// A read-only view of the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "view", rename_all = "lowercase")]
pub enum View {
    Show { id: String, json: bool },
    Thread { id: String, json: bool },
    Stats { json: bool },
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

pub fn render(store: &Store, view: &View) -> Result<String, ViewError> {
    match view {
        View::Show { id, json } => views::show(store, id, *json),
        View::Thread { id, json } => views::thread(store, id, *json),
        View::Stats { json } => views::stats(store, *json),
    }
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
pub async fn serve(path: PathBuf, pipeline: Arc<Pipeline>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let pipeline = Arc::clone(&pipeline);
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
                    let r =
                        tokio::task::spawn_blocking(move || render(&pipeline.store, &view)).await;
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
