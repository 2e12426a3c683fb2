//! Reading what is stored: `search`, `show`, `thread`, `stats`, `status`.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::daemon::control::{self, SearchAnswer, View};
use deskmail::health::StatusReport;
use deskmail::index::{IndexError, MailIndex, SearchOptions, SearchResults, SortOrder};
use deskmail::pipeline::DataDir;

use super::args::{Cli, DataArg, SearchArgs, Sort};
use super::common::{print_view, store_request};

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    // The query takes every word after its first (so that `-paid` stays a word), options
    // included: `deskmail search money --limit 5` would search for "limit" and "5" and say
    // nothing. An option of this command among the words is refused instead.
    if let Some((word, option)) = option_in_query(&args.query) {
        eprintln!(
            "error: `{word}` comes after the search words, where it would be searched for\n  \
             put options first: deskmail search {option} ... WORDS"
        );
        return Ok(ExitCode::from(2));
    }
    let q = args.query.join(" ");
    let opts = SearchOptions {
        limit: args.limit,
        sort: match args.sort {
            Sort::Newest => SortOrder::Newest,
            Sort::Relevance => SortOrder::Relevance,
        },
    };
    let results = match find(&args.data.data, &q, opts)? {
        SearchAnswer::Results(r) => r,
        SearchAnswer::BadQuery(e) => {
            eprintln!(
                "error: bad query: {e}\n  {q}\n  {}^",
                " ".repeat(e.position)
            );
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        outln!("{}", serde_json::to_string(&results)?)?;
    } else {
        print_search(&results)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A search through the running daemon when there is one (its index is open and warm), else
/// on the index itself.
fn find(data: &Path, q: &str, opts: SearchOptions) -> Result<SearchAnswer> {
    if let Ok(daemon) = control::connect(&control::socket_path(data)) {
        let view = View::Search {
            query: q.to_string(),
            limit: opts.limit,
            sort: opts.sort,
        };
        let answer = control::ask_on(daemon, &view).map_err(|e| anyhow!(e))?;
        return serde_json::from_str(&answer).context("the daemon's search answer");
    }
    let index = MailIndex::open_read_only(&DataDir::new(data).index()).map_err(|e| {
        let context = match e {
            // Said once, for a new data directory and for one whose index was removed alike.
            IndexError::NotFound(_) => {
                return anyhow::anyhow!(
                    "no search index in {}: `deskmail ingest` makes one with the first mail, \
                     `deskmail reindex` rebuilds it from the mail already stored",
                    data.display()
                );
            }
            // Says where it is and what rebuilds it (an index of an earlier release).
            IndexError::SchemaMismatch(_) => return anyhow::Error::from(e),
            _ => format!("cannot open the search index in {}", data.display()),
        };
        anyhow::Error::from(e).context(context)
    })?;
    let answer = SearchAnswer::of(index.search(q, &opts))?;
    // The process ends after printing: its exit releases the index's memory maps (several per
    // segment) at once, where dropping the index unmaps them one call each.
    std::mem::forget(index);
    Ok(answer)
}

/// The first query word that is one of `search`'s own long options (`--limit`, `--limit=5`),
/// with that option's name.
fn option_in_query(words: &[String]) -> Option<(&str, String)> {
    // Building the command's description (every subcommand's arguments, ~0.1 ms at each
    // search) is only needed when a word looks like an option.
    if !words.iter().any(|w| w.starts_with("--")) {
        return None;
    }
    let cli = <Cli as clap::CommandFactory>::command();
    let search = cli.find_subcommand("search")?;
    let longs: Vec<String> = search
        .get_arguments()
        .chain(cli.get_arguments())
        .filter_map(|a| a.get_long())
        .chain(["help"])
        .map(|l| format!("--{l}"))
        .collect();
    words.iter().find_map(|w| {
        let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
        longs
            .iter()
            .find(|l| *l == name)
            .map(|l| (w.as_str(), l.clone()))
    })
}

fn print_search(results: &SearchResults) -> Result<()> {
    let color = std::io::stdout().is_terminal();
    let more = if results.more_threads {
        "more than "
    } else {
        ""
    };
    outln!(
        "{more}{} threads, {} messages",
        results.total_threads,
        results.total_messages
    )?;
    for t in &results.threads {
        let date = t
            .last_date
            .as_deref()
            .map_or("(no date)", |d| d.get(..10).unwrap_or(d));
        outln!(
            "{}  {:<26} {:>3} msg  {}  {}",
            date,
            t.category,
            t.message_count,
            t.thread_id,
            t.subject
        )?;
        let snippet = highlighted(&t.snippet, &t.highlights, color);
        let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        if !snippet.is_empty() {
            outln!("    {snippet}")?;
        }
    }
    Ok(())
}

/// The snippet with its matches in bold yellow (a terminal) or in [brackets].
fn highlighted(snippet: &str, highlights: &[(usize, usize)], color: bool) -> String {
    let mut out = String::new();
    let mut last = 0;
    for &(s, e) in highlights {
        if s < last
            || e > snippet.len()
            || !snippet.is_char_boundary(s)
            || !snippet.is_char_boundary(e)
        {
            continue;
        }
        out.push_str(&snippet[last..s]);
        if color {
            out.push_str(&format!("\x1b[1;33m{}\x1b[0m", &snippet[s..e]));
        } else {
            out.push_str(&format!("[{}]", &snippet[s..e]));
        }
        last = e;
    }
    out.push_str(&snippet[last.min(snippet.len())..]);
    out
}

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
