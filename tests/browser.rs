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
    start(data)
}

/// Make an agent token ("browser") for `data` and serve it.
fn start(data: &Path) -> (Server, String) {
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
    node("page.mjs", &[&server.base, token, query])
}

/// Run one of tests/browser's Playwright scripts; what it observed.
fn node(script: &str, args: &[&str]) -> Value {
    let dir = root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "run scripts/test.sh (it installs chromium and playwright-core into tests/browser)"
    );
    let out = Command::new("node")
        .current_dir(&dir)
        .arg(script)
        .args(args)
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
    if common::skip_without(common::Needs::Browser) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (server, token) = serve(&data, &[root().join("fixtures/mail/ap")]);
    let seen = browse(&server, &token, "invoice:INV-20417");
    assert_eq!(seen["loginShown"], true);
    assert_eq!(seen["count"], "1 threads, 2 messages", "{seen}");
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
    if common::skip_without(common::Needs::Browser) {
        return;
    }
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
    assert_eq!(seen["count"], "4 threads, 4 messages", "{seen}");
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
    if common::skip_without(common::Needs::Browser) {
        return;
    }
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

/// The review queue worked from the keyboard: j/k to the doubtful total, e to edit it, Enter to
/// save; j/k to the changed IBAN with the known and new details side by side, c to confirm it.
/// The correction is stored under the agent's name and the held acknowledgement is released.
#[test]
fn an_agent_works_the_review_queue_from_the_keyboard() {
    if common::skip_without(common::Needs::Browser) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let drop_dir = dir.path().join("drop");
    std::fs::create_dir_all(&drop_dir).unwrap();
    for f in [
        "guard/01-first-invoice.eml",
        "guard/03-changed-iban.eml",
        "guard/05-lookalike-domain.eml",
        "mail/ap/invoice-ch-de-chf-apostrophe-grouping.eml",
    ] {
        let from = root().join("fixtures").join(f);
        std::fs::copy(&from, drop_dir.join(from.file_name().unwrap())).unwrap();
    }
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"data\"\nrules = \"{}\"\n[[drop_folder]]\nname = \"ap\"\nrole = \"ap\"\npath = \"drop\"\n\
             [outbound]\nfrom = \"ap@ourcompany.example\"\ntemplates = \"{}\"\n\
             transport = {{ type = \"file\", dir = \"sent\" }}\n",
            root().join("rules").display(),
            root().join("templates").display()
        ),
    )
    .unwrap();
    let once = Command::new(env!("CARGO_BIN_EXE_deskmail"))
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        once.status.success(),
        "{}",
        String::from_utf8_lossy(&once.stderr)
    );
    let data = dir.path().join("data");
    let (server, token) = start(&data);
    let seen = node(
        "review.mjs",
        &[
            &server.base,
            &token,
            "CH-26-00871",
            "1142.00",
            "RE-2026-1003",
        ],
    );
    assert_inert(&seen);
    assert_eq!(seen["error"], "", "{seen}");
    assert_eq!(seen["buttonCount"], "(3)", "{seen}");
    let counts = seen["counts"].as_str().unwrap();
    for c in [
        "3 open",
        "bank_details_changed 1",
        "lookalike_sender 1",
        "field_doubtful 1",
    ] {
        assert!(counts.contains(c), "{c} in {counts}");
    }
    assert!(seen["visited"].as_array().unwrap().len() >= 2, "{seen}");
    // The doubtful total beside the words it came from, and the reply that waits for it.
    let rows = seen["fieldRows"].as_array().unwrap();
    let total = rows
        .iter()
        .find(|r| r[0] == "amount_total")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(total[1], "1234.50");
    assert_eq!(total[2], "60%");
    assert!(
        total[4].as_str().unwrap().contains("also found 1142.00"),
        "{total}"
    );
    assert!(
        seen["marks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("1'234.50")),
        "{seen}"
    );
    assert!(
        seen["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().ends_with("waiting for review")),
        "{seen}"
    );
    // e went to the least sure value; Enter saved the correction.
    assert_eq!(seen["editing"], "amount_total");
    assert!(
        seen["afterCorrect"].as_str().unwrap().contains("corrected"),
        "{seen}"
    );
    assert!(
        !seen["itemsAfterCorrect"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("CH-26-00871")),
        "{seen}"
    );
    // The guard: old and new bank details side by side; c confirmed and released the reply.
    let guard: Vec<Vec<String>> = seen["guardRows"]
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
    assert_eq!(
        guard[1],
        ["IBAN", "DE89370400440532013000", "DE44500105175407324931"]
    );
    assert_eq!(
        guard[2],
        [
            "domain",
            "muster-maschinenbau.example",
            "muster-maschinenbau.example"
        ]
    );
    assert!(
        seen["afterConfirm"]
            .as_str()
            .unwrap()
            .contains("confirmed (1 reply released)"),
        "{seen}"
    );
    assert!(
        seen["finalCounts"].as_str().unwrap().starts_with("1 open"),
        "{seen}"
    );
    drop(server);

    // What the page did is in the store, under the agent's name.
    let d = data.to_str().unwrap();
    let list: Value = serde_json::from_slice(
        &deskmail(&["review", "list", "--all", "--json", "--data", d]).stdout,
    )
    .unwrap();
    let corrected = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"].as_str().unwrap().contains("CH-26-00871"))
        .unwrap();
    assert_eq!(corrected["state"], "corrected");
    assert_eq!(corrected["decided_by"], "browser");
    let shown: Value = serde_json::from_slice(
        &deskmail(&[
            "review",
            "show",
            "--json",
            "--data",
            d,
            corrected["message_id"].as_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(shown["fields"]["amount_total"]["value"], "1142.00");
    assert_eq!(shown["corrections"][0]["before"], "1234.50");
    let outbox: Value =
        serde_json::from_slice(&deskmail(&["outbox", "list", "--json", "--data", d]).stdout)
            .unwrap();
    let state = |subject: &str| {
        outbox
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["subject"].as_str().unwrap().contains(subject))
            .map(|r| r["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state("RE-2026-1003").as_deref(), Some("queued"));
    assert_eq!(state("RE-2026-1005").as_deref(), Some("review"));
}

/// The Receivables view on a desk whose inbox disputed, paid and promised three of five
/// imported invoices: each row has its status, days overdue counted from the person's own
/// calendar day (the browser's clock is fixed at 23:30 UTC on 30 November, already 1 December
/// in Berlin), the last reminder the cadence sent and the message that changed it; Enter on a
/// row and a click on its event open that message's thread; the filters show what they name.
#[test]
fn an_agent_reads_the_receivables_with_their_reminders_and_the_mail_that_changed_them() {
    if common::skip_without(common::Needs::Browser) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = common::ar::desk(dir.path());
    let (server, token) = start(&data);
    let seen = node(
        "ar.mjs",
        &[
            &server.base,
            &token,
            "2026-11-30T23:30:00Z",
            "Europe/Berlin",
            "OC-2026-1001",
            "OC-2026-1010",
        ],
    );
    drop(server);
    assert_inert(&seen);
    assert_eq!(seen["consoleErrors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["error"], "", "{seen}");
    assert_eq!(seen["count"], "5 receivables · as of 2026-12-01", "{seen}");
    let filters: Vec<&str> = seen["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            "all (5)",
            "open (2)",
            "overdue (1)",
            "disputed (1)",
            "promised (1)",
            "paid (1)"
        ]
    );

    // Most overdue first; every column as a person reads it.
    let rows: Vec<(String, Vec<String>)> = seen["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["invoice"].as_str().unwrap().to_string(),
                r["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let order: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        order,
        [
            "OC-2026-1010",
            "OC-2026-1001",
            "OC-2026-1020",
            "OC-2026-1030",
            "OC-2026-1040"
        ]
    );
    let row = |n: &str| &rows.iter().find(|(x, _)| x == n).unwrap().1;
    // invoice, customer, amount, due, overdue, status, last reminder, changed by
    let disputed = row("OC-2026-1010");
    assert_eq!(disputed[2], "8640.00 USD");
    assert_eq!(disputed[3], "2026-11-01");
    assert_eq!(disputed[4], "30 days overdue");
    assert_eq!(disputed[5], "disputed");
    assert_eq!(disputed[6], "step +14 · 2026-11-16 · sent");
    assert!(
        disputed[7].starts_with("ar.dispute · 2026-04-06")
            && disputed[7].contains("Invoice OC-2026-1010 - incorrect amount"),
        "{disputed:?}"
    );
    let paid = row("OC-2026-1001");
    assert_eq!(paid[5], "paid");
    assert!(
        paid[7].starts_with("ar.remittance · 2026-03-27"),
        "{paid:?}"
    );
    let promised = row("OC-2026-1020");
    assert_eq!(promised[4], "21 days overdue");
    assert_eq!(promised[5], "promised until 2026-12-15");
    assert_eq!(promised[6], "step 0 · 2026-11-16 · sent");
    assert!(promised[7].starts_with("ar.promise_to_pay · 2026-11-27"));
    let open = row("OC-2026-1030");
    assert_eq!(open[4], "18 days overdue");
    assert_eq!(open[5], "open");
    assert_eq!(
        open[6], "step +7 · 2026-11-25 · sent",
        "the later of its two reminders"
    );
    assert_eq!(open[7], "—");
    let not_due = row("OC-2026-1040");
    assert_eq!(not_due[4], "due in 10 days");
    assert_eq!(not_due[6], "—");

    // j j k from the first row.
    assert_eq!(
        seen["path"],
        serde_json::json!([
            "OC-2026-1010",
            "OC-2026-1001",
            "OC-2026-1020",
            "OC-2026-1001"
        ])
    );
    // Enter and a click open the thread of the message that changed the invoice, below the list.
    let statuses = common::json_of(&deskmail(&[
        "invoices",
        "list",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    let by_message = |n: &str| {
        statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["invoice_number"] == n)
            .unwrap()["by_message"]
            .clone()
    };
    assert_eq!(seen["enterSelected"], "OC-2026-1001");
    let entered = &seen["enterThread"];
    assert_eq!(entered["visible"], true);
    assert!(
        entered["messages"]
            .as_array()
            .unwrap()
            .contains(&by_message("OC-2026-1001")),
        "{entered}"
    );
    assert!(
        entered["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ar.remittance")
    );
    assert_eq!(seen["arStillShown"], true);
    let clicked = &seen["clickThread"];
    assert!(
        clicked["messages"]
            .as_array()
            .unwrap()
            .contains(&by_message("OC-2026-1010")),
        "{clicked}"
    );
    assert!(
        clicked["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ar.dispute")
    );
    assert_eq!(seen["clickSelected"], "OC-2026-1010");

    // Each filter shows exactly what it names.
    let filtered = &seen["filtered"];
    assert_eq!(filtered["disputed"], serde_json::json!(["OC-2026-1010"]));
    assert_eq!(filtered["overdue"], serde_json::json!(["OC-2026-1030"]));
    assert_eq!(filtered["promised"], serde_json::json!(["OC-2026-1020"]));
    assert_eq!(filtered["paid"], serde_json::json!(["OC-2026-1001"]));
    assert_eq!(
        filtered["open"],
        serde_json::json!(["OC-2026-1030", "OC-2026-1040"])
    );
    assert_eq!(filtered["all"].as_array().unwrap().len(), 5);
}

/// A message the antivirus scan quarantined (a real clamd, scripts/clamd.sh) reaches an agent
/// with the warning first, naming the signature, and no link to open its attachment; the clean
/// invoice beside it carries no warning.
#[test]
fn an_agent_sees_a_quarantined_message_with_its_warning_and_nothing_to_open() {
    if common::skip_without(common::Needs::Browser) || common::skip_without(common::Needs::Clamd) {
        return;
    }
    use common::clamd::{Clamd, antivirus_section, eicar, invoice_with_attachment, write_config};
    let clamd = Clamd::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &antivirus_section(clamd.var("CLAMD_SOCKET")));
    let drop = dir.path().join("drop");
    std::fs::write(
        drop.join("clean.eml"),
        invoice_with_attachment("INV-40001", b"a statement"),
    )
    .unwrap();
    std::fs::write(
        drop.join("eicar.eml"),
        invoice_with_attachment("INV-40002", &eicar()),
    )
    .unwrap();
    let out = common::bin()
        .args(["run", "--once", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (server, token) = start(&dir.path().join("data"));

    let seen = browse(&server, &token, "category:quarantine");
    assert_inert(&seen);
    assert_eq!(seen["threads"].as_array().unwrap().len(), 1, "{seen}");
    let thread = &seen["threads"][0];
    let warning = thread["virusWarnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("Quarantined: the antivirus scan found Deskmail.Test.EICAR"),
        "{thread}"
    );
    assert_eq!(
        thread["warningIsFirst"][0], true,
        "the warning comes first: {thread}"
    );
    assert!(thread["text"].as_str().unwrap().contains("statement.bin"));
    assert_eq!(
        thread["links"],
        serde_json::json!([]),
        "nothing to open: {thread}"
    );

    let clean = browse(&server, &token, "invoice:INV-40001");
    let warnings = clean["threads"][0]["virusWarnings"].as_array().unwrap();
    assert!(
        !warnings.is_empty() && warnings.iter().all(Value::is_null),
        "{clean}"
    );
}
