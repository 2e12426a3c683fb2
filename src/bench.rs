//! `deskmail bench`: throughput and memory of the pipeline, latency of CLI search.
//! Benchmarks print figures; they never assert (speed is not a test).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::model::RawMail;
use crate::parse::{ParseLimits, parse};
use crate::pipeline::{DataDir, Pipeline, raw_mail_from_files};
use crate::rules::RuleSet;

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    pub messages: u64,
    pub megabytes: f64,
    pub seconds: f64,
    pub messages_per_second: f64,
    pub megabytes_per_second: f64,
    /// Peak resident set size during this phase (VmHWM, reset before the phase).
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub path: String,
    pub files: usize,
    pub threads: usize,
    pub phases: Vec<Phase>,
    pub stored: u64,
    pub rejected: u64,
    /// Where the full pipeline's committer spent its time.
    pub committer: crate::intake::StageTimings,
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "corpus {}: {} files, {} worker threads",
            self.path, self.files, self.threads
        )?;
        for p in &self.phases {
            writeln!(
                f,
                "{:<34} {:>6} msgs {:>8.1} MB {:>7.3} s {:>9.0} msg/s {:>7.1} MB/s  peak RSS {}",
                p.name,
                p.messages,
                p.megabytes,
                p.seconds,
                p.messages_per_second,
                p.megabytes_per_second,
                p.peak_rss_mib
                    .map_or("n/a".to_string(), |m| format!("{m:.1} MiB"))
            )?;
        }
        let c = &self.committer;
        writeln!(
            f,
            "full pipeline committer: store commit {:.3} s, index add {:.3} s, index commit {:.3} s, index finish {:.3} s, waiting for workers {:.3} s",
            c.store_commit, c.index_add, c.index_commit, c.index_finish, c.waiting
        )?;
        writeln!(f, "stored {}, rejected {}", self.stored, self.rejected)
    }
}

/// Reset the kernel's peak-RSS counter for this process (Linux ≥ 4.0); false if unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set size in MiB, from /proc/self/status.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn phase(name: &str, messages: u64, bytes: u64, elapsed: Duration, rss: Option<f64>) -> Phase {
    let s = elapsed.as_secs_f64().max(1e-9);
    let mb = bytes as f64 / 1e6;
    Phase {
        name: name.to_string(),
        messages,
        megabytes: mb,
        seconds: s,
        messages_per_second: messages as f64 / s,
        megabytes_per_second: mb / s,
        peak_rss_mib: rss,
    }
}

/// Full pipeline (streaming from disk into a fresh data dir: parse, rules, store, tantivy on
/// disk), then parse-only and parse+rules over the same messages held in memory.
pub fn ingest(
    path: &Path,
    rules: Arc<RuleSet>,
    scratch: Option<&Path>,
) -> anyhow::Result<IngestReport> {
    let files = crate::source::files::discover(&[path.to_path_buf()])?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tmp;
    let data_root: PathBuf = match scratch {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            p.join(format!("bench-{}", std::process::id()))
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("deskmail-bench")
                .tempdir()?;
            tmp.path().join("data")
        }
    };
    let limits = ParseLimits::default();
    let mut phases = Vec::new();

    // 1. The full pipeline, as `deskmail ingest` runs it.
    let rss_ok = reset_peak_rss();
    let started = Instant::now();
    let pipeline = Pipeline::open(&DataDir::new(&data_root), Arc::clone(&rules), limits)?;
    let summary = crate::intake::ingest(
        Arc::new(pipeline),
        raw_mail_from_files(files.clone(), "bench".into(), None),
        threads,
        &|_| {},
    )?;
    let handled = summary.ingested + summary.duplicates + summary.rejected;
    phases.push(phase(
        "full pipeline (parse+rules+store+tantivy)",
        handled,
        summary.bytes,
        started.elapsed(),
        rss_ok.then(peak_rss_mib).flatten(),
    ));

    // 2. Parse only and parse + rules, one thread, messages already in memory.
    let raws: Vec<RawMail> = raw_mail_from_files(files.clone(), "bench".into(), None)
        .filter_map(Result::ok)
        .collect();
    let bytes: u64 = raws.iter().map(|r| r.bytes.len() as u64).sum();
    let mut in_memory = |name: &str, work: &dyn Fn(&RawMail)| {
        reset_peak_rss();
        let started = Instant::now();
        raws.iter().for_each(work);
        phases.push(phase(
            name,
            raws.len() as u64,
            bytes,
            started.elapsed(),
            rss_ok.then(peak_rss_mib).flatten(),
        ));
    };
    in_memory("parse only (1 thread, in memory)", &|r| {
        std::hint::black_box(parse(r, &limits).is_ok());
    });
    in_memory("parse + rules (1 thread, in memory)", &|r| {
        if let Ok(m) = parse(r, &limits) {
            std::hint::black_box(rules.evaluate(&m));
        }
    });

    if scratch.is_some() {
        let _ = std::fs::remove_dir_all(&data_root);
    }
    Ok(IngestReport {
        path: path.display().to_string(),
        files: files.len(),
        threads,
        phases,
        stored: summary.ingested,
        rejected: summary.rejected,
        committer: summary.timings.clone(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub runs: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl fmt::Display for SearchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "CLI search, whole process, {} runs: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            self.runs, self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Time `deskmail search --data DIR --json QUERY` as separate processes (process start included),
/// cycling through the queries: the `deskmail` front beside this executable, as people run it.
pub fn cli_search(data: &Path, queries: &[String], runs: usize) -> anyhow::Result<SearchReport> {
    let exe = match crate::exe::beside_this(crate::exe::FRONT) {
        Some(front) => front,
        None => std::env::current_exe()?,
    };
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs.max(1) {
        let q = &queries[i % queries.len()];
        let started = Instant::now();
        let out = std::process::Command::new(&exe)
            .args(["search", "--json", "--data"])
            .arg(data)
            .arg(q)
            .stdout(std::process::Stdio::null())
            .status()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(out.success(), "search {q:?} failed");
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    Ok(SearchReport {
        runs: times.len(),
        p50_ms: pct(0.5),
        p90_ms: pct(0.9),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
    })
}

/// Per-document cost of reading invoices: an XML e-invoice parsed into the model, a PDF's
/// text, and a hybrid PDF's embedded XML on top of its text.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTiming {
    pub path: String,
    pub bytes: usize,
    /// "UBL, XRechnung 3.0 (2 lines)" when the file is or carries an e-invoice.
    pub einvoice: Option<String>,
    /// (phase, median microseconds over the runs).
    pub phases: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentsReport {
    pub runs: usize,
    pub documents: Vec<DocumentTiming>,
}

impl fmt::Display for DocumentsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "median of {} runs per document", self.runs)?;
        for d in &self.documents {
            let phases: Vec<String> = d
                .phases
                .iter()
                .map(|(name, us)| format!("{name} {us:.0} µs"))
                .collect();
            writeln!(
                f,
                "{:<48} {:>8} B  {}  [{}]",
                d.path,
                d.bytes,
                phases.join(", "),
                d.einvoice.as_deref().unwrap_or("no e-invoice")
            )?;
        }
        Ok(())
    }
}

/// Median wall time of `f` over `runs` runs, in microseconds.
fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e6
}

