//! Reading what is stored: `search`, `show`, `thread`, `stats`, `status`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::daemon::control::View;
use deskmail::health::StatusReport;
use deskmail::index::{MailIndex, SearchError, SearchOptions, SearchResults, SortOrder};
use deskmail::pipeline::DataDir;

use super::args::{DataArg, SearchArgs, Sort};
use super::common::print_view;

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let data = &args.data.data;
    let index = MailIndex::open_read_only(&DataDir::new(data).index()).with_context(|| {
        format!(
            "no index in {} (run `deskmail ingest` first)",
            data.display()
        )
    })?;
    let q = args.query.join(" ");
    let opts = SearchOptions {
        limit: args.limit,
        sort: match args.sort {
            Sort::Newest => SortOrder::Newest,
            Sort::Relevance => SortOrder::Relevance,
        },
    };
    let results = match index.search(&q, &opts) {
        Ok(r) => r,
        Err(SearchError::Query(e)) => {
            eprintln!(
                "error: bad query: {e}\n  {q}\n  {}^",
                " ".repeat(e.position)
            );
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    if args.json {
        outln!("{}", serde_json::to_string(&results)?)?;
    } else {
        print_search(&results)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_search(results: &SearchResults) -> Result<()> {
    let color = std::io::stdout().is_terminal();
    outln!("{} threads", results.total_threads)?;
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
    if json {
        super::common::print_json_pretty(&report.mailboxes)?;
    } else {
        print_status(&report)?;
    }
    Ok(ExitCode::SUCCESS)
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
