use super::*;
use crate::model::Action;
use crate::parse::{ParseLimits, parse};
use compile::{Mode, ascii_word_boundaries, expand};

fn rules(text: &str) -> RuleSet {
    RuleSet::from_sources(Path::new("rules"), &[("rules/t.toml".into(), text.into())]).unwrap()
}

fn errors(text: &str) -> Vec<String> {
    RuleSet::from_sources(Path::new("rules"), &[("rules/t.toml".into(), text.into())])
        .unwrap_err()
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect()
}

fn msg(text: &str) -> Message {
    parse(
        &RawMail {
            role: None,
            mailbox: "t".into(),
            origin: "t".into(),
            bytes: text.as_bytes().to_vec(),
        },
        &ParseLimits::default(),
    )
    .unwrap()
}

const TWO_RULES: &str = r#"
[[rule]]
name = "out of office"
category = "auto.out_of_office"
priority = 100
when.any = [ { header."Auto-Submitted" = "auto-replied" }, { subject = "^automatic reply" } ]

[[rule]]
name = "invoice"
category = "ap.invoice"
when.any = [ { subject = "\\binvoice\\b" }, { attachment_name = "inv.*\\.pdf$" } ]
extract.invoice_number = { pattern = "invoice\\s*(?:no\\.?|#)\\s*{ref}" }
extract.amount_total = { pattern = "total\\s*:?\\s*{amount}" }
actions = [ { reply = "ap-acknowledge" } ]
"#;

#[test]
fn highest_priority_category_wins_and_lower_category_rules_are_skipped() {
    let set = rules(TWO_RULES);
    let d = set.evaluate(&msg("Subject: Automatic reply: Invoice no 4411\nAuto-Submitted: auto-replied\n\nI am away. Invoice no INV-4411\n"));
    assert_eq!(d.category, "auto.out_of_office");
    assert!(
        d.fields.is_empty(),
        "an auto-reply must not pick up invoice fields: {:?}",
        d.fields
    );
    assert!(d.actions.is_empty());
    assert_eq!(d.matched_rules.len(), 1);
    assert_eq!(d.rules_version, set.version());
}

#[test]
fn extraction_records_provenance_and_actions() {
    let set = rules(TWO_RULES);
    let d = set.evaluate(&msg(
        "Subject: Invoice no INV-4411\n\nHello,\nTotal: 2026-01-01\n",
    ));
    assert_eq!(d.category, "ap.invoice");
    let f = &d.fields["invoice_number"];
    assert_eq!(f.value.canonical(), "INV-4411");
    assert_eq!(f.provenance.source, "subject");
    assert_eq!(f.provenance.rule, "invoice");
    assert_eq!(
        d.actions,
        vec![Action::Reply {
            template: "ap-acknowledge".into()
        }]
    );
    assert_eq!(
        d.matched_rules[0].why,
        vec!["subject matches \"\\\\binvoice\\\\b\""]
    );
}

#[test]
fn no_match_is_other() {
    let d = rules(TWO_RULES).evaluate(&msg("Subject: lunch?\n\nPizza at noon\n"));
    assert_eq!(d.category, "other");
    assert!(d.matched_rules.is_empty());
}

#[test]
fn not_and_at_least_conditions() {
    let set = rules(
        r#"
[[rule]]
name = "statement"
category = "ap.statement"
when.at_least = 2
when.of = [ { subject = "statement" }, { body = "open items" }, { body = "balance" } ]
when.not = { from_address = "noreply@" }
"#,
    );
    assert_eq!(
        set.evaluate(&msg(
            "From: a@x.example\nSubject: Statement\n\nopen items below\n"
        ))
        .category,
        "ap.statement"
    );
    assert_eq!(
        set.evaluate(&msg("From: a@x.example\nSubject: Statement\n\nhello\n"))
            .category,
        "other"
    );
    assert_eq!(
        set.evaluate(&msg(
            "From: noreply@x.example\nSubject: Statement\n\nopen items\n"
        ))
        .category,
        "other"
    );
}

#[test]
fn disabled_rules_and_stop() {
    let set = rules(
        r#"
[[rule]]
name = "tag po"
priority = 10
stop = true
when = { body = "PO" }
extract.po_number = { pattern = "PO[- ]?(?P<value>\\d+)" }

[[rule]]
name = "off"
disabled = true
category = "x"
when = { body = "." }
"#,
    );
    let d = set.evaluate(&msg("Subject: s\n\nPO-77\n"));
    assert_eq!(d.category, "other");
    assert_eq!(
        d.field_strings().get("po_number").map(String::as_str),
        Some("77")
    );
    assert_eq!(set.rule_count(), 1);
}