fn einvoice_label(e: &crate::model::EInvoice) -> String {
    format!(
        "{} ({} lines)",
        crate::einvoice::format_label(e),
        e.lines.len()
    )
}

/// `deskmail bench documents FILE...`: XML and PDF invoices, each timed `runs` times.
pub fn documents(paths: &[PathBuf], runs: usize) -> anyhow::Result<DocumentsReport> {
    use crate::parse::pdf;
    let mut out = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path.display().to_string();
        let mut timing = DocumentTiming {
            path: name.clone(),
            bytes: bytes.len(),
            einvoice: None,
            phases: Vec::new(),
        };
        if bytes.starts_with(b"%PDF-") {
            let doc = match pdf::load(&bytes) {
                Ok(doc) => doc,
                Err(e) => {
                    // Encrypted, corrupt: listed with the reason, not timed.
                    timing.einvoice = Some(format!("unreadable: {e}"));
                    out.push(timing);
                    continue;
                }
            };
            let limit = ParseLimits::default().pdf.max_text_bytes;
            timing.phases.push((
                "PDF text only (load + render)".into(),
                median_us(runs, || {
                    if let Ok(d) = pdf::load(&bytes) {
                        let _ = pdf::render_plain_text(&d);
                    }
                }),
            ));
            timing.phases.push((
                "PDF text + layout (one pass)".into(),
                median_us(runs, || {
                    if let Ok(d) = pdf::load(&bytes) {
                        let _ = pdf::render_text(&d, limit);
                    }
                }),
            ));
            let read_embedded = || {
                pdf::embedded_files(&doc)
                    .iter()
                    .filter_map(|f| f.bytes.as_ref().ok())
                    .find_map(|b| crate::einvoice::read(b, &name).ok())
            };
            timing.einvoice = read_embedded().map(|e| einvoice_label(&e));
            timing.phases.push((
                "embedded XML on top (find + inflate + read)".into(),
                median_us(runs, || {
                    let _ = read_embedded();
                }),
            ));
        } else if name.ends_with(".eml") {
            // A message: the generic extractor over its parsed layouts (parsing not timed).
            let raw = RawMail {
                mailbox: "bench".into(),
                role: None,
                origin: name.clone(),
                bytes: bytes.clone(),
            };
            let msg =
                parse(&raw, &ParseLimits::default()).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let settings = crate::extract::Settings::default();
            timing.phases.push((
                "layout extraction and scoring".into(),
                median_us(runs, || {
                    let _ = crate::extract::extract(&msg, &settings);
                }),
            ));
        } else if crate::einvoice::looks_like_xml(&bytes) {
            timing.einvoice = crate::einvoice::read(&bytes, &name)
                .ok()
                .map(|e| einvoice_label(&e));
            timing.phases.push((
                "XML e-invoice read".into(),
                median_us(runs, || {
                    let _ = crate::einvoice::read(&bytes, &name);
                }),
            ));
        } else {
            anyhow::bail!("{name} is neither a PDF, an .eml nor XML");
        }
        out.push(timing);
    }
    Ok(DocumentsReport {
        runs,
        documents: out,
    })
}
