//! Prometheus metrics: one process-wide registry, recorded where things happen, rendered as
//! Prometheus text (format 0.0.4) for `GET /metrics` (the API listener and `[metrics] listen`).
//!
//! Why `prometheus-client`: it is the Prometheus project's own Rust client, has no global
//! recorder to install, no HTTP server or push gateway of its own (nothing to disable), few
//! dependencies, and typed label sets. Its registry is built once here; the recording functions
//! below are the only way the rest of the crate touches it, so the names live in one place.
//!
//! Labels are bounded: mailbox and folder names come from the config, rejection reasons from a
//! fixed set, categories and rule names from the rule files, routes are route templates. Never a
//! message id, an address or a subject.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Every metric deskmail exposes.
pub struct Metrics {
    registry: Registry,
    ingested: Family<Labels, Counter>,
    rejected: Family<Labels, Counter>,
    duplicates: Counter,
    source_last_sync: Family<Labels, Gauge>,
    source_connected: Family<Labels, Gauge>,
    source_errors: Family<Labels, Counter>,
    source_lag: Family<Labels, Gauge>,
    batch_seconds: Histogram,
    outbox_records: Family<Labels, Gauge>,
    send_attempts: Family<Labels, Counter>,
    send_seconds: Histogram,
    reminders_planned: Counter,
    reminders_sent: Counter,
    review_depth: Gauge,
    decisions: Family<Labels, Counter>,
    rules_version: Family<Labels, Gauge>,
    rules_reload_failures: Counter,
    api_requests: Family<Labels, Counter>,
    api_seconds: HistogramFamily,
    store_bytes: Gauge,
    index_bytes: Gauge,
    audit_head: Gauge,
    antivirus_scans: Family<Labels, Counter>,
}

/// The `reason` of `deskmail_messages_rejected_total`.
pub const REJECTION_REASONS: [&str; 5] =
    ["empty", "too_large", "not_mail", "parser_failed", "lost"];
/// The `result` of `deskmail_send_attempts_total`.
pub const SEND_RESULTS: [&str; 4] = ["2xx", "4xx", "5xx", "error"];
/// The `result` of `deskmail_antivirus_scans_total`.
pub const SCAN_RESULTS: [&str; 4] = ["clean", "infected", "too_large", "error"];

