use super::*;
use crate::model::Action;
use crate::parse::{ParseLimits, parse};

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
