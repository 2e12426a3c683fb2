//! The command line's shape: every subcommand, flag and help text (clap derive). The larger
//! subcommands take an `...Args` struct, so `main` hands them on whole.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "deskmail",
    version,
    about = "Email-workflow automation for accounting desks"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr: `text` for people, `json` (one object per line, with the fields of
    /// every enclosing span) for log shippers. `DESKMAIL_LOG` sets the filter as before.
    #[arg(long, global = true, env = "DESKMAIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
pub struct DataArg {
    /// Data directory (store and index). Default: ./deskmail-data
    #[arg(long, env = "DESKMAIL_DATA", default_value = "deskmail-data")]
    pub data: PathBuf,
}

#[derive(Args, Clone)]
pub struct RulesArg {
    /// Directory of rule files (*.toml). Default: the rules built into deskmail (write them out
    /// to edit with `deskmail rules export DIR`).
    #[arg(long, env = "DESKMAIL_RULES")]
    pub rules: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Ingest .eml files, maildir folders, mbox files and directory trees of them.
    Ingest(IngestArgs),
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
    Search(SearchArgs),
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
    Run(RunArgs),
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
    /// Encryption at rest: where the master key comes from, data keys made and destroyed, and
    /// master key rotation.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Serve the JSON API (plain HTTP only on loopback; HTTPS with --tls-cert/--tls-key).
    Serve(ServeArgs),
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
    /// Rewrite the store compactly (the daemon stopped): every record copied in key order into
    /// a fresh database that replaces the old one. The key-value files shrink (they keep
    /// old versions of what changed), and those old pages go with it.
    Compact {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Back up the store, blobs and audit anchors to one archive (also while the daemon runs).
    Backup {
        #[command(flatten)]
        data: DataArg,
        /// The archive to write (replaced atomically if it exists).
        out: PathBuf,
    },
    /// Restore an archive from `deskmail backup` into a new data directory; rebuilds the index.
    Restore {
        /// The new data directory (must not exist, or be empty).
        #[arg(long)]
        data: PathBuf,
        archive: PathBuf,
    },
    /// Measure throughput and memory.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

impl Command {
    /// A command that runs for long and allocates much (an ingest, the daemon, a restore): the
    /// engine runs it with glibc's malloc thresholds fixed (`deskmail::exe::MALLOC_TUNABLES`).
    pub fn runs_long(&self) -> bool {
        matches!(
            self,
            Command::Ingest(_)
                | Command::Reindex { .. }
                | Command::Compact { .. }
                | Command::Restore { .. }
                | Command::Bench { .. }
                | Command::Run(_)
                | Command::Serve(_)
        )
    }
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Validate every rule file and run every example; errors as path:line: message. Reply
    /// actions are checked against the templates (a missing template or variable is an error).
    Check {
        #[command(flatten)]
        rules: RulesArg,
        /// Reply templates directory. Default: the templates built into deskmail.
        #[arg(long, env = "DESKMAIL_TEMPLATES")]
        templates: Option<PathBuf>,
    },
    /// Show what the rules make of one message, without storing anything.
    Test {
        #[command(flatten)]
        rules: RulesArg,
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Write the built-in rules (with the example messages they cite) to DIR/rules and the
    /// built-in reply and reminder templates to DIR/templates, to edit and then use with
    /// `--rules DIR/rules` and `[outbound] templates`. Never overwrites a file.
    Export { dir: PathBuf },
}

#[derive(Subcommand)]
pub enum TokenCommand {
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
pub enum InvoicesCommand {
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
pub enum RemindersCommand {
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
pub enum ReviewCommand {
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
pub enum VendorsCommand {
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
pub enum OutboxCommand {
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
pub enum AuditCommand {
    /// Check the hash chain; exit 0 if intact, 1 naming the first bad record.
    Verify {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// The master key's source and the keyring's counts (data keys, destroyed by erasure).
    Status {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Wrap every data key under a new master key (the records are not rewritten). Stop the
    /// daemon first; afterwards start everything with DESKMAIL_STORE_KEY_FILE=NEW_KEY_FILE.
    Rotate {
        #[command(flatten)]
        data: DataArg,
        /// The new master key: 64 hex digits (`openssl rand -hex 32`) or 32+ raw bytes.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Build everything `run` would start with from the file (rules, reply and reminder
    /// templates, transport, DKIM key, CA and TLS files) without starting it; exit 1 with every
    /// problem listed if there is any.
    Check {
        file: PathBuf,
        /// Rule directory. Default: the config's `rules`, else the built-in rules.
        #[arg(long, env = "DESKMAIL_RULES")]
        rules: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
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
    /// Where the store's bytes go: records, key and value bytes per key space, against the
    /// size of the key-value files and the blob log (a full scan).
    Store {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
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
pub enum Sort {
    Newest,
    Relevance,
}

#[derive(Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub rules: RulesArg,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Mailbox name recorded with each message (searchable as mailbox:NAME).
    #[arg(long, default_value = "files")]
    pub mailbox: String,
    /// The mailbox's role, ap or ar: rules can test it (`role = "ar"`).
    #[arg(long)]
    pub role: Option<deskmail::model::MailboxRole>,
    /// Messages larger than this many bytes are rejected.
    #[arg(long, default_value_t = 50 * 1024 * 1024)]
    pub max_size: usize,
    /// deskmail.toml whose [antivirus] section applies: each message is scanned by clamd first.
    #[arg(long, env = "DESKMAIL_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArg,
    #[arg(long)]
    pub json: bool,
    /// Maximum number of threads.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t = Sort::Newest)]
    pub sort: Sort,
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
    pub query: Vec<String>,
}

#[derive(Args)]
pub struct RunArgs {
    /// deskmail.toml: mailboxes, drop folders, data and rules directories.
    #[arg(long, env = "DESKMAIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (store and index). Default: the config's `data`, else ./deskmail-data
    #[arg(long, env = "DESKMAIL_DATA")]
    pub data: Option<PathBuf>,
    /// Rule directory. Default: the config's `rules`, else the built-in rules.
    #[arg(long, env = "DESKMAIL_RULES")]
    pub rules: Option<PathBuf>,
    /// Without a config: the drop folder to watch. Default: DATA/drop
    #[arg(long, env = "DESKMAIL_DROP")]
    pub drop: Option<PathBuf>,
    /// Without a config: seconds between scans of the drop folder.
    #[arg(long, default_value_t = 2)]
    pub interval: u64,
    /// Sync every source once, print a summary and exit (non-zero if a source failed).
    #[arg(long)]
    pub once: bool,
    /// With --once: print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// With --once: the time the dunning cadence sees (RFC 3339, e.g. 2026-12-01T10:00:00Z),
    /// to replay or rehearse a day. Everything else uses the real clock.
    #[arg(long, requires = "once")]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Rule directory for the rule dry-run (POST /api/rules/test). Default: the built-in rules.
    #[arg(long, env = "DESKMAIL_RULES")]
    pub rules: Option<PathBuf>,
    /// deskmail.toml whose [retention] policy /api/retention and purge use.
    #[arg(long, env = "DESKMAIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8025 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8025")]
    pub listen: std::net::SocketAddr,
    /// PEM certificate chain for HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Verify client certificates against this CA (mTLS); register one with
    /// `deskmail token create --client-cert`.
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Failed authentications per client address per minute before it gets 429.
    #[arg(long, default_value_t = deskmail::api::AUTH_FAILURES_ALLOWED)]
    pub auth_failures_per_minute: u32,
    /// A reverse proxy (address or network) whose X-Forwarded-For names the client; repeat
    /// for several.
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}