#[test]
fn defines_expand_and_unknown_placeholders_are_errors() {
    let set = rules(
        r#"
[define]
inv = "(?:invoice|rechnung)"

[[rule]]
name = "r"
category = "ap.invoice"
when = { subject = "{inv}" }
"#,
    );
    assert_eq!(
        set.evaluate(&msg("Subject: Rechnung 5\n\nx\n")).category,
        "ap.invoice"
    );
    assert_eq!(
        errors("[[rule]]\nname = \"r\"\ncategory = \"a\"\nwhen = { subject = \"{nope}\" }\n"),
        vec!["rules/t.toml:4: unknown placeholder {nope} (known: amount, date, ref, terms)"]
    );
}

#[test]
fn bad_regexes_and_duplicate_names_are_all_reported() {
    let errs = errors(
        r#"[[rule]]
name = "r"
category = "a"
when = { subject = "(unclosed" }

[[rule]]
name = "r"
category = "b"
when = { body = "ok" }
extract.x = { pattern = "[z-a]" }
"#,
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs[0].starts_with("rules/t.toml:4: invalid pattern:"),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e
                .starts_with("rules/t.toml:6: rule name \"r\" is already used at rules/t.toml:1")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("rules/t.toml:10: invalid pattern:")),
        "{errs:?}"
    );
}

#[test]
fn a_condition_too_large_once_compiled_is_reported_at_its_line() {
    // Condition patterns are only parsed on their own; their set compiles them. A set that
    // cannot be compiled still names the pattern at fault, not just the rules directory.
    let errs = errors(
        r#"[[rule]]
name = "fine"
category = "a"
when = { subject = "invoice" }

[[rule]]
name = "huge"
category = "b"
when = { body = '\w{40000}' }
"#,
    );
    assert_eq!(
        errs,
        vec!["rules/t.toml:9: pattern is too large once compiled in \"\\\\w{40000}\""]
    );
}

#[test]
fn expand_leaves_regex_repetitions_alone() {
    let d = BTreeMap::new();
    assert_eq!(
        expand(r"\d{2,4}x{3}", &d, Mode::Extract).unwrap(),
        r"\d{2,4}x{3}"
    );
    assert_eq!(
        expand(r"a\{amount}", &d, Mode::Extract).unwrap(),
        r"a\{amount}"
    );
    let e = expand("t {amount} {date}", &d, Mode::Extract).unwrap();
    assert_eq!(e.matches("(?P<value>").count(), 1);
}

#[test]
fn word_boundaries_become_ascii_so_the_fast_engine_runs() {
    assert_eq!(
        ascii_word_boundaries(r"\binvoice\b \\b \Bx"),
        r"(?-u:\b)invoice(?-u:\b) \\b (?-u:\B)x"
    );
    let set = rules(
        "[[rule]]\nname = \"r\"\ncategory = \"ap.invoice\"\nwhen = { body = '\\bfacture\\b' }\n",
    );
    assert_eq!(
        set.evaluate(&msg("Subject: x\n\nvoici la facture n\u{b0} 5, réglée\n"))
            .category,
        "ap.invoice"
    );
    assert_eq!(
        set.evaluate(&msg("Subject: x\n\nfactures\n")).category,
        "other"
    );
}

/// A message to ap@ with `xml` attached (base64, any name and type), and a body whose own
/// numbers disagree with the XML.
fn einvoice_mail(xml: &str, extra_headers: &str) -> Message {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
    msg(&format!(
        "From: Billing <billing@muster.example>\nTo: ap@ourcompany.example\nSubject: Dokumente 2026\n{extra_headers}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nInvoice no INV-9999, total 999.00 EUR.\n--b\nContent-Type: application/octet-stream; name=\"INV_2026_0042\"\nContent-Disposition: attachment; filename=\"INV_2026_0042\"\nContent-Transfer-Encoding: base64\n\n{b64}\n--b--\n"
    ))
}

const EINVOICE_RULES: &str = r#"
[[rule]]
name = "out of office"
category = "auto.out_of_office"
priority = 100
stop = true
when.any = [ { header."Auto-Submitted" = "auto-replied" } ]

[[rule]]
name = "e-invoice"
category = "ap.invoice"
priority = 90
when.all = [ { einvoice = '^invoice$' } ]

[[rule]]
name = "big German e-invoice"
priority = 80
when.all = [ { field.amount_total = { min = "1000" } }, { field.vendor_vat_id = '^DE' } ]
actions = [ { flag = "four-eyes" } ]