/// Latency buckets from 1 ms to ~33 s (doubling).
fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            ingested: Family::default(),
            rejected: Family::default(),
            duplicates: Counter::default(),
            source_last_sync: Family::default(),
            source_connected: Family::default(),
            source_errors: Family::default(),
            source_lag: Family::default(),
            batch_seconds: seconds_buckets(),
            outbox_records: Family::default(),
            send_attempts: Family::default(),
            send_seconds: seconds_buckets(),
            reminders_planned: Counter::default(),
            reminders_sent: Counter::default(),
            review_depth: Gauge::default(),
            decisions: Family::default(),
            rules_version: Family::default(),
            rules_reload_failures: Counter::default(),
            api_requests: Family::default(),
            api_seconds: Family::new_with_constructor(seconds_buckets as fn() -> Histogram),
            store_bytes: Gauge::default(),
            index_bytes: Gauge::default(),
            audit_head: Gauge::default(),
            antivirus_scans: Family::default(),
        };
        // Counters are registered without `_total`: the encoder adds it. The text lists them in
        // this order.
        m.register_intake(&mut registry);
        m.register_outbound(&mut registry);
        m.register_service(&mut registry);
        // Series of the fixed label sets exist from the start, so a rate reads 0, not nothing
        // (a family without series is left out of the text).
        for reason in REJECTION_REASONS {
            let _ = m.rejected.get_or_create(&labels(&[("reason", reason)]));
        }
        for result in SCAN_RESULTS {
            let _ = m
                .antivirus_scans
                .get_or_create(&labels(&[("result", result)]));
        }
        for result in SEND_RESULTS {
            let _ = m
                .send_attempts
                .get_or_create(&labels(&[("result", result)]));
        }
        Metrics { registry, ..m }
    }

    /// Messages stored, rejected and duplicated; the mail sources; the intake's batches.
    fn register_intake(&self, r: &mut Registry) {
        r.register(
            "deskmail_messages_ingested",
            "Messages stored, by mailbox",
            self.ingested.clone(),
        );
        r.register(
            "deskmail_messages_rejected",
            "Inputs rejected as not storable mail, by reason",
            self.rejected.clone(),
        );
        r.register(
            "deskmail_messages_duplicate",
            "Messages recognised as already stored",
            self.duplicates.clone(),
        );
        r.register(
            "deskmail_source_last_sync_timestamp_seconds",
            "When the source last completed a sync (Unix time)",
            self.source_last_sync.clone(),
        );
        r.register(
            "deskmail_source_connected",
            "1 while the source has a live connection",
            self.source_connected.clone(),
        );
        r.register(
            "deskmail_source_errors",
            "Source errors (each followed by a reconnect)",
            self.source_errors.clone(),
        );
        r.register(
            "deskmail_source_lag_messages",
            "Messages on the server found by the last search and not yet stored",
            self.source_lag.clone(),
        );
        r.register(
            "deskmail_intake_batch_seconds",
            "Time to commit one intake batch to the store",
            self.batch_seconds.clone(),
        );
    }

    /// The outbox and its sends, reminders, the review queue, decisions and the rules.
    fn register_outbound(&self, r: &mut Registry) {
        r.register(
            "deskmail_outbox_records",
            "Outbox records by state",
            self.outbox_records.clone(),
        );
        r.register(
            "deskmail_send_attempts",
            "Send attempts by result (2xx, 4xx, 5xx, error)",
            self.send_attempts.clone(),
        );
        r.register(
            "deskmail_send_seconds",
            "Time to hand one message to the transport",
            self.send_seconds.clone(),
        );
        r.register(
            "deskmail_reminders_planned",
            "Payment reminders queued by the dunning cadence",
            self.reminders_planned.clone(),
        );
        r.register(
            "deskmail_reminders_sent",
            "Payment reminders accepted by the transport",
            self.reminders_sent.clone(),
        );
        r.register(
            "deskmail_review_queue_depth",
            "Open review items",
            self.review_depth.clone(),
        );
        r.register(
            "deskmail_decisions",
            "Stored decisions by category and the rule that set it",
            self.decisions.clone(),
        );
        r.register(
            "deskmail_rules_version_info",
            "The active rule set's version (value always 1)",
            self.rules_version.clone(),
        );
        r.register(
            "deskmail_rules_reload_failures",
            "Rule reloads refused because the edited files have errors",
            self.rules_reload_failures.clone(),
        );
    }

    /// The API, the sizes of the store and the index, the audit log, the antivirus scans.
    fn register_service(&self, r: &mut Registry) {
        r.register(
            "deskmail_api_requests",
            "API requests by route template and status",
            self.api_requests.clone(),
        );
        r.register(
            "deskmail_api_request_seconds",
            "API request latency by route template",
            self.api_seconds.clone(),
        );
        r.register(
            "deskmail_store_bytes",
            "Size of the store on disk (key-value files and the blob log)",
            self.store_bytes.clone(),
        );
        r.register(
            "deskmail_index_bytes",
            "Size of the search index on disk",
            self.index_bytes.clone(),
        );
        r.register(
            "deskmail_audit_head_seq",
            "Sequence number of the newest audit record",
            self.audit_head.clone(),
        );
        r.register(
            "deskmail_antivirus_scans",
            "Messages scanned by clamd, by result (error: not scanned, the message waits)",
            self.antivirus_scans.clone(),
        );
    }
}

fn m() -> &'static Metrics {
    &METRICS
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// The whole registry as Prometheus text.
pub fn render() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_text::encode(&mut out, &m().registry);
    out
}

// ---- intake -----------------------------------------------------------------------------

pub fn message_ingested(mailbox: &str, category: &str, rule: Option<&str>) {
    m().ingested
        .get_or_create(&labels(&[("mailbox", mailbox)]))
        .inc();
    m().decisions
        .get_or_create(&labels(&[
            ("category", category),
            ("rule", rule.unwrap_or("none")),
        ]))
        .inc();
}

/// `reason` is one of a fixed set (see `intake::committer`).
pub fn message_rejected(reason: &'static str) {
    m().rejected
        .get_or_create(&labels(&[("reason", reason)]))
        .inc();
}

/// `result` is one of [`SCAN_RESULTS`].
pub fn antivirus_scan(result: &'static str) {
    m().antivirus_scans
        .get_or_create(&labels(&[("result", result)]))
        .inc();
}

pub fn message_duplicate() {
    m().duplicates.inc();
}

pub fn batch_committed(took: Duration) {
    m().batch_seconds.observe(took.as_secs_f64());
}

// ---- sources ----------------------------------------------------------------------------

fn source(mailbox: &str, folder: &str) -> Labels {
    labels(&[("mailbox", mailbox), ("folder", folder)])
}

/// A source the daemon watches: its connection and error series exist (0) from the start; its
/// last-sync timestamp only once it has synced (a 0 there would read as "50 years ago").
pub fn source_known(mailbox: &str, folder: &str) {
    let l = source(mailbox, folder);
    let _ = m().source_connected.get_or_create(&l);
    let _ = m().source_errors.get_or_create(&l);
    let _ = m().source_lag.get_or_create(&l);
}

pub fn source_connected(mailbox: &str, folder: &str, connected: bool) {
    m().source_connected
        .get_or_create(&source(mailbox, folder))
        .set(i64::from(connected));
}

