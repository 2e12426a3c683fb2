//! The web page in a real browser: Debian's Chromium driven by Playwright (tests/browser/page.mjs)
//! against `deskmail serve`. scripts/test.sh installs chromium and the npm package.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

mod common;
use common::{deskmail, root};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ingest `inputs`, make an agent token, serve.
fn serve(data: &Path, inputs: &[PathBuf]) -> (Server, String) {
    let mut args = vec!["ingest", "--data", data.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = deskmail(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = deskmail(&[
        "token",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--role",
        "agent",
        "--name",
        "browser",
    ]);
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().trim_start_matches("listening on ").to_string();
    (Server { child, base }, token)
}

fn browse(server: &Server, token: &str, query: &str) -> Value {
    let dir = root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "run scripts/test.sh (it installs chromium and playwright-core into tests/browser)"
    );
    let out = Command::new("node")
        .current_dir(&dir)
        .args(["page.mjs", &server.base, token, query])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("page.mjs prints JSON")
}

fn assert_inert(seen: &Value) {
    assert_eq!(
        seen["dialogs"],
        serde_json::json!([]),
        "a dialog opened: {seen}"
    );
    assert_eq!(seen["pageErrors"], serde_json::json!([]), "{seen}");
    assert_eq!(
        seen["foreignRequests"],
        serde_json::json!([]),
        "the page fetched elsewhere: {seen}"
    );
    let planted = &seen["planted"];
    assert_eq!(planted["xssFlag"], false, "a message's script ran: {seen}");
    assert_eq!(
        planted["handlers"],
        serde_json::json!([]),
        "event handlers in the DOM: {seen}"
    );
    assert_eq!(planted["foreignElements"], 0, "{seen}");
    let scripts = planted["scripts"].as_array().unwrap();
    assert_eq!(scripts.len(), 1, "only the page's own script: {seen}");
    assert!(scripts[0].as_str().unwrap().ends_with("/app.js"));
}

#[test]
fn an_agent_searches_and_opens_a_thread_with_its_decision() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, token) = serve(&data, &[root().join("fixtures/mail/ap")]);
    let seen = browse(&server, &token, "invoice:INV-20417");
    assert_eq!(seen["loginShown"], true);
    assert_eq!(seen["count"], "1 threads", "{seen}");
    let hit = &seen["hits"][0];
    assert!(hit["subject"].as_str().unwrap().contains("INV-20417"));
    let thread = &seen["threads"][0];
    let text = thread["text"].as_str().unwrap();
    assert!(
        thread["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ap.invoice"),
        "{seen}"
    );
    // The decision: extracted fields with where they came from and the rule that decided.
    let rows: Vec<&str> = thread["fieldRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("invoice_number") && r.contains("INV-20417")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("amount_total") && r.contains("1234.56")),
        "{rows:?}"
    );
    assert!(text.contains("vendor invoice"), "the matched rule is shown");
    // The invoice view lists AP invoices with vendor, number, amount and due date.
    let invoices: Vec<&str> = seen["invoiceRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(invoices.len() > 10, "{invoices:?}");
    assert!(
        invoices.iter().any(|r| r.contains("INV-20417")
            && r.contains("1234.56 USD")
            && r.contains("2026-04-19")),
        "{invoices:?}"
    );
    assert_inert(&seen);
}

