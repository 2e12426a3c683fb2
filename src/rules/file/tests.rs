use super::*;

fn read(text: &str) -> Result<RuleFile, Vec<String>> {
    let (file, errs) = read_rule_file("rules/t.toml", Path::new("rules"), text);
    if errs.is_empty() {
        Ok(file)
    } else {
        Err(errs.iter().map(|e| e.to_string()).collect())
    }
}

#[test]
fn a_good_rule_reads_into_specs() {
    let f = read(
        r#"
[[rule]]
name = "vendor invoice"
category = "ap.invoice"
priority = 50
when.any = [ { subject = "invoice" }, { attachment_name = ["inv.*\\.pdf$", "rechnung"] } ]
when.not = [ { header."Auto-Submitted" = "auto-replied" } ]
extract.invoice_number = { pattern = "invoice no\\.? {ref}" }
extract.amount_total = { pattern = "total {amount}", from = ["body", "attachments"] }
actions = [ { reply = "ap-acknowledge" }, { move_to = "AP/Received" } ]

[[rule.example]]
file = "../fixtures/x.eml"
expect = { category = "ap.invoice", invoice_number = "INV-1" }
"#,
    )
    .unwrap();
    let r = &f.rules[0];
    assert_eq!(r.name, "vendor invoice");
    assert_eq!(r.priority, 50);
    assert_eq!(r.extract.len(), 2);
    let amount = r.extract.iter().find(|f| f.name == "amount_total").unwrap();
    assert_eq!(amount.kind, FieldKind::Amount);
    assert_eq!(amount.from, vec![Source::Body, Source::AttachmentText]);
    assert_eq!(r.actions.len(), 2);
    assert_eq!(r.examples[0].file, Path::new("rules/../fixtures/x.eml"));
    match &r.when {
        Cond::All(parts) => {
            assert!(matches!(&parts[0], Cond::Any(list) if list.len() == 2));
            assert!(
                matches!(&parts[1], Cond::Not(list) if matches!(&list[0], Cond::Match { source: Source::Header(h), .. } if h == "Auto-Submitted"))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn every_mistake_is_reported_at_once_with_its_line() {
    let errs = read(
        r#"[[rule]]
name = "a"
category = "ap.invoice"
when = { subjct = "invoice" }

[[rule]]
name = "b"
category = "Bad Category"
when = { subject = "x" }
extract.total = { pattern = "x", type = "money" }
actions = [ { repyl = "t" } ]
"#,
    )
    .unwrap_err();
    assert_eq!(
        errs,
        vec![
            "rules/t.toml:4: unknown condition \"subjct\" (did you mean \"subject\"?)",
            "rules/t.toml:8: category \"Bad Category\" must be lowercase letters, digits, '.' and '_' (like \"ap.invoice\")",
            "rules/t.toml:10: unknown field type \"money\" (expected text, amount, date, days or currency)",
            "rules/t.toml:11: unknown action \"repyl\" (did you mean \"reply\"?)",
        ]
    );
}

#[test]
fn toml_syntax_errors_carry_a_line() {
    let errs = read("[[rule]]\nname = \"a\nwhen = {}\n").unwrap_err();
    assert!(
        errs[0].starts_with("rules/t.toml:2: TOML syntax"),
        "{errs:?}"
    );
}

#[test]
fn missing_parts_are_named() {
    let errs = read("[[rule]]\nname = \"a\"\ncategory = \"x\"\n").unwrap_err();
    assert_eq!(
        errs,
        vec!["rules/t.toml:1: rule \"a\" has no \"when\" conditions"]
    );
    let errs = read("[[rule]]\nname = \"a\"\nwhen = { body = \"x\" }\n").unwrap_err();
    assert_eq!(
        errs,
        vec!["rules/t.toml:1: rule \"a\" sets no category, extracts nothing and has no actions"]
    );
    let errs = read("[[rule]]\nname = \"a\"\ncategory = \"x\"\nwhen = { at_least = 3, of = [ { body = \"x\" } ] }\n").unwrap_err();
    assert_eq!(
        errs,
        vec!["rules/t.toml:4: \"at_least = 3\" but \"of\" lists only 1 conditions"]
    );
}
