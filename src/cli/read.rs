//! Reading what is stored: `show`, `thread`, `stats`, `status` (`search` has its own module).

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::daemon::control::View;
use deskmail::health::StatusReport;
use deskmail::pipeline::DataDir;

use super::args::DataArg;
use super::common::{print_view, store_request};

pub fn show(data: &DataArg, json: bool, id: String) -> Result<ExitCode> {
    print_view(&data.data, View::Show { id, json })
}

pub fn thread(data: &DataArg, json: bool, id: String) -> Result<ExitCode> {
    print_view(&data.data, View::Thread { id, json })
}

pub fn stats(data: &DataArg, json: bool) -> Result<ExitCode> {
    print_view(&data.data, View::Stats { json })
}

pub fn status(data: &DataArg, json: bool) -> Result<ExitCode> {
    let report = deskmail::health::read_status(&data.data).map_err(|e| anyhow!(e))?;
    // The sender's side: what the outbox could not deliver (no store yet: nothing to say).
    let outbox = match outbox_health(&data.data) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("warning: cannot read the outbox: {e:#}");
            None
        }
    };
    if json {
        // Each mailbox with the errors of the replies its mail caused (reminders and notices
        // belong to no mailbox: `outbox list` and the text output show them).
        let mut mailboxes = serde_json::to_value(&report.mailboxes)?;
        if let (Some(o), Some(list)) = (&outbox, mailboxes.as_array_mut()) {
            for m in list {
                let name = m["name"].as_str().unwrap_or_default().to_string();
                let errors: Vec<&OutboxProblem> = o
                    .problems
                    .iter()
                    .filter(|p| p.mailbox.as_deref() == Some(name.as_str()))
                    .collect();
                m["outbox_errors"] = serde_json::to_value(errors)?;
            }
        }
        super::common::print_json_pretty(&mailboxes)?;
    } else {
        print_status(&report)?;
        if let Some(o) = &outbox {
            print_outbox_health(o)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The outbox as `status` reports it: records per state, and each one that did not go out
/// (failed for good, uncertain, or queued again after an error) with the server's answer.
#[derive(Debug, Default, PartialEq)]
struct OutboxHealth {
    states: std::collections::BTreeMap<String, usize>,
    /// Queued records whose last attempt failed (waiting for their retry).
    retrying: usize,
    problems: Vec<OutboxProblem>,
}

#[derive(Debug, PartialEq, serde::Serialize)]
struct OutboxProblem {
    id: String,
    /// failed, uncertain or retrying.
    state: String,
    to: String,
    attempts: u64,
    error: String,
    next_attempt_at: Option<String>,
    /// The mailbox whose message the reply answers (None: a reminder or notice).
    mailbox: Option<String>,
    #[serde(skip)]
    source_message: String,
}

/// Sort `records` (as `outbox list --json` prints them) into an [`OutboxHealth`].
fn summarize_outbox(records: &[serde_json::Value]) -> OutboxHealth {
    let mut h = OutboxHealth::default();
    for r in records {
        let state = r["state"].as_str().unwrap_or("unknown").to_string();
        let error = r["last_error"].as_str().map(str::to_string);
        let shown = match (state.as_str(), &error) {
            ("failed" | "uncertain", _) => Some(state.clone()),
            ("queued", Some(_)) => {
                h.retrying += 1;
                Some("retrying".to_string())
            }
            _ => None,
        };
        if let Some(shown) = shown {
            h.problems.push(OutboxProblem {
                id: r["id"].as_str().unwrap_or_default().to_string(),
                state: shown,
                to: r["to"].as_str().unwrap_or_default().to_string(),
                attempts: r["attempts"].as_u64().unwrap_or(0),
                error: error.unwrap_or_default(),
                next_attempt_at: r["next_attempt_at"].as_str().map(str::to_string),
                mailbox: None,
                source_message: r["source_message"].as_str().unwrap_or_default().to_string(),
            });
        }
        *h.states.entry(state).or_default() += 1;
    }
    h
}

/// The outbox's health, from the store or through the daemon holding it; None without a store.
fn outbox_health(data: &std::path::Path) -> Result<Option<OutboxHealth>> {
    if !DataDir::new(data).store().exists() {
        return Ok(None);
    }
    let listed = store_request(data, View::Outbox { json: true }, false)?;
    let records: Vec<serde_json::Value> = if listed.trim_start().starts_with('[') {
        serde_json::from_str(&listed).context("outbox list")?
    } else {
        Vec::new() // "the outbox is empty"
    };
    let mut h = summarize_outbox(&records);
    // Which mailbox each problem came from (a few look-ups: problems are few).
    for p in h
        .problems
        .iter_mut()
        .filter(|p| !p.source_message.is_empty())
    {
        let view = View::Show {
            id: p.source_message.clone(),
            json: true,
        };
        if let Ok(shown) = store_request(data, view, false)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&shown)
        {
            p.mailbox = v["message"]["mailbox"].as_str().map(str::to_string);
        }
    }
    Ok(Some(h))
}

fn print_outbox_health(h: &OutboxHealth) -> Result<()> {
    if h.states.is_empty() {
        return Ok(());
    }
    let states: Vec<String> = h
        .states
        .iter()
        .map(|(state, n)| {
            if state == "queued" && h.retrying > 0 {
                format!("{n} queued ({} retrying after an error)", h.retrying)
            } else {
                format!("{n} {state}")
            }
        })
        .collect();
    outln!("outbox: {}", states.join(", "))?;
    for p in &h.problems {
        outln!(
            "  {:<10} {}  to {}{}, {} attempt(s){}: {}",
            p.state,
            p.id,
            p.to,
            p.mailbox
                .as_deref()
                .map_or(String::new(), |m| format!(" (mailbox {m})")),
            p.attempts,
            p.next_attempt_at
                .as_deref()
                .map_or(String::new(), |t| format!(", next at {t}")),
            p.error
        )?;
    }
    Ok(())
}

fn print_status(report: &StatusReport) -> Result<()> {
    if report.running {
        outln!(
            "daemon: running (pid {}, rules {})",
            report.pid,
            report.rules_version
        )?;
    } else {
        outln!("daemon: not running")?;
    }
    for m in &report.mailboxes {
        outln!(
            "{:<16} {:<13} last sync {:<25} stored {:>7}  {}",
            m.name,
            if m.connected {
                "connected"
            } else {
                "disconnected"
            },
            m.last_sync.map_or("never".into(), |t| t.to_rfc3339()),
            m.messages_stored,
            m.last_error
                .as_deref()
                .map_or(String::new(), |e| format!("error: {e}"))
        )?;
    }
    if report.mailboxes.is_empty() {
        outln!("no mailboxes (start `deskmail run --config FILE`)")?;
    }
    match &report.antivirus {
        Some(a) => outln!(
            "antivirus: on (clamd {}): scanned {} clean, {} infected, {} too large; {} errors{}",
            a.clamd,
            a.clean,
            a.infected,
            a.too_large,
            a.errors,
            a.last_error
                .as_deref()
                .map_or(String::new(), |e| format!("; last error: {e}"))
        )?,
        None if report.running => outln!("antivirus: off")?,
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15's Postfix outage: `status` names what the sender could not deliver, with the
    /// server's answer, and leaves what went out (or waits for review) alone.
    #[test]
    fn status_lists_failed_uncertain_and_retrying_outbox_records() {
        let records: Vec<serde_json::Value> = serde_json::from_str(
            r#"[
              {"id": "a1", "state": "sent", "to": "x@a.example", "attempts": 1, "last_error": null, "source_message": "m1"},
              {"id": "b2", "state": "failed", "to": "y@b.example", "attempts": 3,
               "last_error": "permanent error (550): 5.7.1 <y@b.example>: Recipient address rejected",
               "source_message": "m2"},
              {"id": "c3", "state": "queued", "to": "z@c.example", "attempts": 2,
               "last_error": "Connection refused (os error 111)", "next_attempt_at": "2026-12-04T20:00:00Z",
               "source_message": ""},
              {"id": "d4", "state": "queued", "to": "w@d.example", "attempts": 0, "last_error": null, "source_message": "m4"},
              {"id": "e5", "state": "uncertain", "to": "v@e.example", "attempts": 1,
               "last_error": "the daemon stopped while sending: maybe delivered", "source_message": "m5"},
              {"id": "f6", "state": "review", "to": "u@f.example", "attempts": 0, "last_error": null, "source_message": "m6"}
            ]"#,
        )
        .unwrap();
        let h = summarize_outbox(&records);
        let states: Vec<(&str, usize)> = h.states.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        assert_eq!(
            states,
            vec![
                ("failed", 1),
                ("queued", 2),
                ("review", 1),
                ("sent", 1),
                ("uncertain", 1)
            ]
        );
        assert_eq!(h.retrying, 1);
        let shown: Vec<(&str, &str)> = h
            .problems
            .iter()
            .map(|p| (p.id.as_str(), p.state.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![("b2", "failed"), ("c3", "retrying"), ("e5", "uncertain")]
        );
        assert!(h.problems[0].error.contains("550"), "{:?}", h.problems[0]);
        assert_eq!(
            h.problems[1].next_attempt_at.as_deref(),
            Some("2026-12-04T20:00:00Z")
        );
        assert_eq!(h.problems[0].source_message, "m2");
        assert!(summarize_outbox(&[]).problems.is_empty());
    }
}
