//! Getting mail in and measuring it: `ingest`, `reindex`, `eval`, `bench`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use deskmail::intake::IngestSummary;
use deskmail::parse::ParseLimits;
use deskmail::pipeline::{DataDir, Pipeline, raw_mail_from_files};

use super::args::{BenchCommand, DataArg, IngestArgs, RulesArg};
use super::common::{load_rules, print_json_pretty, progress_bar, workers};

pub fn ingest(args: IngestArgs) -> Result<ExitCode> {
    let rules = Arc::new(load_rules(args.rules.rules.as_deref())?);
    let limits = ParseLimits {
        max_message_bytes: args.max_size,
        ..ParseLimits::default()
    };
    let pipeline = Pipeline::open(&DataDir::new(&args.data.data), rules, limits)
        .context("cannot open the data directory")?;
    let found = deskmail::source::files::discover_all(&args.paths)?;
    for (path, why) in &found.skipped {
        eprintln!("skipped {}: {why}", path.display());
    }
    let files = found.files;
    let bar = progress_bar();
    let on_progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    // `[antivirus]` of --config: every message is scanned first; a batch clamd could not
    // scan stops the ingest (nothing of it stored, exit 1) instead of passing unscanned.
    let scanner = match &args.config {
        Some(path) => {
            let config =
                deskmail::config::Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            deskmail::daemon::antivirus_scanner(&config)?
        }
        None => None,
    };
    let summary = deskmail::intake::ingest_scanned(
        Arc::new(pipeline),
        raw_mail_from_files(files, args.mailbox, args.role),
        workers(),
        scanner,
        &on_progress,
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.json {
        outln!("{}", serde_json::to_string(&summary)?)?;
    } else {
        print_summary(&summary)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &IngestSummary) -> Result<()> {
    for r in &summary.rejections {
        eprintln!("rejected {}: {}", r.path, r.reason);
    }
    let flagged: String = summary
        .flagged
        .iter()
        .map(|(f, n)| format!(", {n} {}", f.replace('_', " ")))
        .collect();
    outln!(
        "ingested {}, duplicates {}, rejected {}{} in {:.2}s ({:.0} msg/s)",
        summary.ingested,
        summary.duplicates,
        summary.rejected,
        flagged,
        summary.seconds,
        (summary.ingested + summary.duplicates + summary.rejected) as f64
            / summary.seconds.max(1e-9)
    )?;
    Ok(())
}

pub fn reindex(data: &DataArg) -> Result<ExitCode> {
    let n = deskmail::intake::rebuild_index(&DataDir::new(&data.data), &ParseLimits::default())?;
    outln!("reindexed {n} messages")?;
    Ok(ExitCode::SUCCESS)
}

pub fn compact(data: &DataArg, json: bool) -> Result<ExitCode> {
    let dir = DataDir::new(&data.data).store();
    let started = std::time::Instant::now();
    let done = deskmail::store::Store::compact(&dir, deskmail::pipeline::STORE_CACHE_BYTES)
        .with_context(|| format!("cannot compact the store in {}", data.data.display()))?;
    if json {
        print_json_pretty(&done)?;
    } else {
        outln!(
            "compacted {} records in {:.1} s: key-value files {:.1} MB -> {:.1} MB",
            done.records,
            started.elapsed().as_secs_f64(),
            done.kv_bytes_before as f64 / 1e6,
            done.kv_bytes_after as f64 / 1e6
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn eval(rules: &RulesArg, json: bool, dir: &Path) -> Result<ExitCode> {
    let rules = load_rules(rules.rules.as_deref())?;
    let report = deskmail::eval::run(dir, &rules, &ParseLimits::default())?;
    print_report(&report, json)
}

pub fn bench(command: BenchCommand) -> Result<ExitCode> {
    use deskmail::bench;
    match command {
        BenchCommand::Ingest {
            rules,
            scratch,
            json,
            path,
        } => {
            let rules = Arc::new(load_rules(rules.rules.as_deref())?);
            print_report(&bench::ingest(&path, rules, scratch.as_deref())?, json)
        }
        BenchCommand::Documents { runs, json, files } => {
            print_report(&bench::documents(&files, runs)?, json)
        }
        BenchCommand::Store { data, json } => {
            let store = crate::cli::common::open_store(&data.data, false)?;
            print_report(&store.usage()?, json)
        }
        BenchCommand::Search {
            data,
            runs,
            queries,
        } => print_report(&bench::cli_search(&data.data, &queries, runs)?, false),
    }
}

/// A report as indented JSON, or as its text.
fn print_report(
    report: &(impl serde::Serialize + std::fmt::Display),
    json: bool,
) -> Result<ExitCode> {
    if json {
        print_json_pretty(report)?;
    } else {
        out!("{report}")?;
    }
    Ok(ExitCode::SUCCESS)
}