pub fn source_synced(mailbox: &str, folder: &str, at_unix: i64) {
    m().source_last_sync
        .get_or_create(&source(mailbox, folder))
        .set(at_unix);
}

pub fn source_error(mailbox: &str, folder: &str) {
    m().source_errors
        .get_or_create(&source(mailbox, folder))
        .inc();
}

pub fn source_lag(mailbox: &str, folder: &str, messages: u64) {
    m().source_lag
        .get_or_create(&source(mailbox, folder))
        .set(i64::try_from(messages).unwrap_or(i64::MAX));
}

// ---- outbound ---------------------------------------------------------------------------

/// `result`: "2xx", "4xx", "5xx" or "error" (no answer from the server).
pub fn send_attempt(result: &'static str, took: Duration) {
    m().send_attempts
        .get_or_create(&labels(&[("result", result)]))
        .inc();
    m().send_seconds.observe(took.as_secs_f64());
}

pub fn reminders_planned(n: u64) {
    m().reminders_planned.inc_by(n);
}

pub fn reminder_sent() {
    m().reminders_sent.inc();
}

// ---- rules ------------------------------------------------------------------------------

pub fn rules_version(version: &str) {
    let family = &m().rules_version;
    let l = labels(&[("version", version)]);
    if family.get(&l).is_none() {
        family.clear();
    }
    family.get_or_create(&l).set(1);
}

pub fn rules_reload_failed() {
    m().rules_reload_failures.inc();
}

// ---- API --------------------------------------------------------------------------------

/// `route` is the matched route template, never the raw path.
pub fn api_request(route: &str, status: u16, took: Duration) {
    let r = m();
    r.api_requests
        .get_or_create(&labels(&[
            ("route", route),
            ("status", &status.to_string()),
        ]))
        .inc();
    r.api_seconds
        .get_or_create(&labels(&[("route", route)]))
        .observe(took.as_secs_f64());
}

// ---- read at scrape time ----------------------------------------------------------------

/// What the store says now, set just before rendering.
#[derive(Debug, Clone, Default)]
pub struct StoreGauges {
    /// (state, records); states not listed are set to 0 if they were seen before.
    pub outbox: Vec<(String, u64)>,
    pub review_open: u64,
    pub store_bytes: u64,
    pub index_bytes: u64,
    pub audit_head: u64,
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn set_store_gauges(g: &StoreGauges) {
    let r = m();
    r.outbox_records.clear();
    for (state, n) in &g.outbox {
        r.outbox_records
            .get_or_create(&vec![("state", state.clone())])
            .set(as_i64(*n));
    }
    r.review_depth.set(as_i64(g.review_open));
    r.store_bytes.set(as_i64(g.store_bytes));
    r.index_bytes.set(as_i64(g.index_bytes));
    r.audit_head.set(as_i64(g.audit_head));
}

/// Bytes of the regular files under `dir`, at most `max_entries` entries and 4 levels deep
/// (a data directory holds a few dozen files; the bound keeps a scrape cheap whatever happens).
pub fn dir_size(dir: &std::path::Path, max_entries: usize) -> u64 {
    fn walk(dir: &std::path::Path, depth: u32, budget: &mut usize) -> u64 {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut total = 0;
        for e in rd.flatten() {
            if *budget == 0 {
                break;
            }
            *budget -= 1;
            let Ok(t) = e.file_type() else { continue };
            if t.is_file() {
                // What the file takes on disk: a sparse file (the store engine's journal is
                // pre-sized to 64 MiB) counts its written blocks, not its length.
                total += e.metadata().map_or(0, |m| {
                    use std::os::unix::fs::MetadataExt;
                    m.len().min(m.blocks() * 512)
                });
            } else if t.is_dir() && depth < 4 {
                total += walk(&e.path(), depth + 1, budget);
            }
        }
        total
    }
    let mut budget = max_entries;
    walk(dir, 0, &mut budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_total_suffixes() {
        message_ingested("ap", "ap.invoice", Some("invoice-generic"));
        message_rejected("empty");
        api_request("/api/threads/{id}", 200, Duration::from_millis(3));
        rules_version("abc");
        rules_version("def");
        let text = render();
        assert!(text.contains("deskmail_messages_ingested_total{mailbox=\"ap\"}"));
        assert!(text.contains(
            "deskmail_decisions_total{category=\"ap.invoice\",rule=\"invoice-generic\"}"
        ));
        assert!(text.contains("deskmail_api_request_seconds_count{route=\"/api/threads/{id}\"}"));
        assert!(text.contains("deskmail_rules_version_info{version=\"def\"} 1"));
        assert!(!text.contains("version=\"abc\""));
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            assert!(line.starts_with("deskmail_"), "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
