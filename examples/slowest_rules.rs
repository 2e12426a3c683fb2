//! Which messages cost the rules stage the most: parse every message under a path, time
//! `RuleSet::evaluate` on each, print the total and the slowest ten. A profiling aid.
//!
//!     cargo run --release --example slowest_rules -- ../shared/corpus/spamassassin rules

use std::time::Instant;

use deskmail::parse::{ParseLimits, parse};
use deskmail::pipeline::raw_mail_from_files;
use deskmail::rules::RuleSet;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a path to mail");
    let rules = RuleSet::load_dir(std::path::Path::new(&args.next().unwrap_or("rules".into())))
        .expect("rules load");
    let files = deskmail::source::files::discover(&[path.into()]).expect("files");
    let mut times = Vec::new();
    let mut total = 0.0;
    let mut extract_total = 0.0;
    let mut extracted = 0;
    for raw in raw_mail_from_files(files, "x".into(), None).flatten() {
        let Ok(msg) = parse(&raw, &ParseLimits::default()) else {
            continue;
        };
        let t = Instant::now();
        let d = rules.evaluate(&msg);
        let s = t.elapsed().as_secs_f64();
        total += s;
        if d.category == "ap.invoice" || d.category == "ap.credit_note" {
            let t = Instant::now();
            let _ = deskmail::extract::extract(&msg, &deskmail::extract::Settings::default());
            extract_total += t.elapsed().as_secs_f64();
            extracted += 1;
        }
        times.push((
            s,
            raw.origin.clone(),
            d.category.clone(),
            msg.body_text.len(),
        ));
    }
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "{} messages, rules {:.3} s in all; the extractor alone on the {extracted} invoices: {:.3} s",
        times.len(),
        total,
        extract_total
    );
    for (s, origin, cat, len) in times.iter().take(10) {
        println!("{:8.3} ms  {cat:<20} body {len:>7} B  {origin}", s * 1000.0);
    }
}
