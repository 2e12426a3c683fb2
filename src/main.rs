//! The deskmail command line: parse arguments, call the library, print.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use deskmail::access::Role;
use deskmail::bench;
use deskmail::config::Config;
use deskmail::daemon::control::{self, View};
use deskmail::index::{MailIndex, SearchOptions, SortOrder};
use deskmail::model::RawMail;
use deskmail::parse::{ParseLimits, parse};
use deskmail::pipeline::{DataDir, Pipeline, raw_mail_from_files};
use deskmail::rules::RuleSet;
use deskmail::store::{Store, StoreError};

#[derive(Parser)]
#[command(
    name = "deskmail",
    version,
    about = "Email-workflow automation for accounting desks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DataArg {
    /// Data directory (store and index). Default: ./deskmail-data
    #[arg(long, env = "DESKMAIL_DATA", default_value = "deskmail-data")]
    data: PathBuf,
}

#[derive(Args, Clone)]
struct RulesArg {
    /// Directory of rule files (*.toml).
    #[arg(long, env = "DESKMAIL_RULES", default_value = "rules")]
    rules: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest .eml files, maildir folders, mbox files and directory trees of them.
    Ingest {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        rules: RulesArg,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
        /// Mailbox name recorded with each message (searchable as mailbox:NAME).
        #[arg(long, default_value = "files")]
        mailbox: String,
        /// The mailbox's role, ap or ar: rules can test it (`role = "ar"`).
        #[arg(long)]
        role: Option<deskmail::model::MailboxRole>,
        /// Messages larger than this many bytes are rejected.
        #[arg(long, default_value_t = 50 * 1024 * 1024)]
        max_size: usize,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Measure extraction and classification on a labelled directory (.eml + expected.json).
    Eval {
        #[command(flatten)]
        rules: RulesArg,
        #[arg(long)]
        json: bool,
        /// A directory with .eml files (under ap/ and ar/ for the mailbox role) and expected.json.
        dir: PathBuf,
    },
    /// Search threads: free text plus from: to: subject: category: invoice: amount: date: after: before: has: mailbox:
    #[command(after_long_help = deskmail::index::query::HELP)]
    Search {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
        /// Maximum number of threads.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Sort::Newest)]
        sort: Sort,
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        query: Vec<String>,
    },
    /// Print a message with its decision: category, fields, the rules that fired and why.
    Show {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
        /// Message id (a unique prefix is enough).
        id: String,
    },
    /// Print a thread: every message with its category and key fields.
    Thread {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
        /// Thread id (a unique prefix is enough).
        id: String,
    },
    /// Counts of what is stored.
    Stats {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Rule files: check them (and their examples) or test one message.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Run the daemon: IMAP mailboxes and drop folders from a config file, or (the embedded
    /// default, no config) a drop folder. SIGTERM/SIGINT stop it cleanly; SIGHUP reloads rules.
    Run {
        /// deskmail.toml: mailboxes, drop folders, data and rules directories.
        #[arg(long, env = "DESKMAIL_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory (store and index). Default: the config's `data`, else ./deskmail-data
        #[arg(long, env = "DESKMAIL_DATA")]
        data: Option<PathBuf>,
        /// Rule directory. Default: the config's `rules`, else ./rules
        #[arg(long, env = "DESKMAIL_RULES")]
        rules: Option<PathBuf>,
        /// Without a config: the drop folder to watch. Default: DATA/drop
        #[arg(long, env = "DESKMAIL_DROP")]
        drop: Option<PathBuf>,
        /// Without a config: seconds between scans of the drop folder.
        #[arg(long, default_value_t = 2)]
        interval: u64,
        /// Sync every source once, print a summary and exit (non-zero if a source failed).
        #[arg(long)]
        once: bool,
        /// With --once: print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// With --once: the time the dunning cadence sees (RFC 3339, e.g. 2026-12-01T10:00:00Z),
        /// to replay or rehearse a day. Everything else uses the real clock.
        #[arg(long, requires = "once")]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Check a deskmail.toml: every problem at once as path:line: message.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Accounts-receivable invoices from the ERP.
    Invoices {
        #[command(subcommand)]
        command: InvoicesCommand,
    },
    /// Payment reminders: what the cadence would send, and why.
    Reminders {
        #[command(subcommand)]
        command: RemindersCommand,
    },
    /// The outbox: automatic replies and their state (queued, sending, sent, failed, uncertain).
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The review queue: messages a person must check (doubtful values, flags, the vendor guard).
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// The vendor registry: names, VAT IDs, IBANs and domains learnt from invoices.
    Vendors {
        #[command(subcommand)]
        command: VendorsCommand,
    },
    /// API tokens: create (shown once, stored as a hash), list, revoke.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log: verify that no record was edited, removed or reordered.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Serve the JSON API (plain HTTP only on loopback; HTTPS with --tls-cert/--tls-key).
    Serve {
        #[command(flatten)]
        data: DataArg,
        /// Rule directory for the rule dry-run (POST /api/rules/test).
        #[arg(long, env = "DESKMAIL_RULES", default_value = "rules")]
        rules: PathBuf,
        /// deskmail.toml whose [retention] policy /api/retention and purge use.
        #[arg(long, env = "DESKMAIL_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on, e.g. 127.0.0.1:8025 (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8025")]
        listen: std::net::SocketAddr,
        /// PEM certificate chain for HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key for HTTPS.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Verify client certificates against this CA (mTLS); register one with
        /// `deskmail token create --client-cert`.
        #[arg(long, requires = "tls_cert")]
        client_ca: Option<PathBuf>,
        /// Failed authentications per client address per minute before it gets 429.
        #[arg(long, default_value_t = deskmail::api::AUTH_FAILURES_ALLOWED)]
        auth_failures_per_minute: u32,
    },
    /// Data-protection export: everything held about an address, as a tar (JSON + .eml files).
    Export {
        #[command(flatten)]
        data: DataArg,
        /// Where the archive goes.
        #[arg(long, short)]
        out: PathBuf,
        email: String,
    },
    /// Data-protection erasure: remove everything held about an address (invoice records stay,
    /// pseudonymised).
    Erase {
        #[command(flatten)]
        data: DataArg,
        email: String,
    },
    /// Dispose of mail past its retention period ([retention] in the config); holds are kept.
    Purge {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        config: PathBuf,
        /// Only report what would go.
        #[arg(long)]
        dry_run: bool,
    },
    /// Put a thread on legal hold (or --release it): retention never disposes of it.
    Hold {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        release: bool,
        thread: String,
    },
    /// Health of each mailbox: connected, last sync, messages stored, last error.
    Status {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the store (also repairs a damaged or outdated index).
    Reindex {
        #[command(flatten)]
        data: DataArg,
    },
    /// Measure throughput and memory.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate every rule file and run every example; errors as path:line: message. Reply
    /// actions are checked against the templates (a missing template or variable is an error).
    Check {
        #[command(flatten)]
        rules: RulesArg,
        /// Reply templates directory.
        #[arg(long, env = "DESKMAIL_TEMPLATES", default_value = "templates")]
        templates: PathBuf,
    },
    /// Show what the rules make of one message, without storing anything.
    Test {
        #[command(flatten)]
        rules: RulesArg,
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints it once, as the last word of the output.
    Create {
        #[command(flatten)]
        data: DataArg,
        /// admin, agent, auditor or integration.
        #[arg(long)]
        role: deskmail::access::Role,
        #[arg(long)]
        name: String,
        /// Register this client certificate (PEM) instead of making a token: a service that
        /// presents it over mTLS is this caller.
        #[arg(long)]
        client_cert: Option<PathBuf>,
    },
    /// List tokens (names, roles, dates; never the tokens).
    List {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Revoke every live token with this name.
    Revoke {
        #[command(flatten)]
        data: DataArg,
        name: String,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Import open receivables from a CSV export (columns: invoice_number, customer,
    /// customer_email, amount, currency, issue_date, due_date[, status][, timezone]).
    Import {
        #[command(flatten)]
        data: DataArg,
        file: PathBuf,
    },
    /// List imported receivables with their status.
    List {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Set an invoice's status by hand: reopen a disputed invoice, or mark one paid.
    Status {
        #[command(flatten)]
        data: DataArg,
        invoice_number: String,
        #[arg(value_parser = ["open", "paid", "disputed"])]
        status: String,
    },
}

#[derive(Subcommand)]
enum RemindersCommand {
    /// List the reminders the [dunning] cadence would send on a day, without sending.
    Preview {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        config: PathBuf,
        /// The day (YYYY-MM-DD); default today.
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Open items with their reasons (and counts per reason); --all includes decided ones.
    List {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One item: why, every field beside the text it came from, the guard's old and new details.
    Show {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
        id: String,
    },
    /// The values are right: release what waited (replies, receivable updates).
    Confirm {
        #[command(flatten)]
        data: DataArg,
        /// The version you reviewed (refused if someone changed it since).
        #[arg(long)]
        version: Option<u32>,
        id: String,
    },
    /// Correct fields (field=value ...); the originals are kept for the audit.
    Correct {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        version: Option<u32>,
        id: String,
        #[arg(required = true, num_args = 1..)]
        fields: Vec<String>,
    },
    /// Not an invoice to act on (a fraud attempt, junk): what waited is cancelled.
    Reject {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        note: Option<String>,
        id: String,
    },
    /// Confirmed and corrected messages since DATE as rule examples: .eml files and examples.toml.
    Export {
        #[command(flatten)]
        data: DataArg,
        /// YYYY-MM-DD
        #[arg(long)]
        since: chrono::NaiveDate,
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum VendorsCommand {
    List {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// A vendor by id, VAT ID, IBAN, domain or name.
    Show {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
        key: String,
    },
    /// Confirm an IBAN for a vendor (after checking it with them by phone).
    ConfirmIban {
        #[command(flatten)]
        data: DataArg,
        key: String,
        iban: String,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Every outbound message with its state and the server's last answer.
    List {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed or uncertain message again (check an uncertain one was not delivered).
    Retry {
        #[command(flatten)]
        data: DataArg,
        id: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exit 0 if intact, 1 naming the first bad record.
    Verify {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Build everything `run` would start with from the file (rules, reply and reminder
    /// templates, transport, DKIM key, CA and TLS files) without starting it; exit 1 with every
    /// problem listed if there is any.
    Check {
        file: PathBuf,
        /// Rule directory. Default: the config's `rules`, else ./rules
        #[arg(long, env = "DESKMAIL_RULES")]
        rules: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Parse-only and full-pipeline ingest of a maildir (or any ingest path) into a fresh data dir.
    Ingest {
        #[command(flatten)]
        rules: RulesArg,
        /// Where the fresh data dir goes (removed afterwards). Default: a temp dir.
        #[arg(long)]
        scratch: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        path: PathBuf,
    },
    /// Per-document cost of reading invoices: XML e-invoices, PDF text with and without its
    /// layout, a hybrid's embedded XML, the generic extractor on an .eml.
    Documents {
        #[arg(long, default_value_t = 200)]
        runs: usize,
        #[arg(long)]
        json: bool,
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
    },
    /// CLI search latency: run the search command N times as separate processes.
    Search {
        #[command(flatten)]
        data: DataArg,
        #[arg(long, default_value_t = 200)]
        runs: usize,
        #[arg(required = true, num_args = 1..)]
        queries: Vec<String>,
    },
}

#[derive(Copy, Clone, ValueEnum)]
enum Sort {
    Newest,
    Relevance,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        // A config with mistakes: every problem as path:line: message, exit 1 (like rules check).
        Err(e) if e.downcast_ref::<deskmail::config::ConfigErrors>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Load a config; its problems become an error `main` prints as a list and exits 1 on.
fn load_config(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // pdf-extract logs an ERROR for every encrypted PDF; deskmail reports that per attachment.
    let filter = EnvFilter::try_from_env("DESKMAIL_LOG").unwrap_or_else(|_| {
        EnvFilter::new(format!("{},pdf_extract=off,lopdf=off", default_log_level()))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn load_rules(dir: &Path) -> Result<RuleSet> {
    RuleSet::load_dir(dir).map_err(|e| anyhow!("the rule files have errors:\n{e}"))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest {
            data,
            rules,
            json,
            mailbox,
            role,
            max_size,
            paths,
        } => {
            let rules = Arc::new(load_rules(&rules.rules)?);
            let limits = ParseLimits {
                max_message_bytes: max_size,
                ..ParseLimits::default()
            };
            let pipeline = Pipeline::open(&DataDir::new(&data.data), rules, limits)
                .context("cannot open the data directory")?;
            let files = deskmail::source::files::discover(&paths)?;
            let bar = progress_bar();
            let on_progress = |n: u64| {
                if let Some(b) = &bar {
                    b.set_position(n);
                }
            };
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            let summary = deskmail::intake::ingest(
                Arc::new(pipeline),
                raw_mail_from_files(files, mailbox, role),
                workers,
                &on_progress,
            )?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                for r in &summary.rejections {
                    eprintln!("rejected {}: {}", r.path, r.reason);
                }
                let flagged: String = summary
                    .flagged
                    .iter()
                    .map(|(f, n)| format!(", {n} {}", f.replace('_', " ")))
                    .collect();
                println!(
                    "ingested {}, duplicates {}, rejected {}{} in {:.2}s ({:.0} msg/s)",
                    summary.ingested,
                    summary.duplicates,
                    summary.rejected,
                    flagged,
                    summary.seconds,
                    (summary.ingested + summary.duplicates + summary.rejected) as f64
                        / summary.seconds.max(1e-9)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            data,
            json,
            limit,
            sort,
            query,
        } => {
            let index = MailIndex::open_read_only(&DataDir::new(&data.data).index()).with_context(
                || {
                    format!(
                        "no index in {} (run `deskmail ingest` first)",
                        data.data.display()
                    )
                },
            )?;
            let q = query.join(" ");
            let opts = SearchOptions {
                limit,
                sort: match sort {
                    Sort::Newest => SortOrder::Newest,
                    Sort::Relevance => SortOrder::Relevance,
                },
            };
            let results = match index.search(&q, &opts) {
                Ok(r) => r,
                Err(deskmail::index::SearchError::Query(e)) => {
                    eprintln!(
                        "error: bad query: {e}\n  {q}\n  {}^",
                        " ".repeat(e.position)
                    );
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            };
            if json {
                println!("{}", serde_json::to_string(&results)?);
            } else {
                print_search(&results);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { data, json, id } => print_view(&data.data, View::Show { id, json }),
        Command::Thread { data, json, id } => print_view(&data.data, View::Thread { id, json }),
        Command::Stats { data, json } => print_view(&data.data, View::Stats { json }),
        Command::Rules {
            command: RulesCommand::Check { rules, templates },
        } => {
            let set = match RuleSet::load_dir(&rules.rules) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    eprintln!("{} error(s) in {}", e.errors.len(), rules.rules.display());
                    return Ok(ExitCode::from(1));
                }
            };
            let outcomes = set.run_examples(&ParseLimits::default());
            let failed: Vec<_> = outcomes
                .iter()
                .filter(|o| !o.mismatches.is_empty())
                .collect();
            for o in &failed {
                for m in &o.mismatches {
                    eprintln!("{}:{}: rule {:?}: {m}", o.path, o.line, o.rule);
                }
            }
            let template_errors = match deskmail::outbound::Templates::load(&templates) {
                Ok(t) => t.check(&set).into_iter().map(|e| e.to_string()).collect(),
                Err(e) => vec![e.to_string()],
            };
            for e in &template_errors {
                eprintln!("{e}");
            }
            if !template_errors.is_empty() {
                eprintln!("{} reply template problem(s)", template_errors.len());
                return Ok(ExitCode::from(1));
            }
            if failed.is_empty() {
                println!(
                    "rules OK: {} rules in {} files, {} examples passed (rules version {})",
                    set.rule_count(),
                    set.files().len(),
                    outcomes.len(),
                    set.version()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} of {} examples failed", failed.len(), outcomes.len());
                Ok(ExitCode::from(1))
            }
        }
        Command::Rules {
            command: RulesCommand::Test { rules, json, file },
        } => {
            let set = load_rules(&rules.rules)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let raw = RawMail {
                role: None,
                mailbox: "test".into(),
                origin: file.display().to_string(),
                bytes,
            };
            let msg = parse(&raw, &ParseLimits::default())
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let d = set.evaluate(&msg);
            if json {
                let v = deskmail::views::decision_json(&d);
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", deskmail::views::decision_text(&d));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            config,
            data,
            rules,
            drop,
            interval,
            once,
            json,
            now,
        } => {
            let mut prepared = match deskmail::daemon::preflight(config.as_deref(), data, rules) {
                Ok(p) => p,
                Err(problems) => {
                    for p in &problems.0 {
                        eprintln!("{p}");
                    }
                    eprintln!(
                        "deskmail run: {} problem(s); nothing started",
                        problems.0.len()
                    );
                    return Ok(ExitCode::from(1));
                }
            };
            let config = &mut prepared.config;
            if config.mailboxes.is_empty() && config.drop_folders.is_empty() {
                // The embedded default: a drop folder in the data directory.
                let dir = drop.unwrap_or_else(|| prepared.data.join("drop"));
                config
                    .drop_folders
                    .push(deskmail::config::DropFolderConfig {
                        name: "drop".into(),
                        path: dir,
                        role: None,
                        interval_secs: interval.max(1),
                    });
            }
            for d in &config.drop_folders {
                std::fs::create_dir_all(&d.path)
                    .with_context(|| format!("cannot create drop folder {}", d.path.display()))?;
            }
            let pipeline = Arc::new(
                Pipeline::open(
                    &DataDir::new(&prepared.data),
                    Arc::clone(&prepared.rules),
                    ParseLimits::default(),
                )
                .context("cannot open the data directory")?,
            );
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            let opts = deskmail::daemon::DaemonOptions {
                prepared,
                once,
                workers,
                clock: now,
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let summary = rt.block_on(deskmail::daemon::run(pipeline, opts, shutdown_signal()))?;
            if once {
                let total = summary.stored + summary.duplicates + summary.rejected;
                if json {
                    println!("{}", serde_json::to_string(&summary)?);
                } else {
                    println!(
                        "stored {}, duplicates {}, rejected {} in {:.2}s ({:.0} msg/s)",
                        summary.stored,
                        summary.duplicates,
                        summary.rejected,
                        summary.seconds,
                        total as f64 / summary.seconds.max(1e-9)
                    );
                    if let Some(d) = &summary.dunning {
                        println!(
                            "queued {} reminders, {} dispute notices",
                            d.reminders, d.notices
                        );
                    }
                    if let Some(s) = &summary.sent {
                        println!(
                            "sent {}, failed {}, retrying {}",
                            s.sent, s.failed, s.retrying
                        );
                    }
                    for f in &summary.failures {
                        eprintln!("failed: {f}");
                    }
                }
                if !summary.failures.is_empty() {
                    return Ok(ExitCode::from(1));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Check { file, rules },
        } => match deskmail::daemon::preflight(Some(&file), None, rules) {
            Ok(prepared) => {
                println!(
                    "{}: OK ({} mailboxes, {} drop folders, {} rules)",
                    file.display(),
                    prepared.config.mailboxes.len(),
                    prepared.config.drop_folders.len(),
                    prepared.rules.rule_count()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for p in &problems.0 {
                    eprintln!("{p}");
                }
                eprintln!("{} problem(s) in {}", problems.0.len(), file.display());
                Ok(ExitCode::from(1))
            }
        },
        Command::Token { command } => token_command(command),
        Command::Invoices {
            command: InvoicesCommand::Import { data, file },
        } => match deskmail::receivables::import_csv(&file) {
            Ok(receivables) => {
                let request = View::InvoicesImport {
                    receivables,
                    source: file.display().to_string(),
                    actor: cli_actor(),
                };
                print!("{}", store_request(&data.data, request, true)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} problem(s); nothing imported", errors.len());
                Ok(ExitCode::from(1))
            }
        },
        Command::Invoices {
            command: InvoicesCommand::List { data, json },
        } => print_view(&data.data, View::Invoices { json }),
        Command::Invoices {
            command:
                InvoicesCommand::Status {
                    data,
                    invoice_number,
                    status,
                },
        } => {
            let request = View::InvoiceStatus {
                number: invoice_number,
                status,
                actor: cli_actor(),
            };
            print_view(&data.data, request)
        }
        Command::Reminders {
            command:
                RemindersCommand::Preview {
                    data,
                    config,
                    on,
                    json,
                },
        } => {
            let cadence = load_config(&config)?
                .dunning
                .ok_or_else(|| anyhow!("{} has no [dunning] section", config.display()))?;
            let request = View::Reminders {
                cadence: Box::new(cadence),
                day: on.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                json,
            };
            print_view(&data.data, request)
        }
        Command::Outbox {
            command: OutboxCommand::List { data, json },
        } => print_view(&data.data, View::Outbox { json }),
        Command::Review { command } => review_command(command),
        Command::Vendors { command } => match command {
            VendorsCommand::List { data, json } => print_view(&data.data, View::Vendors { json }),
            VendorsCommand::Show { data, json, key } => {
                print_view(&data.data, View::VendorShow { key, json })
            }
            VendorsCommand::ConfirmIban { data, key, iban } => print_view(
                &data.data,
                View::VendorConfirmIban {
                    key,
                    iban,
                    actor: cli_actor(),
                },
            ),
        },
        Command::Outbox {
            command: OutboxCommand::Retry { data, id },
        } => {
            let request = View::OutboxRetry {
                id,
                actor: cli_actor(),
            };
            print_view(&data.data, request)
        }
        Command::Export { data, out, email } => {
            let store = open_store(&data.data, false)?;
            let (tar, n) = deskmail::privacy::export(&store, &email)?;
            std::fs::write(&out, tar).with_context(|| format!("cannot write {}", out.display()))?;
            cli_audit(&store, "export", &email)?;
            println!("exported {n} messages to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase { data, email } => {
            let store = open_store(&data.data, false)?;
            let index = MailIndex::open_or_create(&DataDir::new(&data.data).index())?;
            let report = deskmail::privacy::erase_address(&store, &index, &email)?;
            cli_audit(&store, "erase", &email)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge {
            data,
            config,
            dry_run,
        } => {
            let policy = load_config(&config)?.retention;
            let store = open_store(&data.data, false)?;
            let now = chrono::Utc::now();
            if dry_run {
                let (_, status) = deskmail::privacy::retention_due(&store, &policy, now)?;
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                let index = MailIndex::open_or_create(&DataDir::new(&data.data).index())?;
                let report = deskmail::privacy::purge(&store, &index, &policy, now)?;
                deskmail::audit::record_admin_action(
                    &store,
                    &cli_actor(),
                    Role::Admin,
                    "purge",
                    report.message_ids.iter().map(|m| &m.0),
                    &format!("{} erased", report.erased),
                )?;
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Hold {
            data,
            release,
            thread,
        } => {
            let store = open_store(&data.data, false)?;
            let tid = store
                .resolve_thread_id(&thread)?
                .ok_or_else(|| anyhow!("no single thread with an id starting {thread:?}"))?;
            store.set_hold(&tid, !release, &cli_actor())?;
            cli_audit(
                &store,
                if release { "hold release" } else { "hold" },
                &tid.0,
            )?;
            println!(
                "thread {tid}: {}",
                if release { "hold released" } else { "on hold" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { data },
        } => {
            let store = open_store(&data.data, false)?;
            match store.audit_verify()? {
                Ok(n) => {
                    println!("audit log intact: {n} records");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("audit log broken: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Serve {
            data,
            rules,
            config,
            listen,
            tls_cert,
            tls_key,
            client_ca,
            auth_failures_per_minute,
        } => {
            let store = Arc::new(open_store(&data.data, false)?);
            // Not read-only: erasure and purge remove documents (no daemon holds the writer,
            // since none holds the store).
            let index = MailIndex::open_or_create(&DataDir::new(&data.data).index())
                .context("the search index (run `deskmail reindex` to rebuild it)")?;
            let retention = match &config {
                Some(path) => load_config(path)?.retention,
                None => Default::default(),
            };
            let rules = Arc::new(load_rules(&rules)?);
            let index = Arc::new(index);
            let app = deskmail::api::router(deskmail::api::ApiState::new(
                store,
                Arc::clone(&index),
                Some(Arc::new(std::sync::RwLock::new(rules))),
                retention,
                index,
                auth_failures_per_minute,
            ));
            let tls = tls_cert
                .zip(tls_key)
                .map(|(cert, key)| deskmail::api::server::TlsFiles {
                    cert,
                    key,
                    client_ca,
                });
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(deskmail::api::server::serve(
                app,
                listen,
                tls,
                shutdown_signal(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { data, json } => {
            let report =
                deskmail::daemon::health::read_status(&data.data).map_err(|e| anyhow!(e))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report.mailboxes)?);
            } else {
                println!(
                    "daemon: {}{}",
                    if report.running {
                        "running"
                    } else {
                        "not running"
                    },
                    if report.running {
                        format!(" (pid {}, rules {})", report.pid, report.rules_version)
                    } else {
                        String::new()
                    }
                );
                for m in &report.mailboxes {
                    println!(
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
                    );
                }
                if report.mailboxes.is_empty() {
                    println!("no mailboxes (start `deskmail run --config FILE`)");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex { data } => {
            let n = deskmail::intake::rebuild_index(
                &DataDir::new(&data.data),
                &ParseLimits::default(),
            )?;
            println!("reindexed {n} messages");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Ingest {
                    rules,
                    scratch,
                    json,
                    path,
                },
        } => {
            let rules = Arc::new(load_rules(&rules.rules)?);
            let report = bench::ingest(&path, rules, scratch.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { rules, json, dir } => {
            let rules = load_rules(&rules.rules)?;
            let report = deskmail::eval::run(&dir, &rules, &ParseLimits::default())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command: BenchCommand::Documents { runs, json, files },
        } => {
            let report = bench::documents(&files, runs)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Search {
                    data,
                    runs,
                    queries,
                },
        } => {
            let report = bench::cli_search(&data.data, &queries, runs)?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Open an existing store (`create`: or make a new one, e.g. tokens before the first ingest).
fn open_store(data: &Path, create: bool) -> Result<Store> {
    let dir = DataDir::new(data).store();
    if !create && !dir.exists() {
        bail!(
            "no store in {} (run `deskmail ingest` first)",
            data.display()
        );
    }
    Store::open(&dir, deskmail::pipeline::STORE_CACHE_BYTES)
        .with_context(|| format!("cannot open the store in {}", data.display()))
}

/// Who runs a local admin command, for the audit log.
fn review_command(command: ReviewCommand) -> Result<ExitCode> {
    use deskmail::views::Decide;
    let decide = |data: DataArg, id: String, decide: Decide, version: Option<u32>| {
        print_view(
            &data.data,
            View::ReviewDecide {
                id,
                decide,
                version,
                actor: cli_actor(),
            },
        )
    };
    match command {
        ReviewCommand::List { data, all, json } => {
            print_view(&data.data, View::ReviewList { all, json })
        }
        ReviewCommand::Show { data, json, id } => {
            print_view(&data.data, View::ReviewShow { id, json })
        }
        ReviewCommand::Confirm { data, version, id } => decide(data, id, Decide::Confirm, version),
        ReviewCommand::Correct {
            data,
            version,
            id,
            fields,
        } => decide(data, id, Decide::Correct { fields }, version),
        ReviewCommand::Reject {
            data,
            version,
            note,
            id,
        } => decide(data, id, Decide::Reject { note }, version),
        ReviewCommand::Export { data, since, dir } => {
            let dir = std::path::absolute(&dir)?;
            print_view(&data.data, View::ReviewExport { since, dir })
        }
    }
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into())
    )
}

/// Record a local admin command; a person's address is kept only as a pseudonym.
fn cli_audit(store: &Store, action: &str, target: &str) -> Result<()> {
    deskmail::audit::record_admin_action(store, &cli_actor(), Role::Admin, action, [target], "ok")?;
    Ok(())
}

fn token_command(command: TokenCommand) -> Result<ExitCode> {
    use deskmail::access;
    match command {
        TokenCommand::Create {
            data,
            role,
            name,
            client_cert: Some(pem),
        } => {
            use rustls_pki_types::pem::PemObject;
            let store = open_store(&data.data, true)?;
            let der = rustls_pki_types::CertificateDer::from_pem_file(&pem)
                .map_err(|e| anyhow!("{}: {e}", pem.display()))?;
            let key =
                access::register_client_cert(&store, der.as_ref(), &name, role, &cli_actor())?;
            println!("registered client certificate {key} as {role} {name:?}");
        }
        TokenCommand::Create {
            data,
            role,
            name,
            client_cert: None,
        } => {
            let store = open_store(&data.data, true)?;
            let new = access::create_token(&store, &name, role, &cli_actor())?;
            println!("created {role} token {name:?} (shown once; stored only as a hash):");
            println!("{}", new.token);
        }
        TokenCommand::List { data, json } => {
            let store = open_store(&data.data, false)?;
            let mut tokens: Vec<_> = store.tokens()?.into_iter().map(|(_, r)| r).collect();
            tokens.sort_by_key(|t| t.created_at);
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                for t in &tokens {
                    println!(
                        "{:<20} {:<12} created {}{}",
                        t.name,
                        t.role,
                        t.created_at.format("%Y-%m-%d %H:%M"),
                        t.revoked_at.map_or(String::new(), |r| format!(
                            "  revoked {}",
                            r.format("%Y-%m-%d %H:%M")
                        ))
                    );
                }
            }
        }
        TokenCommand::Revoke { data, name } => {
            let store = open_store(&data.data, false)?;
            let n = access::revoke_tokens(&store, &name, &cli_actor())?;
            if n == 0 {
                eprintln!("no live token named {name:?}");
                return Ok(ExitCode::from(1));
            }
            println!("revoked {n} token(s) named {name:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Render a store view (or make a desk change): directly, or through the running daemon that
/// holds the store.
/// Print what a view renders (from the store, or through the daemon holding it).
fn print_view(data: &Path, view: View) -> Result<ExitCode> {
    print!("{}", store_request(data, view, false)?);
    Ok(ExitCode::SUCCESS)
}

/// [`print_view`]; `create`: a data directory without a store gets one (an import).
fn store_request(data: &Path, view: View, create: bool) -> Result<String> {
    let dir = DataDir::new(data).store();
    if !create && !dir.exists() {
        bail!(
            "no store in {} (run `deskmail ingest` first)",
            data.display()
        );
    }
    match Store::open(&dir, deskmail::pipeline::STORE_CACHE_BYTES) {
        Ok(store) => {
            let index = deskmail::privacy::IndexDir(DataDir::new(data).index());
            Ok(control::render(&store, &index, &view)?)
        }
        Err(StoreError::Locked { .. }) => control::ask(&control::socket_path(data), &view)
            .map_err(|e| anyhow!("{e} (the store is held by a running deskmail daemon)")),
        Err(e) => Err(e.into()),
    }
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} messages  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

fn print_search(results: &deskmail::index::SearchResults) {
    let color = std::io::stdout().is_terminal();
    println!("{} threads", results.total_threads);
    for t in &results.threads {
        let date = t
            .last_date
            .as_deref()
            .map_or("(no date)", |d| d.get(..10).unwrap_or(d));
        println!(
            "{}  {:<26} {:>3} msg  {}  {}",
            date, t.category, t.message_count, t.thread_id, t.subject
        );
        let mut snippet = String::new();
        let mut last = 0;
        for &(s, e) in &t.highlights {
            if s < last
                || e > t.snippet.len()
                || !t.snippet.is_char_boundary(s)
                || !t.snippet.is_char_boundary(e)
            {
                continue;
            }
            snippet.push_str(&t.snippet[last..s]);
            if color {
                snippet.push_str(&format!("\x1b[1;33m{}\x1b[0m", &t.snippet[s..e]));
            } else {
                snippet.push_str(&format!("[{}]", &t.snippet[s..e]));
            }
            last = e;
        }
        snippet.push_str(&t.snippet[last.min(t.snippet.len())..]);
        let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        if !snippet.is_empty() {
            println!("    {snippet}");
        }
    }
}

/// Quiet for one-shot commands (they print their own results); informative for the daemon.
fn default_log_level() -> &'static str {
    if std::env::args().nth(1).as_deref() == Some("run") {
        "info"
    } else {
        "error"
    }
}