[[rule]]
name = "note, no category"
priority = 70
when.any = [ { body = "invoice" } ]
extract.note = { pattern = "(?P<value>Invoice no)" }
extract.amount_total = { pattern = "total\\s*{amount}" }

[[rule]]
name = "regex invoice"
category = "ap.invoice"
when.any = [ { body = "invoice" } ]
extract.invoice_number = { pattern = "invoice\\s*no\\s*{ref}" }
extract.amount_total = { pattern = "total\\s*{amount}" }
"#;

#[test]
fn e_invoice_fields_win_over_any_regex_and_name_their_business_term() {
    let fixed = crate::einvoice::tests::UBL.replace(">187.10<", ">188.10<");
    let d = rules(EINVOICE_RULES).evaluate(&einvoice_mail(&fixed, ""));
    assert_eq!(d.category, "ap.invoice");
    assert_eq!(d.category_rule.as_deref(), Some("e-invoice"));
    let f = d.field_strings();
    assert_eq!(f["invoice_number"], "2026-0042", "not the body's INV-9999");
    assert_eq!(f["amount_total"], "1178.10", "not the body's 999.00");
    assert_eq!(f["amount_due"], "1078.10");
    assert_eq!(f["amount_net"], "990.00");
    assert_eq!(f["amount_tax"], "188.10");
    assert_eq!(f["currency"], "EUR");
    assert_eq!(f["vendor"], "Muster Lieferant GmbH");
    assert_eq!(f["vendor_vat_id"], "DE123456789");
    assert_eq!(f["iban"], "DE02120300000000202051", "spaces removed");
    assert_eq!(f["due_date"], "2026-12-03");
    assert_eq!(f["note"], "Invoice no", "rules still add their own fields");
    let total = &d.fields["amount_total"].provenance;
    assert_eq!(total.rule, "e-invoice");
    assert_eq!(
        total.source,
        "xml BT-112 (attachment INV_2026_0042, UBL, XRechnung 3.0)"
    );
    // A rule can test the e-invoice's fields: amount ≥ 1000 from a German seller.
    assert!(d.actions.contains(&Action::Flag {
        keyword: "four-eyes".into()
    }));
    assert!(d.flags.is_empty(), "{:?}", d.flags);
    let e = d
        .einvoice
        .as_deref()
        .expect("the e-invoice is kept with the decision");
    assert_eq!(e.lines.len(), 2);
}

#[test]
fn field_conditions_compare_by_value_and_fail_when_the_field_is_absent() {
    let small = crate::einvoice::tests::UBL
        .replace(">187.10<", ">188.10<")
        .replace(">1178.10<", ">178.10<");
    let d = rules(EINVOICE_RULES).evaluate(&einvoice_mail(&small, ""));
    assert!(d.actions.is_empty(), "178.10 is below the minimum");
    let d =
        rules(EINVOICE_RULES).evaluate(&msg("Subject: x\n\ninvoice no INV-1 total 5000.00 EUR\n"));
    assert_eq!(d.field_strings()["amount_total"], "5000.00");
    assert!(
        d.actions.is_empty(),
        "a field extracted by a lower-priority rule is not known yet"
    );
}

#[test]
fn failed_arithmetic_is_flagged_and_an_auto_reply_carries_no_invoice_fields() {
    let d = rules(EINVOICE_RULES).evaluate(&einvoice_mail(crate::einvoice::tests::UBL, ""));
    assert_eq!(d.flags, ["einvoice_arithmetic"]);
    assert_eq!(d.field_strings()["amount_tax"], "187.10", "kept as written");
    let d = rules(EINVOICE_RULES).evaluate(&einvoice_mail(
        crate::einvoice::tests::UBL,
        "Auto-Submitted: auto-replied\n",
    ));
    assert_eq!(d.category, "auto.out_of_office");
    assert!(d.fields.is_empty(), "{:?}", d.fields);
    assert!(d.flags.is_empty() && d.einvoice.is_none());
}

#[test]
fn an_xml_that_cannot_be_read_says_why_in_the_decision() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>"#;
    let d = rules(EINVOICE_RULES).evaluate(&einvoice_mail(xxe, ""));
    assert!(d.einvoice.is_none());
    assert_eq!(d.einvoice_errors.len(), 1);
    assert!(
        d.einvoice_errors[0]
            .starts_with("attachment INV_2026_0042: XML with a document type declaration"),
        "{:?}",
        d.einvoice_errors
    );
    // Without an e-invoice, the regex rule decides as before.
    assert_eq!(d.field_strings()["invoice_number"], "INV-9999");
}

