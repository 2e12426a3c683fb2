//! `deskmail search`: a search through the running daemon when one listens (its index open and
//! warm), else on the index itself; printed as text or JSON.
//!
//! Compiled into both executables: the `deskmail` front (src/front.rs) answers a search with
//! this module alone, so the process that serves one loads no more than searching needs.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use deskmail::daemon::control::{self, SearchAnswer, View};
use deskmail::index::{IndexError, MailIndex, SearchOptions, SearchResults, SortOrder};
use deskmail::pipeline::DataDir;

use super::args::{Cli, SearchArgs, Sort};

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
        // The text lists no message ids (a search through the daemon has them anyway).
        message_ids: args.json,
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