/// Hostile subjects, names, bodies and attachment names must show as text and never run.
#[test]
fn hostile_mail_stays_inert_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("xss");
    std::fs::create_dir_all(&corpus).unwrap();
    let messages = [
        (
            "subject.eml",
            "From: Mallory <m@attacker.example>\r\nTo: ap@ourcompany.example\r\nSubject: <script>alert('subject')</script> xsscorpus one\r\nMessage-ID: <x1@attacker.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nxsscorpus <img src=x onerror=\"window.__xss=1\"> plain text body\r\n".to_string(),
        ),
        (
            "name.eml",
            "From: \"<img src=x onerror=alert('name')>\" <m2@attacker.example>\r\nTo: ap@ourcompany.example\r\nSubject: xsscorpus two \"><svg onload=alert(2)>\r\nMessage-ID: <x2@attacker.example>\r\nDate: Mon, 02 Nov 2026 10:01:00 +0000\r\n\r\nxsscorpus javascript:alert(3) <a href=\"javascript:alert(3)\">x</a>\r\n".to_string(),
        ),
        (
            "html.eml",
            "From: m3@attacker.example\r\nTo: ap@ourcompany.example\r\nSubject: xsscorpus three\r\nMessage-ID: <x3@attacker.example>\r\nDate: Mon, 02 Nov 2026 10:02:00 +0000\r\nContent-Type: text/html\r\n\r\n<html><body onload=\"window.__xss=4\"><script>window.__xss=5;alert(5)</script><p>xsscorpus html body</p><img src=\"http://attacker.example/pixel.png\" onerror=\"window.__xss=6\"><iframe src=\"http://attacker.example/\"></iframe></body></html>\r\n".to_string(),
        ),
        (
            "attachment.eml",
            "From: m4@attacker.example\r\nTo: ap@ourcompany.example\r\nSubject: xsscorpus four\r\nMessage-ID: <x4@attacker.example>\r\nDate: Mon, 02 Nov 2026 10:03:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nxsscorpus see attachment\r\n--b\r\nContent-Type: application/octet-stream; name=\"<img src=x onerror=alert(7)>.pdf\"\r\nContent-Disposition: attachment; filename=\"<img src=x onerror=alert(7)>.pdf\"\r\n\r\nnot really a pdf\r\n--b--\r\n".to_string(),
        ),
    ];
    for (name, text) in &messages {
        std::fs::write(corpus.join(name), text).unwrap();
    }
    let data = dir.path().join("data");
    let (server, token) = serve(&data, &[corpus]);
    let seen = browse(&server, &token, "xsscorpus");
    assert_eq!(seen["count"], "4 threads", "{seen}");
    assert_eq!(seen["threads"].as_array().unwrap().len(), 4);
    assert_inert(&seen);
    // The hostile text is there to read, as text.
    let all: String = seen["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap().to_string())
        .collect();
    assert!(all.contains("<script>alert('subject')</script>"), "{all}");
    assert!(all.contains("<img src=x onerror=alert('name')>"), "{all}");
    assert!(all.contains("<img src=x onerror=alert(7)>.pdf"), "{all}");
    assert!(all.contains("xsscorpus html body"));
    assert!(
        !all.contains("window.__xss=5"),
        "script text from HTML is not shown as body"
    );
}

/// An XML-only e-invoice read in the page without another tool: format and profile, parties,
/// every line item with quantity, unit price, net amount and VAT rate, and the totals.
#[test]
fn an_agent_reads_an_xml_only_e_invoice_with_its_line_items() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, token) = serve(&data, &[root().join("fixtures/einvoice/mail")]);
    let seen = browse(&server, &token, "filename:INV_2026_0042.xml");
    assert_inert(&seen);
    let golden: Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/einvoice/mail/xrechnung-ubl-invoice.expected.json"))
            .unwrap(),
    )
    .unwrap();
    let thread = &seen["threads"][0];
    let headings = thread["einvoiceHeadings"].as_array().unwrap();
    assert!(
        headings
            .iter()
            .any(|h| h == "E-invoice · invoice 2026-0042 · XRechnung 3.0 (UBL)"),
        "{headings:?}"
    );
    let rows: Vec<Vec<String>> = thread["einvoiceLineRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    for line in golden["einvoice"]["lines"].as_array().unwrap() {
        let want = [
            line["description"].as_str().unwrap(),
            line["unit_price"].as_str().unwrap(),
            line["net_amount"].as_str().unwrap(),
        ];
        assert!(
            rows.iter()
                .any(|r| want.iter().all(|w| r.iter().any(|c| c == w))
                    && r[2].starts_with(line["quantity"].as_str().unwrap())
                    && r[5] == format!("{} %", line["vat_rate"].as_str().unwrap())),
            "line {line} not shown in {rows:?}"
        );
    }
    let totals = thread["einvoiceTotals"].as_array().unwrap();
    assert!(
        totals.iter().any(|t| t == "Total with VAT1369.82 EUR"),
        "{totals:?}"
    );
    let text = thread["text"].as_str().unwrap();
    assert!(
        text.contains("Seller: Muster Lieferant GmbH · VAT ID DE123456788"),
        "{text}"
    );
}