#[test]
fn field_and_einvoice_conditions_are_checked_when_the_file_is_read() {
    let errs = errors(
        r#"
[[rule]]
name = "x"
category = "ap.invoice"
when.all = [ { field.amount_total = { min = "a lot" } }, { field.due_date = { least = "2026-01-01" } }, { field.x = {} } ]
extract.y = { pattern = "(?P<value>x)", from = ["einvoice"] }
"#,
    );
    let joined = errs.join("\n");
    assert!(joined.contains("\"a lot\" is neither a number"), "{joined}");
    assert!(
        joined.contains("unknown field range key \"least\""),
        "{joined}"
    );
    assert!(
        joined.contains("field.x needs \"min\" or \"max\""),
        "{joined}"
    );
    assert!(joined.contains("unknown source \"einvoice\""), "{joined}");
}

const CONTEXT_RULES: &str = r#"
[[rule]]
name = "answer to our reminder"
category = "ar.reply"
priority = 60
when.all = [ { role = '^ar$' }, { replies_to = '@ourcompany\.example$' } ]

[[rule]]
name = "after a dispute"
category = "ar.follow_up"
priority = 50
when.all = [ { thread.previous_category = '^ar\.dispute$' }, { thread.first_from = '@customer\.example$' } ]

[[rule]]
name = "anything"
category = "other"
when.any = [ { subject = '.' } ]
"#;

fn in_role(text: &str, role: Option<crate::model::MailboxRole>) -> Message {
    let mut m = msg(text);
    m.role = role;
    m
}

#[test]
fn role_and_replies_to_conditions_read_the_mailbox_and_the_headers() {
    use crate::model::MailboxRole;
    let set = rules(CONTEXT_RULES);
    let reply = "Subject: Re: Payment reminder\nIn-Reply-To: <r-1@ourcompany.example>\n\nwe paid\n";
    assert_eq!(
        set.evaluate(&in_role(reply, Some(MailboxRole::Ar)))
            .category,
        "ar.reply"
    );
    assert_eq!(
        set.evaluate(&in_role(reply, Some(MailboxRole::Ap)))
            .category,
        "other"
    );
    assert_eq!(set.evaluate(&in_role(reply, None)).category, "other");
    let elsewhere = "Subject: Re: x\nReferences: <a@vendor.example>\n\nhi\n";
    assert_eq!(
        set.evaluate(&in_role(elsewhere, Some(MailboxRole::Ar)))
            .category,
        "other"
    );
}

#[test]
fn thread_conditions_read_what_the_store_knows_about_earlier_messages() {
    struct Known;
    impl PriorLookup for Known {
        fn prior(&self, id: &str) -> Option<PriorMessage> {
            match id {
                "root@customer.example" => Some(PriorMessage {
                    category: "ar.dispute".into(),
                    from_address: Some("ap@customer.example".into()),
                }),
                "mid@ourcompany.example" => Some(PriorMessage {
                    category: "other".into(),
                    from_address: Some("ar@ourcompany.example".into()),
                }),
                _ => None,
            }
        }
    }
    let set = rules(CONTEXT_RULES);
    // The parent is the root: previous = first = the customer's dispute.
    let m = msg(
        "Subject: Re: dispute\nIn-Reply-To: <root@customer.example>\nReferences: <root@customer.example>\n\nany news?\n",
    );
    let ctx = ThreadContext::of(&m, &Known);
    assert_eq!(ctx.previous.as_ref().unwrap().category, "ar.dispute");
    assert_eq!(set.evaluate_in(&m, &ctx).category, "ar.follow_up");
    // Parent is our answer (category other): previous_category no longer holds.
    let m = msg(
        "Subject: Re: Re: dispute\nIn-Reply-To: <mid@ourcompany.example>\nReferences: <root@customer.example> <mid@ourcompany.example>\n\nthanks\n",
    );
    let ctx = ThreadContext::of(&m, &Known);
    assert_eq!(ctx.first.as_ref().unwrap().category, "ar.dispute");
    assert_eq!(ctx.previous.as_ref().unwrap().category, "other");
    assert_eq!(set.evaluate_in(&m, &ctx).category, "other");
    // Without a store (evaluate), thread conditions never hold.
    assert_eq!(set.evaluate(&m).category, "other");
    // Misspelt thread keys are reported with a suggestion.
    let errs = errors(
        "[[rule]]\nname = \"x\"\ncategory = \"other\"\nwhen.all = [ { thread.previous_categry = 'x' } ]\n",
    );
    assert!(
        errs[0].contains(
            "unknown thread condition \"previous_categry\" (did you mean \"previous_category\"?)"
        ),
        "{errs:?}"
    );
}
